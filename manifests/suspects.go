package manifests

import (
	"fmt"
	"path/filepath"
	"time"
)

// Suspects is curated/_suspects.json: the images of a dataset ranked by how
// likely their label is wrong or the picture off-topic (chara suspects),
// most suspect first. The review page shows them first.
type Suspects struct {
	Dataset        string    `json:"dataset"`
	DatasetVersion string    `json:"dataset_version"`
	Method         string    `json:"method"` // how the out-of-fold probabilities were made
	Folds          int       `json:"folds"`
	CreatedAt      time.Time `json:"created_at"`
	Items          []Suspect `json:"items"`
}

// Suspect is one ranked image.
type Suspect struct {
	Rank           int     `json:"rank"` // 1-based
	SHA256         string  `json:"sha256"`
	Class          string  `json:"class"` // the given label
	Path           string  `json:"path"`  // in the dataset folder
	SelfConfidence float64 `json:"self_confidence"`
	Other          string  `json:"other"` // most likely other class
	OtherProb      float64 `json:"other_prob"`
	Issue          bool    `json:"issue"`             // a label issue by confident learning
	Suggest        string  `json:"suggest,omitempty"` // the class it likely belongs to
	AUM            float64 `json:"aum"`               // area under the margin of the models that trained on it
	Outlier        float64 `json:"outlier"`           // distance to its class's neighbours over the class's usual
	Score          float64 `json:"score"`             // highest percentile over the views (1: most suspect)
}

// SuspectsPath is curated/_suspects.json inside the workspace.
func SuspectsPath(workspace string) string {
	return filepath.Join(workspace, "curated", "_suspects.json")
}

// WriteSuspects atomically writes the ranking.
func WriteSuspects(path string, s *Suspects) error { return writeJSON(path, s) }

// ReadSuspects reads and checks a ranking.
func ReadSuspects(path string) (*Suspects, error) {
	var s Suspects
	if err := readJSON(path, &s); err != nil {
		return nil, err
	}
	for i, it := range s.Items {
		if !IsHexDigest(it.SHA256, 64) {
			return nil, &RecordError{File: path, Field: fmt.Sprintf("items[%d].sha256", i), Err: fmt.Errorf("not a sha256 hex digest: %q", it.SHA256)}
		}
		if it.Rank != i+1 {
			return nil, &RecordError{File: path, Field: fmt.Sprintf("items[%d].rank", i), Err: fmt.Errorf("%d, want %d", it.Rank, i+1)}
		}
	}
	return &s, nil
}
