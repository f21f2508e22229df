package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chara-dev/chara/internal/demosite"
	"github.com/chara-dev/chara/internal/synth"
	"github.com/chara-dev/chara/internal/wslock"
	"github.com/chara-dev/chara/manifests"
)

// startRedisServer runs Debian's redis-server on a loopback port without
// persistence, for the test only.
func startRedisServer(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not found on PATH (Debian package redis-server)")
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
	u := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	opt, _ := redis.ParseURL(u)
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	for i := 0; rdb.Ping(context.Background()).Err() != nil; i++ {
		if i > 500 {
			t.Fatal("redis-server did not answer in 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return u
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
