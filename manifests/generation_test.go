package manifests

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func genDecisions(gen int, slug string) []Decision {
	var out []Decision
	for i := 0; i < 3; i++ {
		sha := fmt.Sprintf("%064x", gen*100+i+len(slug)*1000)
		out = append(out, Decision{SHA256: sha, File: "raw/" + slug + "/" + sha + ".png", Class: slug, Decision: Keep, Reason: fmt.Sprint("gen", gen)})
	}
	return out
}

// A kill at any step of a generation's commit leaves, once recovered,
// every class's decisions of one generation: the old before the commit
// point, the new after it; and no staged or temp file.
func TestDecisionSetIsAllOrNothing(t *testing.T) {
	slugs := []string{"alpha", "beta", "gamma"}
	set := func(gen int) map[string][]Decision {
		m := map[string][]Decision{}
		for _, s := range slugs {
			m[s] = genDecisions(gen, s)
		}
		return m
	}
	steps := []string{"stage alpha", "stage beta", "stage gamma", "commit", "switch alpha.jsonl", "switch beta.jsonl"}
	crash := errors.New("crash")
	defer func() { decisionsCommitHook = nil }()
	for si, step := range steps {
		ws := t.TempDir()
		if err := WriteDecisionSet(ws, set(1)); err != nil {
			t.Fatal(err)
		}
		decisionsCommitHook = func(s string) error {
			if s == step {
				return crash
			}
			return nil
		}
		if err := WriteDecisionSet(ws, set(2)); !errors.Is(err, crash) {
			t.Fatalf("%s: %v, want the crash", step, err)
		}
		decisionsCommitHook = nil
		if si >= 3 {
			if err := CheckNoPendingCommit(ws); !errors.Is(err, ErrPendingCommit) {
				t.Errorf("after a kill past the commit point: %v, want ErrPendingCommit", err)
			}
		}
		rolled, err := RecoverDecisions(ws)
		if err != nil {
			t.Fatalf("%s: recover: %v", step, err)
		}
		want := 1
		if si >= 3 {
			want = 2
		}
		if rolled != (want == 2) {
			t.Errorf("%s: rolled forward %v", step, rolled)
		}
		for _, s := range slugs {
			got, err := ReadDecisions(DecisionsPath(ws, s))
			if err != nil {
				t.Fatal(err)
			}
			if got[0].Reason != fmt.Sprint("gen", want) {
				t.Errorf("kill after %s: %s has generation %s, want %d", step, s, got[0].Reason, want)
			}
		}
		ents, _ := os.ReadDir(filepath.Join(ws, "curated"))
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), ".jsonl") {
				t.Errorf("kill after %s: %s left in curated/", step, e.Name())
			}
		}
		if err := CheckNoPendingCommit(ws); err != nil {
			t.Error(err)
		}
	}
}
