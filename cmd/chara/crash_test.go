package main

// The crash harness: every stage (scrape, import, curate, dataset build,
// train and chara run) is killed with SIGKILL at write boundaries (the k-th commit
// step that internal/atomicfile.Boundary marks, counted in an
// uninterrupted run) and at random moments, in a child process (this test
// binary re-executed); then the same command is run again, and the
// workspace is checked against an uninterrupted run's:
//   - nothing lost: every class has the files of the uninterrupted run;
//   - no orphan: no raw file outside its index, no temp file, no staged
//     curation file, no checkpoint tensor file that no manifest names;
//   - no unresumable run: the rerun succeeds (exit 0);
//   - reruns equal uninterrupted runs: decisions, dataset manifests and
//     training metrics (all but the seconds) are the same bytes.
//
// The short form runs in CI. CHARA_CRASH=long kills at every boundary of
// every stage (up to CHARA_CRASH_MAX_POINTS per stage, evenly spread) plus
// CHARA_CRASH_RANDOM random kills per stage; CHARA_CRASH_REPORT=FILE
// writes the tally (RELIABILITY.md records a long run).

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/manifests"
)

// TestCrashChild is the process the harness kills: it runs the chara
// command in CHARA_CRASH_ARGS (JSON), SIGKILLs itself at write boundary
// number CHARA_CRASH_KILL_AT (0: never), and writes how many boundaries
// it passed to CHARA_CRASH_COUNT.
func TestCrashChild(t *testing.T) {
	raw := os.Getenv("CHARA_CRASH_ARGS")
	if raw == "" {
		t.Skip("run by TestCrashHarness")
	}
	var args []string
	if err := json.Unmarshal([]byte(raw), &args); err != nil {
		t.Fatal(err)
	}
	killAt, _ := strconv.ParseInt(os.Getenv("CHARA_CRASH_KILL_AT"), 10, 64)
	var n atomic.Int64
	atomicfile.SetBoundaryHook(func(string) {
		if k := n.Add(1); killAt > 0 && k == killAt {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	})
	code := run(context.Background(), append([]string{"chara"}, args...), os.Stdout, os.Stderr)
	if f := os.Getenv("CHARA_CRASH_COUNT"); f != "" {
		os.WriteFile(f, []byte(strconv.FormatInt(n.Load(), 10)), 0o644)
	}
	os.Exit(code)
}

type crashStage struct {
	name     string
	args     func(ws string) []string // the command (and its rerun)
	from, to string                   // snapshots: input workspace, uninterrupted result
}

type crashTally struct {
	Stage      string   `json:"stage"`
	Boundaries int64    `json:"boundaries"` // in an uninterrupted run
	Kills      int      `json:"kills"`      // processes that died by SIGKILL
	Boundary   int      `json:"boundary_kills"`
	Random     int      `json:"random_kills"`
	Reruns     int      `json:"reruns"` // all succeeded, or a finding says otherwise
	Findings   []string `json:"findings"`
}

func TestCrashHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	long := os.Getenv("CHARA_CRASH") == "long"
	maxPoints, randomKills := 2, 1
	if long {
		maxPoints, randomKills = 1000, 6
		if n, err := strconv.Atoi(os.Getenv("CHARA_CRASH_MAX_POINTS")); err == nil {
			maxPoints = n
		}
		if n, err := strconv.Atoi(os.Getenv("CHARA_CRASH_RANDOM")); err == nil {
			randomKills = n
		}
	}
	root := t.TempDir()
	snap := func(name string) string { return filepath.Join(root, "snap-"+name) }
	// The uninterrupted runs, stage by stage, and chara run whole.
	ref := filepath.Join(root, "ref")
	startSite(t, ref)
	copyTree(t, ref, snap("init"))
	cfg, err := config.Load(filepath.Join(ref, "chara.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	imports := filepath.Join(root, "imports") // chara import's folder
	writeImportImages(t, imports, 6)
	importArgs := []string{"import", imports, "--class", cfg.Classes[0].Name}
	for _, s := range []struct {
		name string
		args []string
	}{
		{"scrape", []string{"scrape"}}, {"import", importArgs}, {"curate", []string{"curate"}},
		{"dataset", []string{"dataset", "build"}}, {"train", []string{"train", "--model", "cnn", "--name", "r"}},
	} {
		if code, out := chara(t, ref, "", s.args...); code != 0 {
			t.Fatalf("reference %s: exit %d\n%s", s.name, code, out)
		}
		copyTree(t, ref, snap(s.name))
	}
	refRun := filepath.Join(root, "ref-run")
	copyTree(t, snap("init"), refRun)
	if code, out := chara(t, refRun, "", "run"); code != 0 {
		t.Fatalf("reference run: exit %d\n%s", code, out)
	}
	trainArgs := func(ws string) []string {
		args := []string{"train", "--model", "cnn", "--name", "r"}
		if _, err := os.Stat(filepath.Join(manifests.RunDir(ws, "r"), "last.json")); err == nil {
			args = append(args, "--resume")
		}
		return args
	}
	fixed := func(a ...string) func(string) []string { return func(string) []string { return a } }
	stages := []crashStage{
		{"scrape", fixed("scrape"), snap("init"), snap("scrape")},
		{"import", fixed(importArgs...), snap("scrape"), snap("import")},
		{"curate", fixed("curate"), snap("import"), snap("curate")},
		{"dataset", fixed("dataset", "build"), snap("curate"), snap("dataset")},
		{"train", trainArgs, snap("dataset"), snap("train")},
		{"run", fixed("run"), snap("init"), refRun},
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 15))
	var tallies []*crashTally
	for _, st := range stages {
		tally := &crashTally{Stage: st.name}
		tallies = append(tallies, tally)
		t.Run(st.name, func(t *testing.T) {
			finding := func(format string, args ...any) {
				msg := fmt.Sprintf(format, args...)
				tally.Findings = append(tally.Findings, msg)
				t.Error(msg)
			}
			// Count the boundaries of an uninterrupted run.
			ws := filepath.Join(root, st.name+"-count")
			copyTree(t, st.from, ws)
			countFile := filepath.Join(root, st.name+".count")
			start := time.Now()
			if code, out := crashChild(ws, st.args(ws), 0, countFile).wait(); code != 0 {
				t.Fatalf("uninterrupted %s: exit %d\n%s", st.name, code, out)
			}
			span := time.Since(start)
			b, _ := os.ReadFile(countFile)
			tally.Boundaries, _ = strconv.ParseInt(string(b), 10, 64)
			if tally.Boundaries == 0 {
				t.Fatalf("%s passed no write boundary", st.name)
			}
			points := killPoints(tally.Boundaries, maxPoints)
			trial := 0
			rerun := func(ws, how string) bool {
				code, out := crashChild(ws, st.args(ws), 0, "").wait()
				tally.Reruns++
				if code != 0 {
					finding("%s: unresumable after %s: the rerun exited %d: %s", st.name, how, code, lastLines(out, 6))
					return false
				}
				for _, f := range compareWorkspaces(ws, st.to) {
					finding("%s after %s: %s", st.name, how, f)
				}
				return true
			}
			for _, k := range points {
				trial++
				ws := filepath.Join(root, fmt.Sprintf("%s-%d", st.name, trial))
				copyTree(t, st.from, ws)
				c := crashChild(ws, st.args(ws), k, "")
				if killed, _ := c.killed(); killed {
					tally.Kills++
					tally.Boundary++
				}
				rerun(ws, fmt.Sprintf("a kill at boundary %d of %d", k, tally.Boundaries))
				os.RemoveAll(ws)
			}
			for i := 0; i < randomKills; i++ {
				trial++
				ws := filepath.Join(root, fmt.Sprintf("%s-%d", st.name, trial))
				copyTree(t, st.from, ws)
				// Two kills in a row at random moments, then the rerun.
				var at []string
				for j := 0; j < 2; j++ {
					d := time.Duration(rng.Int64N(int64(span)))
					c := crashChild(ws, st.args(ws), 0, "")
					time.Sleep(d)
					c.cmd.Process.Kill()
					if killed, _ := c.killed(); killed {
						tally.Kills++
						tally.Random++
					}
					at = append(at, d.Round(time.Millisecond).String())
				}
				rerun(ws, "kills at "+strings.Join(at, " and ")+" (random)")
				os.RemoveAll(ws)
			}
			t.Logf("%s: %d boundaries, %d kills (%d at boundaries, %d at random), %d reruns, %d findings",
				st.name, tally.Boundaries, tally.Kills, tally.Boundary, tally.Random, tally.Reruns, len(tally.Findings))
		})
	}
	total := 0
	for _, tl := range tallies {
		total += tl.Kills
	}
	t.Logf("%d kills in all", total)
	if path := os.Getenv("CHARA_CRASH_REPORT"); path != "" {
		b, _ := json.MarshalIndent(tallies, "", "  ")
		os.WriteFile(path, append(b, '\n'), 0o644)
	}
}

// killPoints spreads at most n of the boundaries 1..total evenly.
func killPoints(total int64, n int) []int64 {
	if int64(n) >= total {
		out := make([]int64, total)
		for i := range out {
			out[i] = int64(i) + 1
		}
		return out
	}
	out := make([]int64, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, 1+int64(i)*(total-1)/int64(max(n-1, 1)))
	}
	return out
}

