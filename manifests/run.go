package manifests

import (
	"fmt"
	"path/filepath"
	"time"
)

// RunCard is runs/<run>/run.json: everything needed to use a trained model
// again (predict, serve, compare) without the training flags.
type RunCard struct {
	Name           string  `json:"name"`
	Model          string  `json:"model"`           // effnet-b0 | cnn | cnn2
	Dataset        string  `json:"dataset"`         // dataset name
	DatasetVersion string  `json:"dataset_version"` // Card.Version trained on
	Classes        []Class `json:"classes"`
	// Recipe is the dataset's recipe, copied whole when the run started,
	// with the model input added: how the run sees an image, forever.
	Recipe      Recipe         `json:"recipe"`
	Seed        int64          `json:"seed"`
	Config      map[string]any `json:"config"` // the training options
	CreatedAt   time.Time      `json:"created_at"`
	Epochs      int            `json:"epochs"`     // epochs run
	BestEpoch   int            `json:"best_epoch"` // 1-based
	BestValAcc  float64        `json:"best_val_acc"`
	TestAcc     float64        `json:"test_acc"`
	TestLoss    float64        `json:"test_loss"`
	Finished    bool           `json:"finished"`
	StopReason  string         `json:"stop_reason,omitempty"`
	BestWeights string         `json:"best_weights"` // file name in the run folder
	// OpenSet is the "none of these characters" threshold (absent in runs
	// trained before it existed: predict then always answers a class).
	OpenSet *OpenSet `json:"open_set,omitempty"`
}

// InputSize is the model input's height and width.
func (c *RunCard) InputSize() (int, int) { return c.Recipe.Input.Height, c.Recipe.Input.Width }

// RunDir is runs/<name> inside the workspace.
func RunDir(workspace, name string) string { return filepath.Join(workspace, "runs", name) }

// WriteRunCard atomically writes run.json.
func WriteRunCard(path string, c *RunCard) error { return writeJSON(path, c) }

// ReadRunCard reads and checks run.json.
func ReadRunCard(path string) (*RunCard, error) {
	var c RunCard
	if err := readJSON(path, &c); err != nil {
		return nil, err
	}
	if c.Model == "" {
		return nil, &RecordError{File: path, Field: "model", Err: fmt.Errorf("empty")}
	}
	if c.Dataset != "" {
		if err := CheckDatasetName(c.Dataset); err != nil {
			return nil, &RecordError{File: path, Field: "dataset", Err: err}
		}
	}
	if len(c.Classes) < 2 {
		return nil, &RecordError{File: path, Field: "classes", Err: fmt.Errorf("need at least 2, got %d", len(c.Classes))}
	}
	if err := checkClasses(path, c.Classes); err != nil {
		return nil, err
	}
	if err := c.Recipe.Check(true); err != nil {
		return nil, inFile(path, err)
	}
	if err := CheckPlainName(c.BestWeights); err != nil {
		return nil, &RecordError{File: path, Field: "best_weights", Err: err}
	}
	return &c, nil
}
