package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/booru"
	"github.com/chara-dev/chara/internal/demosite"
	"github.com/chara-dev/chara/internal/synth"
	"github.com/chara-dev/chara/internal/testutil"
	"github.com/chara-dev/chara/internal/wslock"
	"github.com/chara-dev/chara/manifests"
)

// testRedis is the tests' redis-server (internal/testutil) without
// persistence: kill and start lose everything.
type testRedis struct {
	*testutil.RedisServer
	url string
}

func startRedisServer(t *testing.T) string { return newTestRedis(t).url }

func newTestRedis(t *testing.T) *testRedis {
	r := testutil.StartRedis(t)
	return &testRedis{RedisServer: r, url: r.URL}
}

func (r *testRedis) start(t *testing.T) { r.Start(t) }

// kill stops the server with SIGKILL: with no persistence, all is lost.
func (r *testRedis) kill() { r.Kill() }

// TestCharaHelperProcess is not a test: TestSharedCrawlSurvivesKillAndRestart
// re-executes the test binary with CHARA_CMD_HELPER (the arguments, as
// JSON) to run chara in a process it can kill.
func TestCharaHelperProcess(t *testing.T) {
	spec := os.Getenv("CHARA_CMD_HELPER")
	if spec == "" {
		t.Skip("helper process for TestSharedCrawlSurvivesKillAndRestart")
	}
	var args []string
	if err := json.Unmarshal([]byte(spec), &args); err != nil {
		os.Exit(2)
	}
	os.Exit(run(context.Background(), append([]string{"chara"}, args...), io.Discard, os.Stderr))
}

func charaProcess(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	b, _ := json.Marshal(args)
	return testutil.StartHelper(t, "TestCharaHelperProcess", "CHARA_CMD_HELPER="+string(b))
}

func rawCount(ws []string, slugs ...string) int {
	n := 0
	for _, w := range ws {
		for _, s := range slugs {
			recs, _ := manifests.ReadRawIndex(manifests.RawIndexPath(w, s))
			n += len(recs)
		}
	}
	return n
}

// The acceptance run: 3 chara scrape processes share a crawl, Redis
// dies and comes back empty, one worker is killed (SIGKILL) and started
// again; each class ends with exactly its target in the fleet, no file is
// fetched twice except the killed worker's download in flight, and chara
// collect, curate and dataset build make one dataset.
func TestSharedCrawlSurvivesKillAndRestart(t *testing.T) {
	rs := newTestRedis(t)
	site := demosite.New(7, 30, demosite.Characters(synth.Characters()[:2]...),
		demosite.BooruOptions(booru.WithFaults(booru.Fault{Kind: booru.Slow, On: booru.Files, Delay: 40 * time.Millisecond})))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, stop, err := site.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	const target = 20
	cfg := site.Config(base, demosite.Sizes{Candidates: target, PerClass: 6, Width: 24, Height: 48, Epochs: 1, Models: "cnn"})
	cfg = strings.Replace(cfg, "scrape:\n", "scrape:\n  redis: "+rs.url+"\n  redis_lease: 600ms\n", 1)
	dir := t.TempDir()
	var wss, slugs []string
	for _, name := range []string{"w0", "w1", "w2", "all"} {
		ws := filepath.Join(dir, name)
		wss = append(wss, ws)
		if err := os.MkdirAll(ws, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ws, "chara.yaml"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range synth.Characters()[:2] {
		slug, _ := manifests.Slug(c.Name)
		slugs = append(slugs, slug)
	}
	workers := wss[:3]
	var cmds []*exec.Cmd
	for _, ws := range workers {
		cmds = append(cmds, charaProcess(t, "--workspace", ws, "scrape"))
	}
	wait := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	wait("6 files", func() bool { return rawCount(workers, slugs...) >= 6 })
	rs.kill()
	time.Sleep(300 * time.Millisecond)
	rs.start(t)
	wait("16 files", func() bool { return rawCount(workers, slugs...) >= 16 })
	if err := cmds[0].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmds[0].Wait()
	cmds[0] = charaProcess(t, "--workspace", workers[0], "scrape")
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			// Exit 1 is a source that stopped early (the demo site's broken
			// files); anything else is a failure.
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("worker %d: %v", i, err)
			}
		}
	}
	for _, slug := range slugs {
		seen := map[string]int{}
		for _, ws := range workers {
			recs, _ := manifests.ReadRawIndex(manifests.RawIndexPath(ws, slug))
			for _, r := range recs {
				seen[r.SHA256]++
			}
		}
		if len(seen) != target {
			t.Errorf("%s: %d distinct files in the fleet, want exactly %d", slug, len(seen), target)
		}
		for sha, n := range seen {
			if n > 1 {
				var where []string
				for i, ws := range workers {
					recs, _ := manifests.ReadRawIndex(manifests.RawIndexPath(ws, slug))
					for _, r := range recs {
						if r.SHA256 == sha {
							where = append(where, fmt.Sprintf("w%d post %s (%s)", i, r.PostID, r.Source))
						}
					}
				}
				t.Errorf("%s: %s in %d workspaces: %v", slug, sha, n, where)
			}
		}
	}
	twice := 0
	for id, n := range site.Board().FileRequests() {
		if n > 2 {
			t.Errorf("post %d fetched %d times", id, n)
		}
		if n == 2 {
			twice++
		}
	}
	if twice > 4 { // the demo site's parallelism: the killed worker's downloads in flight
		t.Errorf("%d posts fetched twice, want at most the 4 in flight at the kill", twice)
	}
	if code, out := chara(t, wss[3], "", "collect", workers[0], workers[1], workers[2]); code != 0 {
		t.Fatalf("collect: exit %d\n%s", code, out)
	}
	if n := rawCount(wss[3:], slugs...); n != 2*target {
		t.Errorf("%d files collected, want %d", n, 2*target)
	}
	if code, out := chara(t, wss[3], "", "curate"); code != 0 {
		t.Fatalf("curate: exit %d\n%s", code, out)
	}
	if code, out := chara(t, wss[3], "", "dataset", "build"); code != 0 {
		t.Fatalf("dataset build: exit %d\n%s", code, out)
	}
}

