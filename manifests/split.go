package manifests

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/chara-dev/chara/internal/atomicfile"
)

// Split names one side of a dataset.
type Split string

const (
	Train Split = "train"
	Val   Split = "val"
	Test  Split = "test"
)

// Splits lists the splits in their canonical order.
var Splits = []Split{Train, Val, Test}

// ParseSplit checks a split name.
func ParseSplit(s string) (Split, error) {
	switch Split(s) {
	case Train, Val, Test:
		return Split(s), nil
	}
	return "", fmt.Errorf("unknown split %q (want train, val or test)", s)
}

// SplitHeader is the exact header of train.csv, val.csv and test.csv.
var SplitHeader = []string{"path", "label", "class", "split", "sha256", "phash", "width", "height", "source", "post_id"}

// SplitRow is one image of a split manifest. Path is relative to the dataset
// folder. SHA256 is the hash of the raw (curated) source image, the
// identity used for stability; Path names the processed file.
type SplitRow struct {
	Path   string
	Label  int
	Class  string
	Split  Split
	SHA256 string
	PHash  string
	Width  int
	Height int
	Source string
	PostID string
}

func (r *SplitRow) record() []string {
	return []string{r.Path, strconv.Itoa(r.Label), r.Class, string(r.Split), r.SHA256, r.PHash,
		strconv.Itoa(r.Width), strconv.Itoa(r.Height), r.Source, r.PostID}
}

// Validate checks one row on its own.
func (r *SplitRow) Validate() (string, error) {
	if err := CheckRelPath(r.Path); err != nil {
		return "path", err
	}
	if r.Label < 0 {
		return "label", fmt.Errorf("negative label %d", r.Label)
	}
	if r.Class == "" {
		return "class", fmt.Errorf("empty")
	}
	if _, err := ParseSplit(string(r.Split)); err != nil {
		return "split", err
	}
	if !IsHexDigest(r.SHA256, 64) {
		return "sha256", fmt.Errorf("not a sha256 hex digest: %q", r.SHA256)
	}
	if r.PHash != "" && !IsHexDigest(r.PHash, 16) {
		return "phash", fmt.Errorf("not 16 hex digits: %q", r.PHash)
	}
	if r.Width <= 0 || r.Height <= 0 {
		return "width", fmt.Errorf("size must be positive, got %dx%d", r.Width, r.Height)
	}
	return "", nil
}

// EncodeSplit renders rows as manifest CSV bytes (header first). The bytes
// are what WriteSplit writes, and what the dataset version hashes.
func EncodeSplit(rows []SplitRow) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(SplitHeader); err != nil {
		return nil, err
	}
	for i := range rows {
		if f, err := rows[i].Validate(); err != nil {
			return nil, &RecordError{Line: i + 2, Field: f, Err: err}
		}
		if err := w.Write(rows[i].record()); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// WriteSplit atomically writes a split manifest.
func WriteSplit(path string, rows []SplitRow) error {
	b, err := EncodeSplit(rows)
	if err != nil {
		var re *RecordError
		if errors.As(err, &re) {
			re.File = path
		}
		return err
	}
	return atomicfile.WriteFile(path, b, 0o644)
}

// ReadSplit reads and validates a split manifest: the header must match
// exactly, every row must be valid, its split column must equal want (if
// want is not empty), and no path or sha256 may repeat.
func ReadSplit(path string, want Split) ([]SplitRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return DecodeSplit(path, bufio.NewReader(f), want)
}

// DecodeSplit is ReadSplit on a reader; name is used in errors.
func DecodeSplit(name string, r io.Reader, want Split) ([]SplitRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, recErr(name, 1, "", "missing header: %v", err)
	}
	if strings.Join(head, ",") != strings.Join(SplitHeader, ",") {
		return nil, recErr(name, 1, "", "header is %q, want %q", strings.Join(head, ","), strings.Join(SplitHeader, ","))
	}
	var rows []SplitRow
	paths := map[string]int{}
	shas := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// FieldPos is only valid after a successful Read.
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			return nil, recErr(name, line, "", "%v", err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(SplitHeader) {
			return nil, recErr(name, line, "", "%d columns, want %d", len(rec), len(SplitHeader))
		}
		row := SplitRow{Path: rec[0], Class: rec[2], Split: Split(rec[3]), SHA256: rec[4], PHash: rec[5], Source: rec[8], PostID: rec[9]}
		if row.Label, err = strconv.Atoi(rec[1]); err != nil {
			return nil, recErr(name, line, "label", "not an integer: %q", rec[1])
		}
		if row.Width, err = strconv.Atoi(rec[6]); err != nil {
			return nil, recErr(name, line, "width", "not an integer: %q", rec[6])
		}
		if row.Height, err = strconv.Atoi(rec[7]); err != nil {
			return nil, recErr(name, line, "height", "not an integer: %q", rec[7])
		}
		if f, err := row.Validate(); err != nil {
			return nil, &RecordError{File: name, Line: line, Field: f, Err: err}
		}
		if want != "" && row.Split != want {
			return nil, recErr(name, line, "split", "row says %q in the %q manifest", row.Split, want)
		}
		if prev, ok := paths[row.Path]; ok {
			return nil, recErr(name, line, "path", "duplicate row for %q (first at line %d)", row.Path, prev)
		}
		if prev, ok := shas[row.SHA256]; ok {
			return nil, recErr(name, line, "sha256", "duplicate row for %s (first at line %d)", row.SHA256, prev)
		}
		paths[row.Path] = line
		shas[row.SHA256] = line
		rows = append(rows, row)
	}
	return rows, nil
}
