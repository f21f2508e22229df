package manifests

import (
	"fmt"
	"path/filepath"
	"time"
)

// ReviewAction is one click in the review page, kept in the append-only
// journal curated/_review.jsonl. The last action for a sha256 wins. Curation
// applies it on every rerun, and scrape adds rejected posts to its archive.
type ReviewAction struct {
	SHA256 string    `json:"sha256"`
	Class  string    `json:"class"`
	Action string    `json:"action"` // "reject" or "restore"
	At     time.Time `json:"at"`
}

// ReviewPath is curated/_review.jsonl inside the workspace.
func ReviewPath(workspace string) string { return filepath.Join(workspace, "curated", "_review.jsonl") }

// Validate checks one review action.
func (a *ReviewAction) Validate() (string, error) {
	if !IsHexDigest(a.SHA256, 64) {
		return "sha256", fmt.Errorf("not a sha256 hex digest: %q", a.SHA256)
	}
	if a.Action != "reject" && a.Action != "restore" {
		return "action", fmt.Errorf("unknown action %q (want reject or restore)", a.Action)
	}
	return "", nil
}

// AppendReview records review actions durably.
func AppendReview(path string, acts ...ReviewAction) error {
	for i := range acts {
		if f, err := acts[i].Validate(); err != nil {
			return &RecordError{File: path, Field: f, Err: err}
		}
	}
	return appendJSONL(path, acts...)
}

// ReadReview returns the journal, and the current state: sha256 -> rejected.
// A missing journal is empty.
func ReadReview(path string) ([]ReviewAction, map[string]bool, error) {
	acts, err := readJSONL[ReviewAction](path, true, (*ReviewAction).Validate)
	if err != nil {
		if isNotExist(err) {
			return nil, map[string]bool{}, nil
		}
		return nil, nil, err
	}
	state := map[string]bool{}
	for _, a := range acts {
		if a.Action == "reject" {
			state[a.SHA256] = true
		} else {
			delete(state, a.SHA256)
		}
	}
	return acts, state, nil
}
