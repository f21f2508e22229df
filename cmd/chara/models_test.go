package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chara-dev/chara/internal/recipe"
	"github.com/chara-dev/chara/manifests"
)

// chara models reads the workspace's dataset: effnet-b0 takes its size,
// and cnn says how the 300x150 images reach its 100x75 input.
func TestModelsShowTheInputAdaptation(t *testing.T) {
	ws := t.TempDir()
	dir := manifests.DatasetDir(ws, "default")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	card := &manifests.Card{Name: "default", Version: "v1", Recipe: recipe.Sized(300, 150, manifests.FitPad)}
	if err := manifests.WriteCard(filepath.Join(dir, "dataset.json"), card); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := charaIn(context.Background(), ws, "models", "cnn", "effnet-b0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"Input from dataset default: 100x75, dataset images 300x150 scaled to fit and padded",
		"Input from dataset default: 300x150, the dataset images as they are",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// No dataset there: no input line, no error.
	code, out, _ = charaIn(context.Background(), t.TempDir(), "models", "cnn")
	if code != 0 || strings.Contains(out, "Input from dataset") {
		t.Errorf("without a dataset: exit %d\n%s", code, out)
	}
}

// compare resolves runs as every command does: "x", "runs/x" and the
// folder's path name the same run (no runs/runs/x with --workspace), and
// without --workspace the workspace is found from a subfolder.
func TestCompareResolvesRunsOneWay(t *testing.T) {
	ws := t.TempDir()
	if err := os.WriteFile(manifests.ConfigPath(ws), []byte("classes: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rm, err := recipe.ForModel(recipe.Sized(300, 150, manifests.FitPad), 0, 0, "", [3]float64{}, [3]float64{1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	card := &manifests.RunCard{Name: "x", Model: "cnn", Dataset: "default", Classes: []manifests.Class{{Label: 0, Name: "A", Slug: "a"}, {Label: 1, Name: "B", Slug: "b"}},
		Recipe: rm, BestValAcc: 0.5, BestWeights: "best.ot", Finished: true}
	if err := manifests.WriteRunCard(manifests.RunCardPath(manifests.RunDir(ws, "x")), card); err != nil {
		t.Fatal(err)
	}
	for _, arg := range []string{"x", filepath.Join("runs", "x"), manifests.RunDir(ws, "x")} {
		code, out, errOut := charaIn(context.Background(), ws, "compare", arg)
		if code != 0 || !strings.Contains(out, " x ") {
			t.Errorf("compare %s: exit %d\n%s%s", arg, code, out, errOut)
		}
	}
	cwd, _ := os.Getwd()
	defer os.Chdir(cwd)
	if err := os.Chdir(manifests.RunDir(ws, "x")); err != nil {
		t.Fatal(err)
	}
	var out, errb strings.Builder
	if code := run(context.Background(), []string{"chara", "compare"}, &out, &errb); code != 0 || !strings.Contains(out.String(), " x ") {
		t.Errorf("compare from runs/x without --workspace: exit %d\n%s%s", code, out.String(), errb.String())
	}
}
