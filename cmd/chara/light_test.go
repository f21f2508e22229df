//go:build !chara_notorch

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/manifests"
)

// fullCharaEnv makes this test binary the full chara (main's run): the
// chara-torch that TestLightBinary puts beside the light binary is a link
// to it. fullCharaPIDEnv names a file it writes its process id to first.
const (
	fullCharaEnv    = "CHARA_TEST_FULL_CHARA"
	fullCharaPIDEnv = "CHARA_TEST_FULL_CHARA_PID"
)

func TestMain(m *testing.M) {
	if os.Getenv(fullCharaEnv) == "1" {
		if f := os.Getenv(fullCharaPIDEnv); f != "" {
			if err := os.WriteFile(f, []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
				os.Exit(99)
			}
		}
		os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// lightEnv is the environment the light binary is built and run in: no
// libtorch cgo flags (the Makefile's NOTORCH), and no library path.
func lightEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "CGO_CXXFLAGS", "CGO_LDFLAGS", "LD_LIBRARY_PATH", "CHARA_TORCH", "CHARA_DELEGATED", "CHARA_WORKSPACE", fullCharaEnv, fullCharaPIDEnv:
			continue
		}
		env = append(env, kv)
	}
	return append(append(env, "CGO_ENABLED=1", "LD_LIBRARY_PATH="), extra...)
}

type result struct {
	stdout, stderr string
	code           int
	pid            int
}

// runBin runs bin with args in dir and returns what it printed and its exit code.
func runBin(t *testing.T, bin, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir, cmd.Env = dir, env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if cmd.Process != nil {
		r.pid = cmd.Process.Pid
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s %v: %v", bin, args, err)
	}
	return r
}

// commandPaths lists every command and subcommand ("dataset build").
func commandPaths(cmds []*cli.Command, parent []string) [][]string {
	var out [][]string
	for _, c := range cmds {
		p := append(append([]string{}, parent...), c.Name)
		out = append(out, p)
		out = append(out, commandPaths(c.Subcommands, p)...)
	}
	return out
}

