package manifests

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func writeRun(t *testing.T, dir string) {
	t.Helper()
	c := &RunCard{Name: filepath.Base(dir), Model: "cnn", Classes: []Class{{Label: 0, Name: "A", Slug: "a"}, {Label: 1, Name: "B", Slug: "b"}},
		Recipe: testRecipe().WithInput(Input{Height: 300, Width: 150, Adapt: AdaptNone, Std: [3]float64{1, 1, 1}}), BestWeights: "best.ot"}
	if err := WriteRunCard(RunCardPath(dir), c); err != nil {
		t.Fatal(err)
	}
}

// One resolution for every command: a name is runs/<name> first, a path
// is taken as given or relative to the workspace, never doubled.
func TestResolveRun(t *testing.T) {
	ws := t.TempDir()
	writeRun(t, RunDir(ws, "x"))
	for _, arg := range []string{"x", RunDir(ws, "x"), filepath.Join("runs", "x")} {
		got, err := ResolveRun(ws, arg)
		if err != nil || filepath.Clean(got) != RunDir(ws, "x") {
			t.Errorf("ResolveRun(%q) = %q, %v; want %s", arg, got, err, RunDir(ws, "x"))
		}
	}
	// A folder named like a run in the current directory does not win
	// over the workspace's run of that name.
	cwd, _ := os.Getwd()
	other := t.TempDir()
	os.Chdir(other)
	defer os.Chdir(cwd)
	writeRun(t, filepath.Join(other, "x"))
	if got, _ := ResolveRun(ws, "x"); got != RunDir(ws, "x") {
		t.Errorf("plain name resolved to %q, want the workspace's run", got)
	}
	if got, _ := ResolveRun(ws, "./x"); got != "./x" {
		t.Errorf("./x resolved to %q, want the folder here", got)
	}
	if _, err := ResolveRun(ws, "nope"); !errors.Is(err, ErrNoRun) {
		t.Errorf("missing run: %v", err)
	}
}

func TestListRuns(t *testing.T) {
	ws := t.TempDir()
	if runs, err := ListRuns(ws); err != nil || len(runs) != 0 {
		t.Fatalf("no runs/: %v %v", runs, err)
	}
	writeRun(t, RunDir(ws, "b"))
	writeRun(t, RunDir(ws, "a"))
	os.MkdirAll(RunDir(ws, "empty"), 0o755)
	os.WriteFile(filepath.Join(RunsDir(ws), "stray.txt"), nil, 0o644)
	runs, err := ListRuns(ws)
	if err != nil || len(runs) != 2 || runs[0].Name != "a" || runs[1].Name != "b" || runs[0].Card.Model != "cnn" {
		t.Fatalf("runs %+v %v", runs, err)
	}
}

// The workspace is found from any subfolder, as git finds .git.
func TestFindWorkspace(t *testing.T) {
	ws := t.TempDir()
	os.WriteFile(ConfigPath(ws), []byte("classes: []\n"), 0o644)
	deep := filepath.Join(ws, "runs", "x", "deeper")
	os.MkdirAll(deep, 0o755)
	if got := FindWorkspace(deep); got != ws {
		t.Errorf("from %s: %q, want %s", deep, got, ws)
	}
	if got := FindWorkspace(ws); got != ws {
		t.Errorf("from the workspace itself: %q", got)
	}
	other := t.TempDir()
	if got := FindWorkspace(other); got != other {
		t.Errorf("outside any workspace: %q, want the folder itself", got)
	}
	state := t.TempDir()
	os.MkdirAll(filepath.Join(state, StateDir), 0o755)
	os.MkdirAll(filepath.Join(state, "datasets"), 0o755)
	if got := FindWorkspace(filepath.Join(state, "datasets")); got != state {
		t.Errorf("a workspace known by .chara/: %q", got)
	}
}
