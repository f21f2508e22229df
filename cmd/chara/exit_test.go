package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// charaIn runs the CLI in-process in workspace ws and returns the exit code,
// stdout and stderr.
func charaIn(ctx context.Context, ws string, args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(ctx, append([]string{"chara", "--workspace", ws}, args...), &out, &errb)
	return code, out.String(), errb.String()
}

func TestNormalizeArgs(t *testing.T) {
	app := newApp(nil, nil)
	for _, c := range []struct{ in, want string }{
		{"predict img.png --json --top 2", "predict --json --top 2 -- img.png"},
		{"predict img.png --top=2 -v", "-v predict --top=2 -- img.png"},
		{"train -v --epochs 3 --workspace ws", "-v --workspace ws train --epochs 3"},
		{"--workspace ws train --model cnn", "--workspace ws train --model cnn"},
		{"classes add Nino -q danbooru=nino --picture p.png", "classes add -q danbooru=nino --picture p.png -- Nino"},
		{"import photos --class Miku", "import --class Miku -- photos"},
		{"predict -- -odd.png --json", "predict -- -odd.png --json"},
		{"dataset build --name d2 -c other.yaml", "-c other.yaml dataset build --name d2"},
		{"train --lr -1", "train --lr -1"},
		{"help train", "help train"},
		{"train --help", "train --help"},
		{"", ""},
		{"predict img.png --generate-bash-completion", "predict img.png --generate-bash-completion"},
	} {
		in := append([]string{"chara"}, strings.Fields(c.in)...)
		got, err := normalizeArgs(app, in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		want := append([]string{"chara"}, strings.Fields(c.want)...)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q -> %q, want %q", c.in, got[1:], want[1:])
		}
	}
	for _, c := range []struct{ in, want string }{
		{"trian", `unknown command "trian"; did you mean "train"?`},
		{"dataset biuld", `dataset: unknown command "biuld"; did you mean "build"?`},
		{"train --epocs 3", "train: unknown flag --epocs; did you mean --epochs?"},
		{"predict x.png --jsn", "predict: unknown flag --jsn; did you mean --json?"},
		{"--verbos train", "unknown flag --verbos; did you mean --verbose?"},
		{"classes add X --query", "classes add: flag --query needs a value"},
		{"xyzzy", `unknown command "xyzzy" (see chara --help)`},
		{"help trian", `no help for "trian": not a command; did you mean "train"?`},
		{"--jsn version", "unknown flag --jsn (see chara --help)"},
	} {
		_, err := normalizeArgs(app, append([]string{"chara"}, strings.Fields(c.in)...))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.in, err, c.want)
		}
	}
}

// TestExitCodes runs every command at least once into each exit code it can
// reach cheaply: 0 ok, 1 error, 2 usage, 130 interrupted (README, Commands).
func TestExitCodes(t *testing.T) {
	tmp := t.TempDir()
	empty := filepath.Join(tmp, "empty") // no chara.yaml
	if err := os.MkdirAll(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	ws := filepath.Join(tmp, "ws") // chara init's template: never scraped here (real sites)
	if code, _, errs := charaIn(context.Background(), ws, "init"); code != 0 {
		t.Fatalf("init: exit %d: %s", code, errs)
	}
	site := filepath.Join(tmp, "site") // the local demo site
	startSite(t, site)
	imgs := filepath.Join(tmp, "imgs")
	if err := os.MkdirAll(imgs, 0o755); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		ws   string
		args string
		want int
	}{
		{ws, "trian", 2},
		{ws, "train --epocs 3", 2},
		{ws, "--log-format xml version", 2},
		{ws, "version", 0},
		{ws, "version -v", 0},
		{ws, "--version", 0},
		{ws, "help train", 0},
		{ws, "help trian", 2},
		{ws, "dataset help build", 0},
		{ws, "doctor", 0},

		{ws, "init", 1}, // exists, no --force
		{ws, "config show", 0},
		{ws, "config check", 0},
		{ws, "config check " + filepath.Join(tmp, "missing.yaml"), 1},
		{ws, "config check a b", 2},
		{ws, "config shwo", 2},
		{empty, "config show", 1},
		{ws, "init extra", 2},

		{site, "scrape --dry-run --class nobody", 2},
		{site, "scrape extra", 2},
		{empty, "scrape", 1},
		{site, "scrape --dry-run", 0},

		{ws, "import " + imgs, 2}, // no --class
		{ws, "import " + filepath.Join(tmp, "missing") + " --class Nakano Miku", 2},
		{ws, "import " + filepath.Join(tmp, "missing") + " --class", 2},
		{empty, "import " + imgs + " --class X", 1},

		{ws, "curate --workers -1", 2},
		{empty, "curate", 1},
		{ws, "curate", 0},

		{ws, "review --port 99999", 2},
		{empty, "review", 1},

		{ws, "dataset", 0}, // help
		{ws, "dataset build --name ../x", 2},
		{ws, "dataset build", 1}, // nothing curated
		{ws, "dataset verify", 1},
		{ws, "dataset export", 2}, // --out is required
		{ws, "dataset export --out " + filepath.Join(tmp, "exp"), 1},

		{ws, "classes list", 0},
		{ws, "classes list --dataset ../x", 2},
		{ws, "classes add", 2},
		{ws, "classes add Nakano Ichika", 2}, // two arguments
		{ws, "classes add Nakano_Rena -q nosuchsource=x", 2},
		{ws, "classes add Nakano_Rena -q danbooru=rena", 0},
		{ws, "classes remove Nakano_Rena", 0},
		{ws, "classes remove Nobody", 1},

		{ws, "train extra", 2},
		{ws, "train --model resnet", 2},
		{ws, "train --model cnn", 1}, // no dataset

		{ws, "weights fetch", 2},
		{ws, "weights fetch effnet-b0 --sha256 zz", 2},
		{ws, "weights check " + filepath.Join(tmp, "missing.pth"), 1},
		{ws, "weights list --dir " + filepath.Join(tmp, "wcache"), 0},

		{ws, "models nosuch", 2},
		{ws, "models cnn --classes 3", 0},

		{ws, "evaluate", 2},
		{ws, "evaluate r1 --split train", 2},
		{ws, "evaluate r1 --split val " + imgs, 2},
		{ws, "evaluate nosuchrun", 1},

		{ws, "compare", 1}, // no runs
		{ws, "compare nosuchrun", 1},

		{ws, "predict", 2},
		{ws, "predict x.png --top 0", 2},
		{ws, "predict x.png", 1}, // no run

		{ws, "serve --max-upload 0", 2},
		{ws, "serve", 1}, // no run

		{ws, "run --from nope", 2},
		{ws, "run extra", 2},
		{empty, "run", 1},

		{ws, "demo extra", 2},
		{ws, "demo --per-class 2", 2},
	}
	for _, c := range cases {
		code, _, errs := charaIn(context.Background(), c.ws, strings.Fields(c.args)...)
		if code != c.want {
			t.Errorf("chara %s: exit %d, want %d; stderr:\n%s", c.args, code, c.want, errs)
		}
		if code != 0 && strings.TrimSpace(errs) == "" {
			t.Errorf("chara %s: exit %d with nothing on stderr", c.args, code)
		}
	}

	// train --freeze with a model that has none is a usage error too, found
	// once the dataset is read.
	for _, args := range []string{"scrape", "curate", "dataset build"} {
		if code, _, errs := charaIn(context.Background(), site, strings.Fields(args)...); code != 0 {
			t.Fatalf("chara %s: exit %d: %s", args, code, errs)
		}
	}
	if code, _, errs := charaIn(context.Background(), site, "train", "--model", "cnn", "--freeze"); code != 2 {
		t.Errorf("train --model cnn --freeze: exit %d, want 2; stderr:\n%s", code, errs)
	}
	if runs, _ := os.ReadDir(filepath.Join(site, "runs")); len(runs) > 0 {
		t.Errorf("a train that failed to start left %s in runs/", runs[0].Name())
	}

	// Ctrl-C: the context is cancelled before the command gets far.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, args := range []string{"scrape", "run", "curate", "dataset build", "train --model cnn"} {
		if code, _, errs := charaIn(ctx, site, strings.Fields(args)...); code != 130 {
			t.Errorf("chara %s interrupted: exit %d, want 130; stderr:\n%s", args, code, errs)
		}
	}
}

