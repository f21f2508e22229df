package pipeline

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/manifests"
)

func baseConfig() *config.Config {
	cfg := config.Default()
	cfg.Classes = []config.Class{{Name: "Miku", Queries: map[string]string{"danbooru": "nakano_miku"}}, {Name: "Nino", Queries: map[string]string{"danbooru": "nakano_nino"}}}
	return cfg
}

// changes checks that each edit of the config changes (or keeps) the
// fingerprint f computes.
func changes(t *testing.T, stage string, f func(*config.Config) (string, error), edits map[string]func(*config.Config), want bool) {
	t.Helper()
	base, err := f(baseConfig())
	if err != nil {
		t.Fatal(err)
	}
	for name, edit := range edits {
		cfg := baseConfig()
		edit(cfg)
		got, err := f(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if (got != base) != want {
			t.Errorf("%s: %s changed the fingerprint: %v, want %v", stage, name, got != base, want)
		}
	}
}

// Training's fingerprint covers exactly what one model's training uses:
// adding a model leaves the others' alone, the device renames nothing.
func TestTrainInputs(t *testing.T) {
	f := func(cfg *config.Config) (string, error) { return TrainInputs(cfg, "cnn2", "v1") }
	changes(t, "train", f, map[string]func(*config.Config){
		"adding a model":      func(c *config.Config) { c.Train.Models = append(c.Train.Models, "cnn") },
		"the device":          func(c *config.Config) { c.Train.Device = "cuda:1" },
		"the curate section":  func(c *config.Config) { c.Curate.MaxPixels = 1 },
		"the images section":  func(c *config.Config) { c.Images.Fit = "crop" },
		"the scrape sources":  func(c *config.Config) { c.Sources = nil },
		"the split fractions": func(c *config.Config) { c.Split.Val = 0.2 },
	}, false)
	changes(t, "train", f, map[string]func(*config.Config){
		"epochs":      func(c *config.Config) { c.Train.Epochs++ },
		"batch size":  func(c *config.Config) { c.Train.BatchSize++ },
		"lr":          func(c *config.Config) { c.Train.LR *= 2 },
		"patience":    func(c *config.Config) { c.Train.Patience++ },
		"freeze":      func(c *config.Config) { c.Train.Freeze = !c.Train.Freeze },
		"augment":     func(c *config.Config) { c.Train.Augment = !c.Train.Augment },
		"amp":         func(c *config.Config) { c.Train.AMP = !c.Train.AMP },
		"weights":     func(c *config.Config) { c.Train.Weights = "effnet.pth" },
		"input_adapt": func(c *config.Config) { c.Train.InputAdapt = "stretch" },
		"seed":        func(c *config.Config) { c.Seed++ },
	}, true)
	a, _ := TrainInputs(baseConfig(), "cnn2", "v1")
	if b, _ := TrainInputs(baseConfig(), "cnn", "v1"); a == b {
		t.Error("two models share a fingerprint")
	}
	if b, _ := TrainInputs(baseConfig(), "cnn2", "v2"); a == b {
		t.Error("another dataset version keeps the fingerprint")
	}
	// The pretrained weights count by content.
	dir := t.TempDir()
	w := filepath.Join(dir, "w.pth")
	os.WriteFile(w, []byte("one"), 0o644)
	cfg := baseConfig()
	cfg.Train.Weights = w
	x, _ := TrainInputs(cfg, "effnet-b0", "v1")
	os.WriteFile(w, []byte("two"), 0o644)
	if y, _ := TrainInputs(cfg, "effnet-b0", "v1"); x == y {
		t.Error("other weights under the same name keep the fingerprint")
	}
}

// The dataset stage's fingerprint: its sections, curation's pixel limit
// (dataset build applies it) and the decisions; not training's settings.
func TestDatasetInputs(t *testing.T) {
	ws := t.TempDir()
	f := func(cfg *config.Config) (string, error) { return DatasetInputs(ws, cfg, "default") }
	changes(t, "dataset", f, map[string]func(*config.Config){
		"train epochs": func(c *config.Config) { c.Train.Epochs++ },
		"train models": func(c *config.Config) { c.Train.Models = []string{"cnn"} },
		"scrape":       func(c *config.Config) { c.Scrape = config.Scrape{} },
		"curate dedup": func(c *config.Config) { c.Curate.PHashThreshold++ },
	}, false)
	changes(t, "dataset", f, map[string]func(*config.Config){
		"size":       func(c *config.Config) { c.Images.Height++ },
		"fit":        func(c *config.Config) { c.Images.Fit = "crop" },
		"per class":  func(c *config.Config) { c.Images.PerClass++ },
		"split":      func(c *config.Config) { c.Split.MinEval++ },
		"seed":       func(c *config.Config) { c.Seed++ },
		"max pixels": func(c *config.Config) { c.Curate.MaxPixels++ },
		"classes":    func(c *config.Config) { c.Classes = c.Classes[:1] },
	}, true)
	before, _ := DatasetInputs(ws, baseConfig(), "default")
	if other, _ := DatasetInputs(ws, baseConfig(), "other"); other == before {
		t.Error("another dataset name keeps the fingerprint")
	}
	p := manifests.DecisionsPath(ws, "miku")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte("{}\n"), 0o644)
	if after, _ := DatasetInputs(ws, baseConfig(), "default"); after == before {
		t.Error("a new decisions file keeps the fingerprint")
	}
}