type child struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan error
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// crashChild starts the chara command args on ws in a child process.
func crashChild(ws string, args []string, killAt int64, countFile string) *child {
	a, _ := json.Marshal(append([]string{"--workspace", ws, "--log-format", "text"}, args...))
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CHARA_CRASH_ARGS="+string(a), "CHARA_CRASH_KILL_AT="+strconv.FormatInt(killAt, 10),
		"CHARA_CRASH_COUNT="+countFile, "CHARA_CRASH=")
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	c := &child{cmd: cmd, out: out, done: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		c.done <- err
		return c
	}
	go func() { c.done <- cmd.Wait() }()
	return c
}

// wait returns the exit code (-1 for a signal) and the output.
func (c *child) wait() (int, string) {
	err := <-c.done
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, c.out.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), c.out.String()
	}
	return -2, err.Error()
}

// killed waits and reports whether the child died by SIGKILL.
func (c *child) killed() (bool, string) {
	err := <-c.done
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL {
			return true, c.out.String()
		}
	}
	return false, c.out.String()
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, " | ")
}

// copyTree copies the regular files and folders of src to dst.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if info.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		if err := out.Close(); err != nil {
			return err
		}
		return os.Chtimes(target, info.ModTime(), info.ModTime())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// compareWorkspaces checks ws against the uninterrupted ref and returns
