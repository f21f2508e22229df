package manifests

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/chara-dev/chara/internal/atomicfile"
)

// Class is one entry of classes.json: the label index is the position.
type Class struct {
	Label int    `json:"label"`
	Name  string `json:"name"`
	Slug  string `json:"slug"`
}

// DatasetDir is datasets/<name> inside the workspace.
func DatasetDir(workspace, name string) string { return filepath.Join(workspace, "datasets", name) }

// WriteClasses atomically writes classes.json after checking it.
func WriteClasses(path string, classes []Class) error {
	if err := checkClasses(path, classes); err != nil {
		return err
	}
	return writeJSON(path, classes)
}

// ReadClasses reads classes.json: labels must be 0..N-1 in order, names and
// slugs unique.
func ReadClasses(path string) ([]Class, error) {
	var cs []Class
	if err := readJSON(path, &cs); err != nil {
		return nil, err
	}
	if err := checkClasses(path, cs); err != nil {
		return nil, err
	}
	return cs, nil
}

func checkClasses(path string, cs []Class) error {
	names, slugs := map[string]bool{}, map[string]bool{}
	for i, c := range cs {
		if c.Label != i {
			return &RecordError{File: path, Line: i + 1, Field: "label", Err: fmt.Errorf("label %d at position %d", c.Label, i)}
		}
		if err := CheckPrintable(c.Name); err != nil {
			return &RecordError{File: path, Line: i + 1, Field: "name", Err: err}
		}
		want, err := Slug(c.Name)
		if err != nil {
			return &RecordError{File: path, Line: i + 1, Field: "name", Err: err}
		}
		if c.Slug != want && c.Slug != LegacySlug(c.Name) { // a dataset made before Slug kept every script
			return &RecordError{File: path, Line: i + 1, Field: "slug", Err: fmt.Errorf("slug %q, want %q", c.Slug, want)}
		}
		if names[c.Name] || slugs[c.Slug] {
			return &RecordError{File: path, Line: i + 1, Field: "name", Err: fmt.Errorf("duplicate class %q", c.Name)}
		}
		names[c.Name], slugs[c.Slug] = true, true
	}
	return nil
}

// SplitCounts is images per split.
type SplitCounts struct {
	Train int `json:"train"`
	Val   int `json:"val"`
	Test  int `json:"test"`
}

// Card is dataset.json: how the dataset was made and what it holds.
type Card struct {
	Name        string                 `json:"name"`
	Version     string                 `json:"version"` // DatasetVersion of the three manifests
	ToolVersion string                 `json:"tool_version"`
	CreatedAt   time.Time              `json:"created_at"`
	Seed        int64                  `json:"seed"`
	Config      map[string]any         `json:"config"`
	Recipe      Recipe                 `json:"recipe"`          // how a source picture became a dataset image
	Counts      map[string]SplitCounts `json:"counts"`          // class name -> per split
	Moved       int                    `json:"moved,omitempty"` // images that changed split since the previous build
	Notes       []string               `json:"notes,omitempty"`
}

// WriteCard atomically writes dataset.json.
func WriteCard(path string, c *Card) error { return writeJSON(path, c) }

// ReadCard reads dataset.json.
func ReadCard(path string) (*Card, error) {
	var c Card
	if err := readJSON(path, &c); err != nil {
		return nil, err
	}
	if c.Version == "" {
		return nil, &RecordError{File: path, Field: "version", Err: fmt.Errorf("empty")}
	}
	if err := c.Recipe.Check(false); err != nil {
		return nil, inFile(path, err)
	}
	return &c, nil
}

// DatasetVersion hashes the encoded train, val and test manifests (in that
// order) and classes.json: the dataset's content version.
func DatasetVersion(train, val, test, classes []byte) string {
	h := sha256.New()
	for _, b := range [][]byte{train, val, test, classes} {
		fmt.Fprintf(h, "%d\n", len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Dataset is a dataset read back from disk.
type Dataset struct {
	Dir     string
	Card    *Card
	Classes []Class
	Rows    map[Split][]SplitRow
}

// ReadDataset reads classes.json, dataset.json and the three manifests of
// the dataset in dir, and checks that they agree: labels match class names,
// and the card's version matches the manifests.
func ReadDataset(dir string) (*Dataset, error) {
	d := &Dataset{Dir: dir, Rows: map[Split][]SplitRow{}}
	var err error
	if d.Classes, err = ReadClasses(filepath.Join(dir, "classes.json")); err != nil {
		return nil, err
	}
	if d.Card, err = ReadCard(filepath.Join(dir, "dataset.json")); err != nil {
		return nil, err
	}
	var raw [3][]byte
	for i, s := range Splits {
		p := filepath.Join(dir, string(s)+".csv")
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		raw[i] = b
		rows, err := DecodeSplit(p, bytesReader(b), s)
		if err != nil {
			return nil, err
		}
		for j, r := range rows {
			if r.Label >= len(d.Classes) || d.Classes[r.Label].Name != r.Class {
				return nil, recErr(p, j+2, "label", "label %d does not name class %q in classes.json", r.Label, r.Class)
			}
		}
		d.Rows[s] = rows
	}
	cb, err := os.ReadFile(filepath.Join(dir, "classes.json"))
	if err != nil {
		return nil, err
	}
	if v := DatasetVersion(raw[0], raw[1], raw[2], cb); v != d.Card.Version {
		return nil, recErr(filepath.Join(dir, "dataset.json"), 0, "version", "card says %s but the manifests hash to %s (edited by hand?)", d.Card.Version, v)
	}
	return d, nil
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return &RecordError{File: path, Err: fmt.Errorf("invalid JSON: %w", err)}
	}
	return nil
}