// TestLightBinary builds chara as make build writes bin/chara (tag
// chara_notorch, no libtorch cgo flags) and checks that it needs no
// libtorch, reads as the full build, runs the stages that need no libtorch
// itself, and hands the others to chara-torch.
func TestLightBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	for _, tool := range []string{"go", "readelf"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found (readelf: binutils, installed by scripts/deps.sh): %v", tool, err)
		}
	}
	dir := t.TempDir()
	light := filepath.Join(dir, "chara")
	build := exec.Command("go", "build", "-tags", "chara_notorch", "-o", light, ".")
	build.Env = lightEnv()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build -tags chara_notorch: %v\n%s", err, out)
	}
	env := lightEnv("PATH=/usr/bin:/bin") // no chara-torch on it

	t.Run("imports no libtorch package", func(t *testing.T) {
		cmd := exec.Command("go", "list", "-deps", "-tags", "chara_notorch", ".")
		cmd.Env = lightEnv()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list: %v", err)
		}
		deps := strings.Fields(string(out))
		if !contains(deps, "github.com/chara-dev/chara/scrape") || !contains(deps, "github.com/urfave/cli/v2") {
			t.Fatalf("go list -deps lacks scrape or urfave/cli: %v", deps)
		}
		for _, d := range deps {
			if strings.HasPrefix(d, "github.com/sugarme/gotch") || strings.HasPrefix(d, "github.com/chara-dev/chara/train") ||
				strings.HasPrefix(d, "github.com/chara-dev/chara/serve") {
				t.Errorf("the light build imports %s", d)
			}
		}
	})

	t.Run("links no libtorch", func(t *testing.T) {
		out, err := exec.Command("readelf", "-d", light).Output()
		if err != nil {
			t.Fatalf("readelf -d: %v", err)
		}
		var needed []string
		for _, l := range strings.Split(string(out), "\n") {
			if i := strings.Index(l, "(NEEDED)"); i >= 0 {
				if a, b := strings.Index(l, "["), strings.LastIndex(l, "]"); a > i && b > a {
					needed = append(needed, l[a+1:b])
				}
			}
		}
		if !contains(needed, "libc.so.6") || !contains(needed, "libjpeg.so.62") {
			t.Fatalf("readelf found NEEDED %v, want libc.so.6 and libjpeg.so.62 among them", needed)
		}
		// What the loader would map, dependencies of dependencies included.
		cmd := exec.Command(light)
		cmd.Env = append(env, "LD_TRACE_LOADED_OBJECTS=1")
		loaded, err := cmd.Output()
		if err != nil {
			t.Fatalf("LD_TRACE_LOADED_OBJECTS: %v", err)
		}
		if !strings.Contains(string(loaded), "libjpeg") {
			t.Fatalf("the loader's list names no libjpeg:\n%s", loaded)
		}
		for _, bad := range []string{"libtorch", "libc10", "libstdc++", "libgomp"} {
			for _, n := range needed {
				if strings.HasPrefix(n, bad) {
					t.Errorf("the light binary needs %s (NEEDED %v)", n, needed)
				}
			}
			if strings.Contains(string(loaded), bad) {
				t.Errorf("the light binary loads %s:\n%s", bad, loaded)
			}
		}
	})

	t.Run("help reads as the full build's", func(t *testing.T) {
		paths := append([][]string{{}}, commandPaths(newApp(nil, nil).Commands, nil)...)
		if len(paths) < 25 {
			t.Fatalf("only %d commands", len(paths))
		}
		for _, p := range paths {
			args := append(append([]string{}, p...), "--help")
			var want, wantErr bytes.Buffer
			if code := run(context.Background(), append([]string{"chara"}, args...), &want, &wantErr); code != 0 {
				t.Fatalf("full chara %v: exit %d: %s", args, code, wantErr.String())
			}
			got := runBin(t, light, dir, env, args...)
			if got.code != 0 || got.stdout != want.String() {
				t.Errorf("chara %s: exit %d, help differs from the full build's\nlight:\n%s\nfull:\n%s", strings.Join(args, " "), got.code, got.stdout, want.String())
			}
		}
	})

	ws := filepath.Join(t.TempDir(), "ws")
	// The workspace is named: found from the folder, it could be a parent's.
	in := func(args ...string) []string { return append([]string{"--workspace", ws}, args...) }
	t.Run("runs the stages without libtorch", func(t *testing.T) {
		r := runBin(t, light, dir, env, "version")
		if r.code != 0 || !strings.HasPrefix(r.stdout, "chara ") || !strings.Contains(r.stdout, "no chara-torch") {
			t.Fatalf("version: exit %d: %q %q", r.code, r.stdout, r.stderr)
		}
		if err := os.MkdirAll(ws, 0o755); err != nil {
			t.Fatal(err)
		}
		if r := runBin(t, light, ws, env, in("init")...); r.code != 0 {
			t.Fatalf("init: exit %d: %s", r.code, r.stderr)
		}
		imgs := filepath.Join(t.TempDir(), "imgs")
		if err := os.MkdirAll(imgs, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 3; i++ {
			writeTestJPEG(t, filepath.Join(imgs, strconv.Itoa(i)+".jpg"), i)
		}
		if r := runBin(t, light, ws, env, in("import", imgs, "--class", "Nakano Miku")...); r.code != 0 {
			t.Fatalf("import: exit %d: %s", r.code, r.stderr)
		}
		if r := runBin(t, light, ws, env, in("curate", "--json")...); r.code != 0 {
			t.Fatalf("curate: exit %d: %s", r.code, r.stderr)
		}
		r = runBin(t, light, ws, env, in("classes", "list", "--json")...)
		var classes []classJSON
		if err := json.Unmarshal([]byte(r.stdout), &classes); r.code != 0 || err != nil {
			t.Fatalf("classes list: exit %d, %v: %s %s", r.code, err, r.stdout, r.stderr)
		}
		found := false
		for _, c := range classes {
			if c.Name == "Nakano Miku" {
				found = c.Raw == 3 && c.Curated == 3
			}
		}
		if len(classes) != 5 || !found {
			t.Errorf("classes list: want 5 classes, Nakano Miku with 3 raw and 3 curated images: %+v", classes)
		}
	})

	sws := filepath.Join(t.TempDir(), "sws")
	t.Run("scrapes, curates and builds a dataset without libtorch", func(t *testing.T) {
		startSite(t, sws) // the demo site on 127.0.0.1 (run_test.go)
		for _, args := range [][]string{{"scrape"}, {"curate"}, {"dataset", "build"}, {"dataset", "verify"}} {
			if r := runBin(t, light, sws, env, append([]string{"--workspace", sws}, args...)...); r.code != 0 {
				t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
			}
		}
		ds, err := manifests.ReadDataset(manifests.DatasetDir(sws, "default"))
		if err != nil {
			t.Fatal(err)
		}
		if len(ds.Classes) != 2 || len(ds.Rows[manifests.Train]) == 0 {
			t.Errorf("dataset: %d classes, %d training rows; want 2 and some", len(ds.Classes), len(ds.Rows[manifests.Train]))
		}
	})

	t.Run("runs a chara run that trains nothing without libtorch", func(t *testing.T) {
		r := runBin(t, light, sws, env, "--workspace", sws, "run", "--only", "dataset", "--force", "dataset")
		if r.code != 0 || !strings.Contains(r.stdout, "# chara report") {
			t.Fatalf("run --only dataset: exit %d: %q %q", r.code, r.stdout, r.stderr)
		}
		if _, err := os.Stat(manifests.ReportPath(sws)); err != nil {
			t.Errorf("run --only dataset wrote no report: %v", err)
		}
		// One that trains needs chara-torch.
		r = runBin(t, light, sws, env, "--workspace", sws, "run", "--from", "dataset")
		if r.code != exitNoTorch || !strings.Contains(r.stderr, "run needs libtorch") {
			t.Errorf("run --from dataset: exit %d (want %d), stderr %q", r.code, exitNoTorch, r.stderr)
		}
	})

	t.Run("says what is missing without chara-torch", func(t *testing.T) {
		r := runBin(t, light, ws, env, in("train", "--epochs", "1")...)
		if r.code != exitNoTorch || !strings.Contains(r.stderr, "train needs libtorch") || !strings.Contains(r.stderr, "chara-torch") ||
			!strings.Contains(r.stderr, "make build") {
			t.Errorf("train: exit %d (want %d), stderr %q", r.code, exitNoTorch, r.stderr)
		}
		if _, err := os.Stat(filepath.Join(ws, "runs")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("train without chara-torch left runs/: %v", err)
		}
		r = runBin(t, light, ws, env, in("doctor")...)
		if r.code != 0 || !strings.Contains(r.stdout, "libtorch   not available: no chara-torch") {
			t.Errorf("doctor: exit %d: %q %q", r.code, r.stdout, r.stderr)
		}
		// A chara-torch that answers nothing is a failure, named.
		if f, err := exec.LookPath("false"); err == nil {
			r = runBin(t, light, ws, append(env, "CHARA_TORCH="+f), in("doctor")...)
			if r.code != exitFailure || !strings.Contains(r.stdout, f+" did not answer") {
				t.Errorf("doctor with CHARA_TORCH=%s: exit %d: %q %q", f, r.code, r.stdout, r.stderr)
			}
		}
	})

	t.Run("hands libtorch commands to chara-torch", func(t *testing.T) {
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		torch := filepath.Join(dir, "chara-torch")
		if err := os.Symlink(self, torch); err != nil {
			t.Fatal(err)
		}
		defer os.Remove(torch)
		pidFile := filepath.Join(t.TempDir(), "pid")
		tenv := append(env, fullCharaEnv+"=1", fullCharaPIDEnv+"="+pidFile)
		// chara-torch's own usage error and exit code, in the same process.
		r := runBin(t, light, ws, tenv, in("evaluate")...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "evaluate: give a RUN") {
			t.Errorf("evaluate: exit %d (want %d), stderr %q", r.code, exitUsage, r.stderr)
		}
		if b, err := os.ReadFile(pidFile); err != nil || string(b) != strconv.Itoa(r.pid) {
			t.Errorf("chara-torch ran as pid %q (%v), want the light chara's %d (execve)", b, err, r.pid)
		}
		// libtorch at work: a model built in chara-torch.
		r = runBin(t, light, ws, tenv, in("models", "cnn", "--classes", "3")...)
		if r.code != 0 || !strings.Contains(r.stdout, "Trainable params") {
			t.Errorf("models cnn: exit %d: %q %q", r.code, r.stdout, r.stderr)
		}
		r = runBin(t, light, ws, tenv, in("doctor", "--json")...)
		var rep doctorReport
		if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || r.code != 0 || rep.Libtorch == "" || rep.TorchBinary != torch {
			t.Errorf("doctor --json: exit %d, %v: %s %s", r.code, err, r.stdout, r.stderr)
		}
		if r := runBin(t, light, ws, tenv, in("version")...); !strings.Contains(r.stdout, torch) {
			t.Errorf("version does not name %s: %q", torch, r.stdout)
		}
		// Training on the dataset the light binary built.
		r = runBin(t, light, sws, tenv, "--workspace", sws, "train", "--model", "cnn", "--epochs", "1", "--name", "light", "--json")
		var card manifests.RunCard
		if err := json.Unmarshal([]byte(r.stdout), &card); r.code != 0 || err != nil || card.Name != "light" || card.Epochs != 1 {
			t.Errorf("train through the light chara: exit %d, %v: %s %s", r.code, err, r.stdout, r.stderr)
		}
		// CHARA_TORCH names it from elsewhere.
		alone := filepath.Join(t.TempDir(), "chara")
		if err := os.Link(light, alone); err != nil {
			t.Fatal(err)
		}
		r = runBin(t, alone, ws, append(tenv, "CHARA_TORCH="+torch), in("evaluate")...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "evaluate: give a RUN") {
			t.Errorf("evaluate with CHARA_TORCH: exit %d, stderr %q", r.code, r.stderr)
		}
		// A light binary installed as chara-torch stops instead of looping.
		r = runBin(t, alone, ws, append(env, "CHARA_TORCH="+alone), in("evaluate")...)
		if r.code != exitFailure || !strings.Contains(r.stderr, "built without libtorch too") {
			t.Errorf("evaluate with CHARA_TORCH=the light chara: exit %d, stderr %q", r.code, r.stderr)
		}
	})
}

func writeTestJPEG(t *testing.T, path string, seed int) {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 160, 120))
	for y := 0; y < 120; y++ {
		for x := 0; x < 160; x++ {
			v := uint8((x*(seed+1)*7 + y*(3-seed)*5) % 256)
			img.SetNRGBA(x, y, color.NRGBA{R: v, G: uint8((x + seed*80) % 256), B: uint8(y * 2), A: 255})
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(f, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