// Two workspaces share one crawl through Redis, then chara collect gathers
// their files into a third, where curate and dataset build make one
// dataset.
func TestSharedCrawlCollectedIntoOneDataset(t *testing.T) {
	redisURL := startRedisServer(t)
	site := demosite.New(7, 30, demosite.Characters(synth.Characters()[:2]...))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, stop, err := site.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	const target = 20
	cfg := site.Config(base, demosite.Sizes{Candidates: target, PerClass: 6, Width: 24, Height: 48, Epochs: 1, Models: "cnn"})
	cfg = strings.Replace(cfg, "scrape:\n", "scrape:\n  redis: "+redisURL+"\n", 1)
	dir := t.TempDir()
	wss := []string{filepath.Join(dir, "a"), filepath.Join(dir, "b"), filepath.Join(dir, "all")}
	for _, ws := range wss {
		if err := os.MkdirAll(ws, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ws, "chara.yaml"), []byte(cfg), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	for _, ws := range wss[:2] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, out := chara(t, ws, "", "scrape"); code != 0 {
				t.Errorf("scrape in %s: exit %d\n%s", ws, code, out)
			}
		}()
	}
	wg.Wait()
	t.Logf("shared scrape: %s", time.Since(t0))
	// --status reads Redis only: it runs beside a scrape holding the
	// workspace lock.
	held, err := wslock.Acquire(manifests.LockPath(wss[0]), "scrape")
	if err != nil {
		t.Fatal(err)
	}
	code, out := chara(t, wss[0], "", "scrape", "--status")
	held.Release()
	if code != 0 {
		t.Fatalf("scrape --status: exit %d\n%s", code, out)
	}
	for _, c := range synth.Characters()[:2] {
		found := false
		for _, line := range strings.Split(out, "\n") {
			f := strings.Fields(strings.TrimPrefix(line, c.Name))
			if strings.HasPrefix(line, c.Name+" ") && len(f) == 3 && f[0] == strconv.Itoa(target) && f[1] == "0" {
				found = true
			}
		}
		if !found {
			t.Errorf("status does not show %s with %d files, none fetching:\n%s", c.Name, target, out)
		}
	}
	if code, out := chara(t, wss[2], "", "collect", wss[0], wss[1]); code != 0 {
		t.Fatalf("collect: exit %d\n%s", code, out)
	}
	names := []string{}
	for _, c := range synth.Characters()[:2] {
		slug, _ := manifests.Slug(c.Name)
		names = append(names, slug)
		n := 0
		for _, ws := range wss[:2] {
			recs, _ := manifests.ReadRawIndex(manifests.RawIndexPath(ws, slug))
			n += len(recs)
		}
		recs, err := manifests.ReadRawIndex(manifests.RawIndexPath(wss[2], slug))
		if err != nil || len(recs) != target || n != target {
			t.Errorf("%s: %d files collected from workers holding %d (%v), want exactly %d", slug, len(recs), n, err, target)
		}
	}
	if code, out := chara(t, wss[2], "", "curate"); code != 0 {
		t.Fatalf("curate: exit %d\n%s", code, out)
	}
	if code, out := chara(t, wss[2], "", "dataset", "build"); code != 0 {
		t.Fatalf("dataset build: exit %d\n%s", code, out)
	}
	// A second collect adds nothing.
	code, out = chara(t, wss[2], "", "collect", wss[0], wss[1])
	if code != 0 || !strings.Contains(out, "collected 0 files") {
		t.Errorf("second collect: exit %d\n%s", code, out)
	}
	// The job can be forgotten once its workers are done; the files stay.
	code, out = chara(t, wss[0], "", "scrape", "--reset-job")
	if code != 0 || !strings.Contains(out, "keys deleted") {
		t.Errorf("--reset-job: exit %d\n%s", code, out)
	}
	if strings.Contains(out, redisURL) && strings.Contains(redisURL, "@") {
		t.Errorf("the Redis URL with its password was printed")
	}
	_ = names
}
