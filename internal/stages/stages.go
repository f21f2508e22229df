// Package stages remembers, per workspace, which pipeline stage last
// finished on which inputs, so that `chara run` can skip a stage whose
// inputs and configuration have not changed. The record is written only
// after a stage finishes, so an interrupted stage simply runs again (every
// stage is itself resumable).
package stages

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/manifests"
)

// Record is one finished stage.
type Record struct {
	Inputs   string    `json:"inputs"`
	Finished time.Time `json:"finished"`
}

// State is workspace/.chara/stages.json.
type State struct {
	path   string
	Stages map[string]Record `json:"stages"`
}

// Path is where the state lives in a workspace.
func Path(workspace string) string { return manifests.StagesPath(workspace) }

// Load reads the state; a missing file is an empty state.
func Load(workspace string) (*State, error) {
	s := &State{path: Path(workspace), Stages: map[string]Record{}}
	b, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("%s: invalid JSON: %w (delete it to rerun every stage)", s.path, err)
	}
	if s.Stages == nil {
		s.Stages = map[string]Record{}
	}
	return s, nil
}

// Fresh reports whether stage last finished on exactly these inputs.
func (s *State) Fresh(stage, inputs string) bool {
	r, ok := s.Stages[stage]
	return ok && r.Inputs == inputs
}

// Done records that stage finished on inputs, durably.
func (s *State) Done(stage, inputs string, now time.Time) error {
	s.Stages[stage] = Record{Inputs: inputs, Finished: now.UTC()}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(s.path, append(b, '\n'), 0o644)
}

// Forget drops a stage's record (it will run next time).
func (s *State) Forget(stage string) { delete(s.Stages, stage) }

// Hasher builds an inputs fingerprint from values and file contents.
type Hasher struct{ h io.Writer }

// NewHasher starts a fingerprint.
func NewHasher() *Hasher { return &Hasher{h: sha256.New()} }

// Value adds a JSON-encodable value (configuration sections, names).
func (h *Hasher) Value(label string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("fingerprint %s: %w", label, err)
	}
	fmt.Fprintf(h.h, "v %s %d\n", label, len(b))
	h.h.Write(b)
	return nil
}

// Files adds the contents of every file matching the glob patterns, in
// sorted order. Missing files simply do not contribute.
func (h *Hasher) Files(patterns ...string) error {
	var paths []string
	for _, p := range patterns {
		m, err := filepath.Glob(p)
		if err != nil {
			return fmt.Errorf("fingerprint %s: %w", p, err)
		}
		paths = append(paths, m...)
	}
	sort.Strings(paths)
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("fingerprint: %w", err)
		}
		fmt.Fprintf(h.h, "f %s\n", filepath.Base(p))
		_, err = io.Copy(h.h, f)
		f.Close()
		if err != nil {
			return fmt.Errorf("fingerprint %s: %w", p, err)
		}
	}
	return nil
}

// Sum is the fingerprint so far.
func (h *Hasher) Sum() string {
	return hex.EncodeToString(h.h.(interface{ Sum([]byte) []byte }).Sum(nil))[:20]
}
