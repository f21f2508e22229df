package config

import (
	"fmt"

	"github.com/chara-dev/chara/internal/suggest"
)

// Train is the train: section.
type Train struct {
	Models    []string `yaml:"models"`
	Epochs    int      `yaml:"epochs"`
	BatchSize int      `yaml:"batch_size"`
	LR        float64  `yaml:"lr"`
	Patience  int      `yaml:"patience"`
	Device    string   `yaml:"device"`
	Freeze    bool     `yaml:"freeze"`
	Augment   bool     `yaml:"augment"`
	AMP       bool     `yaml:"amp"` // bf16 autocast, CUDA only
	Weights   string   `yaml:"weights,omitempty"`
	// InputAdapt is how dataset images reach a model input of another
	// shape (cnn, cnn2): pad or stretch ("": the recipe's default, pad).
	InputAdapt string `yaml:"input_adapt,omitempty"`
}

func defaultTrain() Train {
	return Train{Models: []string{"effnet-b0", "cnn2"}, Epochs: 50, BatchSize: 32, LR: 1e-3, Patience: 7, Device: "auto"}
}

func (t Train) validate() *fieldError {
	for i, m := range t.Models {
		switch m {
		case "effnet-b0", "cnn", "cnn2":
		default:
			hint := ""
			if near := suggest.Nearest(m, []string{"effnet-b0", "cnn", "cnn2"}); near != "" {
				hint = fmt.Sprintf("; did you mean %s?", near)
			}
			return ferr("models", "entry %d: unknown model %q (effnet-b0, cnn or cnn2)%s", i, m, hint)
		}
	}
	if t.Epochs <= 0 {
		return ferr("epochs", "must be positive")
	}
	if t.BatchSize <= 0 {
		return ferr("batch_size", "must be positive")
	}
	if t.LR <= 0 {
		return ferr("lr", "must be positive")
	}
	if t.Patience < 0 {
		return ferr("patience", "negative")
	}
	switch t.InputAdapt {
	case "", "pad", "stretch":
	default:
		return ferr("input_adapt", "want pad or stretch, got %q", t.InputAdapt)
	}
	return nil
}
