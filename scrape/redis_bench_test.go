package scrape

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/booru"
)

// BenchmarkRedisFleet crawls 60 files (30 ms each on the fake site, 2 at a
// time per source) with 1, 2 and 3 workers sharing one job. The fleet's
// site budget is the point: more workers must not load the site more, so
// files/s and the site's peak concurrency should stay those of one worker;
// "own-site" runs the same workers without it, side by side.
//
//	go test -run '^$' -bench BenchmarkRedisFleet -benchtime 3x ./scrape/
func BenchmarkRedisFleet(b *testing.B) {
	rs := newRedisServer(b)
	for _, c := range []struct {
		n   int
		own bool
	}{{1, false}, {2, false}, {3, false}, {3, true}} {
		n, name := c.n, fmt.Sprintf("workers=%d", c.n)
		if c.own {
			name += "/own-site"
		}
		b.Run(name, func(b *testing.B) {
			var files, peak, cmds float64
			var wall time.Duration
			for i := 0; i < b.N; i++ {
				site := booru.New(makePosts(1, 60, "nakano_miku"), booru.WithFaults(booru.Fault{Kind: booru.Slow, On: booru.Files, Delay: 30 * time.Millisecond}))
				ts := httptest.NewServer(site)
				dir := b.TempDir()
				var ws []workerSpec
				for k := 0; k < n; k++ {
					ws = append(ws, workerSpec{WS: filepath.Join(dir, fmt.Sprint(k)), Site: ts.URL, Redis: rs.url,
						Job: fmt.Sprintf("bench-%d-%v-%d", n, c.own, i), Candidates: 60, Parallelism: 2, OwnSite: c.own,
						Lease: 600 * time.Millisecond, Block: 100 * time.Millisecond,
						Classes: map[string]string{"Nakano Miku": "nakano_miku"}})
				}
				c0 := redisCommands(b, rs)
				t0 := time.Now()
				runWorkers(b, ws...)
				wall += time.Since(t0)
				cmds += float64(redisCommands(b, rs) - c0)
				files += float64(totalFileRequests(site))
				peak = max(peak, float64(site.MaxConcurrent()))
				ts.Close()
			}
			b.ReportMetric(files/wall.Seconds(), "files/s")
			b.ReportMetric(peak, "peak-requests")
			b.ReportMetric(wall.Seconds()/float64(b.N), "s/crawl")
			b.ReportMetric(cmds/wall.Seconds(), "redis-cmds/s")
		})
	}
}

// redisCommands is the server's total_commands_processed.
func redisCommands(b *testing.B, rs *redisServer) int64 {
	rdb := rs.client()
	defer rdb.Close()
	info, err := rdb.Info(context.Background(), "stats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "total_commands_processed:"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