func TestConfigShowAndCheck(t *testing.T) {
	ws := t.TempDir()
	cfg := filepath.Join(ws, "chara.yaml")
	if err := os.WriteFile(cfg, []byte("sources:\n  d: {kind: danbooru, url: http://127.0.0.1:1, api_key: s3cret}\n"+
		"classes:\n  - name: 中野三玖\n    queries: {d: nakano_miku}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := charaIn(context.Background(), ws, "config", "show")
	if code != 0 {
		t.Fatalf("config show: exit %d: %s", code, errs)
	}
	for _, want := range []string{"epochs: 50", "per_class: 800", "name: 中野三玖", "api_key: REDACTED"} {
		if !strings.Contains(out, want) {
			t.Errorf("config show lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cret") {
		t.Error("config show printed the API key")
	}
	if err := os.WriteFile(cfg, []byte("train:\n  epocs: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errs = charaIn(context.Background(), ws, "config", "check")
	if code != 1 || !strings.Contains(errs, "chara.yaml:2: train.epocs: unknown key; did you mean train.epochs?") || strings.Contains(errs, "chara init") {
		t.Errorf("config check of a typo: exit %d, %q", code, errs)
	}
	if err := os.WriteFile(cfg, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errs = charaIn(context.Background(), ws, "config", "check"); code != 1 || !strings.Contains(errs, "no classes") {
		t.Errorf("config check of an empty file: exit %d, %q", code, errs)
	}
}

func TestInitForceKeepsBackup(t *testing.T) {
	ws := t.TempDir()
	cfg := filepath.Join(ws, "chara.yaml")
	for i, want := range []string{"", cfg + ".bak", cfg + ".bak.2"} {
		if i > 0 {
			if err := os.WriteFile(cfg, []byte("# edit "+want+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		code, out, errs := charaIn(context.Background(), ws, "init", "--force")
		if code != 0 {
			t.Fatalf("init --force: exit %d: %s", code, errs)
		}
		if want == "" {
			continue
		}
		b, err := os.ReadFile(want)
		if err != nil || string(b) != "# edit "+want+"\n" {
			t.Errorf("backup %s: %q, %v", want, b, err)
		}
		if !strings.Contains(out, want) {
			t.Errorf("init --force did not name the backup %s: %q", want, out)
		}
	}
	if code, _, errs := charaIn(context.Background(), ws, "init"); code != 1 || !strings.Contains(errs, "--force") {
		t.Errorf("init over a file: exit %d, %q; want 1 and a hint at --force", code, errs)
	}
}

func TestWrapFits80Columns(t *testing.T) {
	text := "early stop after epoch 12: no better validation accuracy for 7 epochs (best 0.9300 at epoch 5), restored"
	got := wrap(text, 80, "  ")
	for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		if len(l) > 80 || !strings.HasPrefix(l, "  ") {
			t.Errorf("line %q", l)
		}
	}
	if strings.Join(strings.Fields(got), " ") != text {
		t.Errorf("wrap lost words: %q", got)
	}
}