func TestCurateAndScrapeInputs(t *testing.T) {
	ws := t.TempDir()
	cur := func(cfg *config.Config) (string, error) { return CurateInputs(ws, cfg) }
	changes(t, "curate", cur, map[string]func(*config.Config){
		"train":   func(c *config.Config) { c.Train.Epochs++ },
		"images":  func(c *config.Config) { c.Images.Height++ },
		"queries": func(c *config.Config) { c.Classes[0].Queries = map[string]string{"danbooru": "miku"} },
	}, false)
	changes(t, "curate", cur, map[string]func(*config.Config){
		"curate":  func(c *config.Config) { c.Curate.PHashThreshold++ },
		"classes": func(c *config.Config) { c.Classes[0].Name = "Ichika" },
	}, true)
	before, _ := CurateInputs(ws, baseConfig())
	p := manifests.RawIndexPath(ws, "miku")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte("{}\n"), 0o644)
	if after, _ := CurateInputs(ws, baseConfig()); after == before {
		t.Error("a new raw index keeps curation's fingerprint")
	}
	changes(t, "scrape", ScrapeInputs, map[string]func(*config.Config){
		"curate": func(c *config.Config) { c.Curate.PHashThreshold++ },
		"train":  func(c *config.Config) { c.Train.Device = "cpu" },
	}, false)
	changes(t, "scrape", ScrapeInputs, map[string]func(*config.Config){
		"queries": func(c *config.Config) { c.Classes[0].Queries = map[string]string{"danbooru": "miku"} },
	}, true)
}

// Step runs a stage whose inputs changed or that is forced, skips it
// otherwise, and records only a finished run.
func TestStep(t *testing.T) {
	ws := t.TempDir()
	ctx := context.Background()
	runs := 0
	work := func() error { runs++; return nil }
	r, err := NewRunner(ws, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{"a", "a", "b"} {
		if _, err := r.Step(ctx, "train:cnn", in, work); err != nil {
			t.Fatal(err)
		}
	}
	if runs != 2 {
		t.Errorf("%d runs for inputs a, a, b; want 2", runs)
	}
	boom := errors.New("boom")
	if _, err := r.Step(ctx, "dataset", "x", func() error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("failing stage: %v", err)
	}
	r, _ = NewRunner(ws, []string{"train"}, nil) // reloaded from disk
	if ran, _ := r.Step(ctx, "train:cnn", "b", work); !ran {
		t.Error("--force train did not rerun train:cnn")
	}
	if ran, _ := r.Step(ctx, "dataset", "x", work); !ran {
		t.Error("a stage that failed last time was skipped")
	}
	if RunName("cnn", "default", "0123456789abcdef") != "cnn-default-01234567" {
		t.Error(RunName("cnn", "default", "0123456789abcdef"))
	}
}

func TestSelect(t *testing.T) {
	sel, err := Select("dataset", "", nil)
	if err != nil || sel["curate"] || !sel["dataset"] || !sel["train"] {
		t.Errorf("--from dataset: %v %v", sel, err)
	}
	sel, err = Select("", "curate", []string{"curate"})
	if err != nil || len(sel) != 1 || !sel["curate"] {
		t.Errorf("--only curate: %v %v", sel, err)
	}
	for _, bad := range [][3]string{{"x", "", ""}, {"", "x", ""}, {"scrape", "curate", ""}, {"", "", "x"}} {
		var force []string
		if bad[2] != "" {
			force = []string{bad[2]}
		}
		if _, err := Select(bad[0], bad[1], force); !errors.Is(err, ErrStage) {
			t.Errorf("%q: %v, want ErrStage", bad, err)
		}
	}
}
