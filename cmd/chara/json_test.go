package main

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/manifests"
)

var updateDocs = flag.Bool("update", false, "rewrite docs/json.md")

func TestJSONDocsAreCurrent(t *testing.T) {
	path := filepath.Join("..", "..", "docs", "json.md")
	want := jsonDocs()
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Error("docs/json.md is stale: go test ./cmd/chara -run TestJSONDocsAreCurrent -update")
	}
}

// documented returns the top-level fields docs/json.md lists for a command.
func documented(t *testing.T, command string) map[string]bool {
	t.Helper()
	doc := jsonDocs()
	i := strings.Index(doc, "## `"+command+"`")
	if i < 0 {
		t.Fatalf("docs/json.md has no section for %s", command)
	}
	sec := doc[i+4:]
	if j := strings.Index(sec, "\n## "); j >= 0 {
		sec = sec[:j]
	}
	out := map[string]bool{}
	for _, l := range strings.Split(sec, "\n") {
		if strings.HasPrefix(l, "| `") {
			name := strings.TrimPrefix(l, "| `")
			name = name[:strings.Index(name, "`")]
			if !strings.ContainsAny(name, ".[") {
				out[name] = true
			}
		}
	}
	return out
}

// TestJSONOutputs runs every command that reports results with --json on a
// tiny workspace and checks that stdout is one JSON document whose fields
// are the documented ones.
func TestJSONOutputs(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "ws")
	startSite(t, ws)
	imgs := t.TempDir()
	check := func(command string, args ...string) any {
		t.Helper()
		code, out, errs := charaIn(context.Background(), ws, args...)
		if code != 0 {
			t.Fatalf("chara %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
		var v any
		dec := json.NewDecoder(strings.NewReader(out))
		if err := dec.Decode(&v); err != nil || dec.More() {
			t.Fatalf("chara %s: stdout is not one JSON document (%v):\n%s", strings.Join(args, " "), err, out)
		}
		docs := documented(t, command)
		objs := []any{v}
		if l, ok := v.([]any); ok {
			if len(l) == 0 {
				t.Errorf("%s: an empty list", command)
			}
			objs = l
		}
		for _, o := range objs {
			m, ok := o.(map[string]any)
			if !ok {
				t.Fatalf("%s: not an object: %v", command, o)
			}
			for k := range m {
				if !docs[k] {
					t.Errorf("%s: field %q is not in docs/json.md", command, k)
				}
			}
		}
		return v
	}
	check("chara scrape --json", "scrape", "--json")
	check("chara curate --json", "curate", "--json")
	b := check("chara dataset build --json", "dataset", "build", "--json").(map[string]any)
	if cl, _ := b["classes"].([]any); len(cl) != 2 {
		t.Errorf("dataset build --json: classes %v", b["classes"])
	}
	if v := check("chara dataset verify --json", "dataset", "verify", "--json").(map[string]any); v["ok"] != true {
		t.Errorf("dataset verify --json: %v", v)
	}
	check("chara classes list --json", "classes", "list", "--json")
	card := check("chara train --json", "train", "--model", "cnn", "--epochs", "1", "--name", "r1", "--json").(map[string]any)
	if card["name"] != "r1" || card["model"] != "cnn" {
		t.Errorf("train --json: %v", card)
	}
	check("chara compare --json", "compare", "--json")

	// evaluate: the test split scores as training did; a folder of the test
	// images, one sub-folder per class, scores the same.
	ev := check("chara evaluate RUN --json", "evaluate", "r1", "--split", "test", "--json").(map[string]any)
	if d := ev["accuracy"].(float64) - card["test_acc"].(float64); d > 1e-6 || d < -1e-6 {
		t.Errorf("evaluate --split test: accuracy %v, training's test accuracy %v", ev["accuracy"], card["test_acc"])
	}
	if d := ev["loss"].(float64) - card["test_loss"].(float64); d > 1e-3 || d < -1e-3 {
		t.Errorf("evaluate --split test: loss %v, training's test loss %v", ev["loss"], card["test_loss"])
	}
	for _, f := range []string{"report.md", "confusion.png", "confusion.csv", "per_class.csv", "top_losses.png"} {
		if st, err := os.Stat(filepath.Join(ev["dir"].(string), f)); err != nil || st.Size() == 0 {
			t.Errorf("evaluate report %s: %v", f, err)
		}
	}
	ds, err := manifests.ReadDataset(manifests.DatasetDir(ws, "default"))
	if err != nil {
		t.Fatal(err)
	}
	folder := filepath.Join(t.TempDir(), "labelled")
	for _, r := range ds.Rows[manifests.Test] {
		data, err := os.ReadFile(filepath.Join(ds.Dir, filepath.FromSlash(r.Path)))
		if err != nil {
			t.Fatal(err)
		}
		sub := filepath.Join(folder, ds.Classes[r.Label].Name)
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sub, filepath.Base(r.Path)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	evd := check("chara evaluate RUN --json", "evaluate", "r1", folder, "--json").(map[string]any)
	if evd["accuracy"] != ev["accuracy"] || evd["n"] != ev["n"] || evd["on"] != "labelled" {
		t.Errorf("evaluate DIR: %v, the test split: %v", evd, ev)
	}
	if code, _, errs := charaIn(context.Background(), ws, "evaluate", "r1", "--split", "train"); code != 2 {
		t.Errorf("evaluate --split train: exit %d: %s", code, errs)
	}
	if err := os.MkdirAll(filepath.Join(folder, "Nobody"), 0o755); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := charaIn(context.Background(), ws, "evaluate", "r1", folder); code != 1 || !strings.Contains(errs, "Nobody") {
		t.Errorf("evaluate with an unknown class folder: exit %d: %s", code, errs)
	}
	test, err := filepath.Glob(filepath.Join(ws, "datasets", "default", "images", "*"))
	if err != nil || len(test) == 0 {
		t.Fatalf("no dataset images: %v", err)
	}
	p := check("chara predict IMAGE... --json", "predict", test[0], "--json", "--top", "2").([]any)
	if preds, _ := p[0].(map[string]any)["predictions"].([]any); len(preds) != 2 {
		t.Errorf("predict --json --top 2: %v", p)
	}
	check("chara doctor --json", "doctor", "--json")
	data, err := os.ReadFile(test[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(imgs, "a"+filepath.Ext(test[0])), data, 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(filepath.Join(ws, "chara.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	check("chara import DIR --class NAME --json", "import", imgs, "--class", cfg.Classes[0].Name, "--json")
}
