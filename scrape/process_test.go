package scrape

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

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
	ts := start(t, b)
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
	// Only the files in flight when the process died are fetched again.
	if twice > par {
		t.Errorf("%d posts fetched twice, want at most %d (in flight at the kill)", twice, par)
	}
}

func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not found on PATH (Debian package redis-server): skipping the shared-crawl test")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	cmd := exec.Command(bin, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	opt, _ := redis.ParseURL(url)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	for i := 0; ; i++ {
		if rdb.Ping(context.Background()).Err() == nil {
			return url
		}
		if i > 500 {
			t.Fatal("redis-server did not answer in 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRedisSharedCrawlFetchesEachFileOnce(t *testing.T) {
	redisURL := startRedis(t)
	const total = 40
	b := booru.New(makePosts(1, total, "nakano_miku"),
		booru.WithFaults(booru.Fault{Kind: booru.Slow, On: booru.Files, Delay: 25 * time.Millisecond}))
	ts := start(t, b)
	gate := filepath.Join(t.TempDir(), "go")
	wsA, wsB := t.TempDir(), t.TempDir()
	a, outA := helper(t, wsA, ts.URL, redisURL, gate, 100, 2)
	c, outB := helper(t, wsB, ts.URL, redisURL, gate, 100, 2)
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []*exec.Cmd{a, c} {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper: %v", err)
		}
	}
	var downloaded []int
	for _, out := range []string{outA, outB} {
		var s Summary
		bs, err := os.ReadFile(out)
		if err != nil || json.Unmarshal(bs, &s) != nil {
			t.Fatalf("summary %s: %v", out, err)
		}
		downloaded = append(downloaded, src0(t, &s).Downloaded)
	}
	for id, n := range b.FileRequests() {
		if n != 1 {
			t.Errorf("post %d fetched %d times", id, n)
		}
	}
	if n := totalFileRequests(b); n != total {
		t.Errorf("%d file requests, want %d", n, total)
	}
	// 4 full pages and the empty one that ends the listing, each listed once.
	if n := b.APIRequests(); n != 5 {
		t.Errorf("%d page requests, want 5", n)
	}
	seen := map[string]bool{}
	for _, ws := range []string{wsA, wsB} {
		for _, r := range checkRaw(t, ws, "nakano_miku") {
			if seen[r.SHA256] {
				t.Errorf("%s in both workspaces", r.SHA256)
			}
			seen[r.SHA256] = true
		}
	}
	if len(seen) != total || downloaded[0]+downloaded[1] != total {
		t.Errorf("%d distinct files, downloads %v; want %d in all", len(seen), downloaded, total)
	}
	if downloaded[0] == 0 || downloaded[1] == 0 {
		t.Errorf("downloads %v: both processes should have taken part", downloaded)
	}
	// A rerun of either fetches nothing: the archive is shared.
	before := b.Requests()
	sum := runScrape(t, wsA, append(baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 10}, "nakano_miku", 100), WithRedis(redisURL))...)
	if s := src0(t, sum); s.Downloaded != 0 || totalFileRequests(b) != total {
		t.Errorf("rerun downloaded %d (requests +%d)", s.Downloaded, b.Requests()-before)
	}
}
