package manifests

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"
)

// RawRecord is one line of raw/<class-slug>/index.jsonl: one downloaded or
// imported file.
type RawRecord struct {
	SHA256    string    `json:"sha256"`
	File      string    `json:"file"` // file name inside raw/<class-slug>/
	Source    string    `json:"source"`
	PostID    string    `json:"post_id,omitempty"`
	URL       string    `json:"url,omitempty"`
	MD5       string    `json:"md5,omitempty"`
	Width     int       `json:"width,omitempty"`
	Height    int       `json:"height,omitempty"`
	Rating    string    `json:"rating,omitempty"`
	Tags      []string  `json:"tags,omitempty"`
	FetchedAt time.Time `json:"fetched_at"`
}

// rawDir is the folder of raw files, one sub-folder per class slug.
const rawDir = "raw"

// RawIndexPath is raw/<slug>/index.jsonl inside the workspace.
func RawIndexPath(workspace, slug string) string {
	return filepath.Join(workspace, rawDir, slug, "index.jsonl")
}

// RawDir is raw/<slug> inside the workspace.
func RawDir(workspace, slug string) string { return filepath.Join(workspace, rawDir, slug) }

// RawRel is the workspace-relative, slash-separated path of a raw file:
// raw/<slug>/<file>.
func RawRel(slug, file string) string { return path.Join(rawDir, slug, file) }

// Validate checks one raw record.
func (r *RawRecord) Validate() (field string, err error) {
	if !IsHexDigest(r.SHA256, 64) {
		return "sha256", fmt.Errorf("not a sha256 hex digest: %q", r.SHA256)
	}
	if err := CheckPlainName(r.File); err != nil {
		return "file", err
	}
	if r.Source == "" {
		return "source", fmt.Errorf("empty")
	}
	if r.MD5 != "" && !IsHexDigest(strings.ToLower(r.MD5), 32) {
		return "md5", fmt.Errorf("not an md5 hex digest: %q", r.MD5)
	}
	if r.Width < 0 || r.Height < 0 {
		return "width", fmt.Errorf("negative size %dx%d", r.Width, r.Height)
	}
	return "", nil
}

// ReadRawIndex reads a raw index. A missing file is an empty index. A torn
// last line (a crash mid-append) is ignored.
func ReadRawIndex(path string) ([]RawRecord, error) {
	recs, err := readJSONL[RawRecord](path, true, (*RawRecord).Validate)
	if err != nil && isNotExist(err) {
		return nil, nil
	}
	return recs, err
}

// AppendRawIndex appends records to a raw index and fsyncs it. Call it only
// after the files are safely on disk.
func AppendRawIndex(path string, recs ...RawRecord) error {
	for i := range recs {
		if f, err := recs[i].Validate(); err != nil {
			return &RecordError{File: path, Field: f, Err: err}
		}
	}
	return appendJSONL(path, recs...)
}

// WriteRawIndex atomically replaces a raw index.
func WriteRawIndex(path string, recs []RawRecord) error { return writeJSONL(path, recs) }
