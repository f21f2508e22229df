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
