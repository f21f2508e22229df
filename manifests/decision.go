package manifests

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"
)

// Verdict is what curation decided for one raw image.
type Verdict string

const (
	Keep      Verdict = "keep"
	Duplicate Verdict = "duplicate" // a near or exact copy of KeptSHA256
	Invalid   Verdict = "invalid"   // not decodable, truncated, too large, ...
	Filtered  Verdict = "filtered"  // failed a quality filter
	Rejected  Verdict = "rejected"  // rejected by a person in review
	Ambiguous Verdict = "ambiguous" // its duplicate group spans classes
)

// Valid reports whether v is a known verdict.
func (v Verdict) Valid() bool {
	switch v {
	case Keep, Duplicate, Invalid, Filtered, Rejected, Ambiguous:
		return true
	}
	return false
}

// Decision is one line of curated/<class-slug>.jsonl.
type Decision struct {
	SHA256     string  `json:"sha256"`
	File       string  `json:"file"` // path relative to the workspace, e.g. raw/nakano_miku/<sha>.jpg
	Class      string  `json:"class"`
	Decision   Verdict `json:"decision"`
	Reason     string  `json:"reason,omitempty"`
	Group      string  `json:"group,omitempty"`       // near-duplicate group id (stable: the smallest sha256 in the group)
	KeptSHA256 string  `json:"kept_sha256,omitempty"` // the group's kept copy
	PHash      string  `json:"phash,omitempty"`       // 16 hex digits
	DHash      string  `json:"dhash,omitempty"`       // 16 hex digits
	Width      int     `json:"width,omitempty"`
	Height     int     `json:"height,omitempty"`
	Format     string  `json:"format,omitempty"`
	Source     string  `json:"source,omitempty"`
	PostID     string  `json:"post_id,omitempty"`
}

// DecisionsPath is curated/<slug>.jsonl inside the workspace.
func DecisionsPath(workspace, slug string) string {
	return filepath.Join(workspace, "curated", slug+".jsonl")
}

// DecisionFiles lists the decisions files of a workspace. Other files in
// curated/ (the review journal, caches) start with '_', which no slug does.
func DecisionFiles(workspace string) ([]string, error) {
	all, err := filepath.Glob(filepath.Join(workspace, "curated", "*.jsonl"))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, p := range all {
		if !strings.HasPrefix(filepath.Base(p), "_") {
			out = append(out, p)
		}
	}
	return out, nil
}

// Validate checks one decision.
func (d *Decision) Validate() (string, error) {
	if !IsHexDigest(d.SHA256, 64) {
		return "sha256", fmt.Errorf("not a sha256 hex digest: %q", d.SHA256)
	}
	if err := CheckRelPath(d.File); err != nil {
		return "file", err
	}
	if d.Class == "" {
		return "class", fmt.Errorf("empty")
	}
	if !d.Decision.Valid() {
		return "decision", fmt.Errorf("unknown decision %q", d.Decision)
	}
	if d.PHash != "" && !IsHexDigest(d.PHash, 16) {
		return "phash", fmt.Errorf("not 16 hex digits: %q", d.PHash)
	}
	if d.DHash != "" && !IsHexDigest(d.DHash, 16) {
		return "dhash", fmt.Errorf("not 16 hex digits: %q", d.DHash)
	}
	if d.KeptSHA256 != "" && !IsHexDigest(d.KeptSHA256, 64) {
		return "kept_sha256", fmt.Errorf("not a sha256 hex digest: %q", d.KeptSHA256)
	}
	return "", nil
}

// ReadDecisions reads a decisions file. Duplicate sha256 rows are refused.
func ReadDecisions(path string) ([]Decision, error) {
	recs, err := readJSONL[Decision](path, false, (*Decision).Validate)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]int, len(recs))
	for i, r := range recs {
		if j, ok := seen[r.SHA256]; ok {
			return nil, recErr(path, i+1, "sha256", "duplicate row for %s (first at record %d)", r.SHA256, j+1)
		}
		seen[r.SHA256] = i
	}
	return recs, nil
}

// WriteDecisions sorts decisions by sha256 (stable across reruns) and writes
// them atomically.
func WriteDecisions(path string, recs []Decision) error {
	sorted := append([]Decision(nil), recs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].SHA256 < sorted[j].SHA256 })
	for i := range sorted {
		if f, err := sorted[i].Validate(); err != nil {
			return &RecordError{File: path, Line: i + 1, Field: f, Err: err}
		}
	}
	return writeJSONL(path, sorted)
}
