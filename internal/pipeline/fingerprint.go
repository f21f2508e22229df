package pipeline

import (
	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/internal/stages"
	"github.com/chara-dev/chara/manifests"
)

// input is one labelled part of a fingerprint.
type input struct {
	label string
	v     any
}

func sum(files []string, in ...input) (string, error) {
	h := stages.NewHasher()
	for _, v := range in {
		if err := h.Value(v.label, v.v); err != nil {
			return "", err
		}
	}
	if len(files) > 0 {
		if err := h.Files(files...); err != nil {
			return "", err
		}
	}
	return h.Sum(), nil
}

// ScrapeInputs is what the scrape stage reads: the sources, the scrape:
// section and the classes with their queries.
func ScrapeInputs(cfg *config.Config) (string, error) {
	return sum(nil, input{"sources", cfg.Sources}, input{"scrape", cfg.Scrape}, input{"classes", cfg.Classes})
}

// CurateInputs is what curation reads: the curate: section, the class
// names, every raw index and the review journal.
func CurateInputs(ws string, cfg *config.Config) (string, error) {
	return sum([]string{manifests.RawIndexPath(ws, "*"), manifests.ReviewPath(ws)},
		input{"curate", cfg.Curate}, input{"classes", classNames(cfg)})
}

// DatasetInputs is what dataset build reads: images:, split:, the seed,
// the class names, the dataset's name, curation's pixel limit and the
// decisions files.
func DatasetInputs(ws string, cfg *config.Config, name string) (string, error) {
	files, err := manifests.DecisionFiles(ws)
	if err != nil {
		return "", err
	}
	return sum(files, input{"images", cfg.Images}, input{"split", cfg.Split}, input{"seed", cfg.Seed},
		input{"classes", classNames(cfg)}, input{"name", name}, input{"max_pixels", cfg.Curate.MaxPixels})
}

// trainInputs are the train: settings that shape one model's run: not the
// list of other models, not the device (nor threads, which chara.yaml does
// not hold).
type trainInputs struct {
	Model      string
	Epochs     int
	BatchSize  int
	LR         float64
	Patience   int
	Freeze     bool
	Augment    bool
	AMP        bool
	Weights    string
	InputAdapt string
}

// TrainInputs is what one model's training reads: its train: settings,
// the seed, the dataset's version and the pretrained weights file (by
// content).
func TrainInputs(cfg *config.Config, model, datasetVersion string) (string, error) {
	t := cfg.Train
	in := trainInputs{Model: model, Epochs: t.Epochs, BatchSize: t.BatchSize, LR: t.LR, Patience: t.Patience,
		Freeze: t.Freeze, Augment: t.Augment, AMP: t.AMP, Weights: t.Weights, InputAdapt: t.InputAdapt}
	var files []string
	if t.Weights != "" {
		files = append(files, t.Weights)
	}
	return sum(files, input{"train", in}, input{"seed", cfg.Seed}, input{"dataset", datasetVersion})
}

func classNames(cfg *config.Config) []string {
	names := make([]string, len(cfg.Classes))
	for i, c := range cfg.Classes {
		names[i] = c.Name
	}
	return names
}
