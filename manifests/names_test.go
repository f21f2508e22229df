package manifests

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDatasetNamesAndRunCardDataset(t *testing.T) {
	for _, ok := range []string{"default", "v2-300x150", "中野"} {
		if err := CheckDatasetName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "..", "../../x", "a/b", ".hidden", "new\nline", "bidi\u202e"} {
		if err := CheckDatasetName(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "run.json")
	card := &RunCard{Name: "r", Model: "cnn", Dataset: "../../x", BestWeights: "best.ot",
		Classes: []Class{{Label: 0, Name: "A", Slug: "a"}, {Label: 1, Name: "B", Slug: "b"}}}
	if err := WriteRunCard(path, card); err != nil {
		t.Fatal(err)
	}
	var re *RecordError
	if _, err := ReadRunCard(path); !errors.As(err, &re) || re.Field != "dataset" {
		t.Errorf("run.json naming ../../x: %v, want a RecordError on dataset", err)
	}
	card.Dataset = "toy"
	card.Classes[1].Name = "B\x1b[2J"
	if err := WriteRunCard(path, card); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRunCard(path); err == nil || !strings.Contains(err.Error(), "control character") {
		t.Errorf("a class name with an escape sequence: %v", err)
	}
	os.Remove(path)
}