// what is wrong: lost or orphan files, leftovers, and outputs that differ.
func compareWorkspaces(ws, ref string) []string {
	var bad []string
	add := func(format string, args ...any) { bad = append(bad, fmt.Sprintf(format, args...)) }
	// Leftovers anywhere.
	filepath.Walk(ws, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return nil
		}
		n := info.Name()
		rel, _ := filepath.Rel(ws, p)
		if strings.Contains(n, ".tmp-") || strings.HasSuffix(n, ".jsonl.next") || rel == filepath.Join("curated", "_commit.json") {
			add("leftover %s", rel)
		}
		return nil
	})
	// Raw: every index record a complete file, every file indexed, the
	// same files as the uninterrupted run.
	refRaw, wsRaw := rawSets(ref, nil), rawSets(ws, &bad)
	for slug, want := range refRaw {
		got := wsRaw[slug]
		lost := 0
		for sha := range want {
			if !got[sha] {
				lost++
			}
		}
		if lost > 0 || len(got) != len(want) {
			add("raw/%s: %d files (%d of the uninterrupted run's missing), want %d", slug, len(got), lost, len(want))
		}
	}
	// Byte-identical outputs where the uninterrupted run has them.
	same := func(rel string, norm func([]byte) string) {
		want, err := os.ReadFile(filepath.Join(ref, rel))
		if err != nil {
			return
		}
		got, err := os.ReadFile(filepath.Join(ws, rel))
		if err != nil {
			add("%s missing: %v", rel, err)
			return
		}
		if norm == nil {
			norm = func(b []byte) string { return string(b) }
		}
		if norm(got) != norm(want) {
			add("%s differs from the uninterrupted run's", rel)
		}
	}
	decs, _ := filepath.Glob(filepath.Join(ref, "curated", "*.jsonl"))
	for _, d := range decs {
		if !strings.HasPrefix(filepath.Base(d), "_") {
			same(filepath.Join("curated", filepath.Base(d)), nil)
		}
	}
	for _, f := range []string{"train.csv", "val.csv", "test.csv", "classes.json"} {
		same(filepath.Join("datasets", "default", f), nil)
	}
	refRuns, _ := filepath.Glob(filepath.Join(ref, "runs", "*", "metrics.csv"))
	for _, m := range refRuns {
		run := filepath.Base(filepath.Dir(m))
		same(filepath.Join("runs", run, "metrics.csv"), metricsSansSeconds)
		same(filepath.Join("runs", run, "run.json"), func(b []byte) string {
			var c manifests.RunCard
			if json.Unmarshal(b, &c) != nil {
				return "unreadable"
			}
			return fmt.Sprint(c.Finished, c.Epochs, c.BestEpoch, c.BestValAcc, c.TestAcc, c.TestLoss)
		})
		bad = append(bad, checkpointOrphans(filepath.Join(ws, "runs", run))...)
	}
	return bad
}

