package manifests

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/chara-dev/chara/internal/atomicfile"
)

// The decisions of all classes are committed as one generation, so that a
// kill never leaves some classes' decisions new and others old: every
// class's new file is first staged whole as curated/<slug>.jsonl.next; then
// one small manifest, curated/_commit.json, naming each staged file with
// its SHA-256, is written atomically (the commit point); then the staged
// files are renamed over the old ones and the manifest removed. A kill
// before the manifest leaves the old generation (the staged files are
// removed by the next writer); a kill after it is rolled forward by the
// next writer (RecoverDecisions).

// DecisionsCommitPath is curated/_commit.json, present only while a
// generation of decisions is being switched in.
func DecisionsCommitPath(workspace string) string {
	return filepath.Join(workspace, "curated", "_commit.json")
}

const stagedSuffix = ".next"

type decisionsCommit struct {
	Files map[string]string `json:"files"` // decisions file base name -> sha256 of its new content
}

// ErrPendingCommit is returned by readers that find a generation of
// decisions half switched in (run a writing command to finish it).
var ErrPendingCommit = errors.New("an interrupted curation commit is pending")

// decisionsCommitHook, when set (tests), is called at each step of
// WriteDecisionSet; an error stops it there as a kill would.
var decisionsCommitHook func(step string) error

func commitStep(step string) error {
	if decisionsCommitHook != nil {
		return decisionsCommitHook(step)
	}
	return nil
}

// WriteDecisionSet writes the decisions of several classes (by slug) as one
// generation: after a kill at any moment, either all of them or none are
// in place once RecoverDecisions has run.
func WriteDecisionSet(workspace string, sets map[string][]Decision) error {
	if _, err := RecoverDecisions(workspace); err != nil {
		return err
	}
	slugs := make([]string, 0, len(sets))
	for s := range sets {
		slugs = append(slugs, s)
	}
	sort.Strings(slugs)
	commit := decisionsCommit{Files: map[string]string{}}
	for _, slug := range slugs {
		path := DecisionsPath(workspace, slug)
		b, err := encodeDecisions(path, sets[slug])
		if err != nil {
			return err
		}
		if err := atomicfile.WriteFile(path+stagedSuffix, b, 0o644); err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		commit.Files[filepath.Base(path)] = hex.EncodeToString(sum[:])
		if err := commitStep("stage " + slug); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(commit, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(DecisionsCommitPath(workspace), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := commitStep("commit"); err != nil {
		return err
	}
	_, err = RecoverDecisions(workspace)
	return err
}

// encodeDecisions sorts and validates decisions as WriteDecisions does and
// returns the file's content.
func encodeDecisions(path string, recs []Decision) ([]byte, error) {
	sorted := append([]Decision(nil), recs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].SHA256 < sorted[j].SHA256 })
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for i := range sorted {
		if f, err := sorted[i].Validate(); err != nil {
			return nil, &RecordError{File: path, Line: i + 1, Field: f, Err: err}
		}
		if err := enc.Encode(&sorted[i]); err != nil {
			return nil, err
		}
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// RecoverDecisions finishes or undoes an interrupted WriteDecisionSet: a
// committed generation is switched in whole, staged files of an
// uncommitted one and the temp files of interrupted writes in curated/ are
// removed. It reports whether it rolled a generation forward. Only the
// workspace's writer may call it.
func RecoverDecisions(workspace string) (bool, error) {
	dir := filepath.Join(workspace, "curated")
	cpath := DecisionsCommitPath(workspace)
	rolled := false
	b, err := os.ReadFile(cpath)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return false, err
	default:
		var c decisionsCommit
		if err := json.Unmarshal(b, &c); err != nil {
			return false, &RecordError{File: cpath, Err: err}
		}
		names := make([]string, 0, len(c.Files))
		for n := range c.Files {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			if err := CheckPlainName(n); err != nil {
				return false, &RecordError{File: cpath, Field: "files", Err: err}
			}
			final := filepath.Join(dir, n)
			staged := final + stagedSuffix
			if sum, err := fileSum(staged); err == nil && sum == c.Files[n] {
				atomicfile.Boundary("before rename " + final)
				if err := os.Rename(staged, final); err != nil {
					return false, err
				}
				atomicfile.Boundary("after rename " + final)
				if err := commitStep("switch " + n); err != nil {
					return false, err
				}
				continue
			}
			if sum, err := fileSum(final); err != nil || sum != c.Files[n] {
				return false, fmt.Errorf("%s: %w: %s is neither staged nor in place (file damaged?)", cpath, ErrPendingCommit, n)
			}
		}
		if err := atomicfile.SyncDir(dir); err != nil {
			return false, err
		}
		if err := os.Remove(cpath); err != nil {
			return false, err
		}
		atomicfile.Boundary("after remove " + cpath)
		rolled = true
	}
	staged, err := filepath.Glob(filepath.Join(dir, "*.jsonl"+stagedSuffix))
	if err != nil {
		return rolled, err
	}
	for _, s := range staged {
		if err := os.Remove(s); err != nil {
			return rolled, err
		}
	}
	if _, err := atomicfile.CleanTemp(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return rolled, err
	}
	if rolled || len(staged) > 0 {
		return rolled, atomicfile.SyncDir(dir)
	}
	return rolled, nil
}

// CheckNoPendingCommit returns ErrPendingCommit when a generation of
// decisions is half switched in, for readers that must not see a mix.
func CheckNoPendingCommit(workspace string) error {
	if _, err := os.Stat(DecisionsCommitPath(workspace)); err == nil {
		return fmt.Errorf("%s: %w (run \"chara curate\" to finish it)", DecisionsCommitPath(workspace), ErrPendingCommit)
	}
	return nil
}

func fileSum(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}
