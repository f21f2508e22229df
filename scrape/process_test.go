package scrape

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/booru"
	"github.com/chara-dev/chara/manifests"
)

// TestHelperProcess is not a test: the SIGKILL and Redis tests re-execute
// the test binary with CHARA_SCRAPE_HELPER=1 to run a scrape in another
// process.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("CHARA_SCRAPE_HELPER") != "1" {
		t.Skip("helper process for the SIGKILL and Redis tests")
	}
	if gate := os.Getenv("HELPER_GATE"); gate != "" {
		for {
			if _, err := os.Stat(gate); err == nil {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	cand, _ := strconv.Atoi(os.Getenv("HELPER_CANDIDATES"))
	par, _ := strconv.Atoi(os.Getenv("HELPER_PARALLELISM"))
	opts := baseOpts(Source{Kind: "danbooru", URL: os.Getenv("HELPER_URL"), Limit: 10, Parallelism: par}, "nakano_miku", cand)
	if r := os.Getenv("HELPER_REDIS"); r != "" {
		opts = append(opts, WithRedis(r))
	}
	sum, err := New(os.Getenv("HELPER_WS"), opts...).Run(context.Background())
	b, _ := json.Marshal(sum)
	_ = os.WriteFile(os.Getenv("HELPER_OUT"), b, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(0)
}

func helper(t *testing.T, ws, url, redisURL, gate string, candidates, parallelism int) (*exec.Cmd, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "summary.json")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CHARA_SCRAPE_HELPER=1", "HELPER_WS="+ws, "HELPER_URL="+url,
		"HELPER_REDIS="+redisURL, "HELPER_GATE="+gate, "HELPER_OUT="+out,
		"HELPER_CANDIDATES="+strconv.Itoa(candidates), "HELPER_PARALLELISM="+strconv.Itoa(parallelism))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, out
}

func indexLines(path string) int {
	b, _ := os.ReadFile(path)
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n
}

func TestKilledRunResumes(t *testing.T) {
	const total, par = 60, 4
	b := booru.New(makePosts(1, total, "nakano_miku"),
		booru.WithFaults(booru.Fault{Kind: booru.Slow, On: booru.Files, Delay: 40 * time.Millisecond}))
	ts, settled := startTracked(t, b)
	ws := t.TempDir()
	index := manifests.RawIndexPath(ws, "nakano_miku")

	cmd, _ := helper(t, ws, ts.URL, "", "", total, par)
	deadline := time.Now().Add(30 * time.Second)
	for indexLines(index) < 15 {
		if time.Now().After(deadline) {
			t.Fatal("the helper wrote no index lines in 30s")
		}
		time.Sleep(3 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("helper ended with %v, want killed by SIGKILL", err)
	}
	first, err := manifests.ReadRawIndex(index)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) >= total {
		t.Fatalf("the helper finished (%d files) before it was killed", len(first))
	}
	settled()      // every request the killed run sent has been counted
	requested := 0 // by the killed run
	for _, n := range b.FileRequests() {
		requested += n
	}

	sum := runScrape(t, ws, baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 10, Parallelism: par}, "nakano_miku", total)...)
	recs := checkRaw(t, ws, "nakano_miku")
	if len(recs) != total {
		t.Fatalf("%d files after the restart, want %d (%+v)", len(recs), total, src0(t, sum))
	}
	ents, _ := os.ReadDir(manifests.RawDir(ws, "nakano_miku"))
	if len(ents) != total+1 { // the files and index.jsonl
		t.Errorf("%d entries in raw/nakano_miku, want %d files and the index", len(ents), total)
	}
	reqs := b.FileRequests()
	for _, r := range first {
		id, _ := strconv.Atoi(r.PostID)
		if reqs[id] != 1 {
			t.Errorf("post %d was on disk before the kill but fetched %d times", id, reqs[id])
		}
	}
	twice := 0
	for id, n := range reqs {
		if n > 2 {
			t.Errorf("post %d fetched %d times", id, n)
		}
		if n == 2 {
			twice++
		}
	}
	// Only the files in flight when the process died are fetched again:
	// those it requested but had not recorded (downloading, or downloaded
	// and waiting for their group commit), at most the parallelism and
	// two groups.
	inflight := requested - len(first)
	if twice > inflight || inflight > par+2*maxCommitGroup {
		t.Errorf("%d posts fetched twice, %d requested but not recorded by the killed run: want at most that many, and that at most %d",
			twice, inflight, par+2*maxCommitGroup)
	}
}