// rawSets reads raw/<slug>/index.jsonl of every class: slug -> sha256s,
// checking (when bad is not nil) that every record names its complete
// file and every content file is listed.
func rawSets(ws string, bad *[]string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	dirs, _ := filepath.Glob(filepath.Join(ws, "raw", "*"))
	for _, d := range dirs {
		slug := filepath.Base(d)
		recs, err := manifests.ReadRawIndex(filepath.Join(d, "index.jsonl"))
		if err != nil && bad != nil {
			*bad = append(*bad, fmt.Sprintf("raw/%s/index.jsonl: %v", slug, err))
		}
		set, listed := map[string]bool{}, map[string]bool{}
		for _, r := range recs {
			set[r.SHA256], listed[r.File] = true, true
			if bad == nil {
				continue
			}
			if sum, err := fileSHA(filepath.Join(d, r.File)); err != nil || sum != r.SHA256 {
				*bad = append(*bad, fmt.Sprintf("raw/%s/%s: indexed but missing or not its bytes (%v)", slug, r.File, err))
			}
		}
		if bad != nil {
			ents, _ := os.ReadDir(d)
			for _, e := range ents {
				stem, _, _ := strings.Cut(e.Name(), ".")
				if manifests.IsHexDigest(stem, 64) && !listed[e.Name()] {
					*bad = append(*bad, fmt.Sprintf("raw/%s/%s: orphan (on disk, not in the index)", slug, e.Name()))
				}
			}
		}
		out[slug] = set
	}
	return out
}

// checkpointOrphans lists tensor files of a run folder that neither
// last.json nor best.json names.
func checkpointOrphans(dir string) []string {
	named := map[string]bool{"best.ot": true}
	for _, k := range []string{"last.json", "best.json"} {
		var c struct{ Weights, Optimizer string }
		if b, err := os.ReadFile(filepath.Join(dir, k)); err == nil && json.Unmarshal(b, &c) == nil {
			named[c.Weights], named[c.Optimizer] = true, true
		}
	}
	var bad []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".ot") && !named[e.Name()] {
			bad = append(bad, fmt.Sprintf("runs/%s/%s: tensor file no checkpoint names", filepath.Base(dir), e.Name()))
		}
	}
	sort.Strings(bad)
	return bad
}

func metricsSansSeconds(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	for i, l := range lines {
		if j := strings.LastIndexByte(l, ','); j >= 0 {
			lines[i] = l[:j] // seconds is the last column
		}
	}
	return strings.Join(lines, "\n")
}

func fileSHA(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:]), nil
}

// writeImportImages writes n distinct small PNGs into dir.
func writeImportImages(t *testing.T, dir string, n int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(42, uint64(n)))
	for i := 0; i < n; i++ {
		img := image.NewNRGBA(image.Rect(0, 0, 48, 96))
		for p := range img.Pix {
			img.Pix[p] = uint8(rng.IntN(256))
		}
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("photo%d.png", i)), buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
