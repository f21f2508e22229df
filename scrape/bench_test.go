package scrape

import (
	"bufio"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/booru"
	"github.com/chara-dev/chara/internal/demosite"
	"github.com/chara-dev/chara/internal/synth"
)

// benchPosts: n posts whose files are a small JPEG padded to size bytes
// (distinct per post, streamed by the fake board, never held whole).
func benchPosts(n, size int) []booru.Post {
	img := booru.Image(64, 96, 1, "jpg")
	posts := make([]booru.Post, n)
	for i := range posts {
		posts[i] = booru.Post{ID: i + 1, Tags: []string{"solo", "nakano_miku"}, Rating: "g", Image: img, PadTo: size, Width: 400, Height: 600}
	}
	return posts
}

func benchRun(b *testing.B, url string, n, parallelism int) time.Duration {
	b.Helper()
	ws := b.TempDir()
	opts := baseOpts(Source{Kind: "danbooru", URL: url, Limit: 200, Parallelism: parallelism}, "nakano_miku", n)
	opts = append(opts, WithFilters(Filters{MaxFileSize: 64 << 20}))
	t0 := time.Now()
	sum, err := New(ws, opts...).Run(context.Background())
	el := time.Since(t0)
	if err != nil {
		b.Fatal(err)
	}
	if got := sum.Downloaded(); got != n {
		b.Fatalf("downloaded %d, want %d: %+v", got, n, sum.Classes[0].Sources[0])
	}
	return el
}

// BenchmarkDownload: files per second from a local server with no delay,
// 300 KB each, 200 files per run (paging, archive, index, fsyncs included).
func BenchmarkDownload(b *testing.B) {
	const n, size = 200, 300 << 10
	srv := httptest.NewServer(booru.New(benchPosts(n, size)))
	defer srv.Close()
	for _, par := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("parallelism=%d", par), func(b *testing.B) {
			var total time.Duration
			for b.Loop() {
				total += benchRun(b, srv.URL, n, par)
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "downloads/s")
			b.ReportMetric(float64(n*b.N*size)/total.Seconds()/(1<<20), "MiB/s")
		})
	}
}

// BenchmarkPeakMemory: 2,000 files of 2 MB at parallelism 16; reports the
// largest heap in use and Go runtime Sys seen (sampled every 10ms), and the
// process's VmHWM (the fake server included).
func BenchmarkPeakMemory(b *testing.B) {
	if testing.Short() {
		b.Skip("4 GB of downloads")
	}
	const n, size = 2000, 2 << 20
	srv := httptest.NewServer(booru.New(benchPosts(n, size)))
	defer srv.Close()
	runtime.GC()
	var peakHeap, peakSys atomic.Uint64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peakHeap.Load() {
				peakHeap.Store(ms.HeapInuse)
			}
			if ms.Sys > peakSys.Load() {
				peakSys.Store(ms.Sys)
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	var total time.Duration
	for b.Loop() {
		total += benchRun(b, srv.URL, n, 16)
	}
	close(stop)
	wg.Wait()
	b.ReportMetric(float64(peakHeap.Load())/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(peakSys.Load())/(1<<20), "peak-sys-MiB")
	b.ReportMetric(float64(vmHWM())/(1<<10), "VmHWM-MiB")
	b.ReportMetric(float64(n*b.N)/total.Seconds(), "downloads/s")
}

// vmHWM is the process's peak resident set in KiB (Linux), 0 elsewhere.
func vmHWM() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
			return kb
		}
	}
	return 0
}

// BenchmarkDemoSite300: the chara side of scrapebench (the gallery-dl
// comparison) in process: the demo site with one character and 300 posts,
// no delay, the default parallelism, every rating and size let through.
// It leaves out the process start, which scrapebench counts.
func BenchmarkDemoSite300(b *testing.B) {
	ch := synth.Characters()[0]
	site := demosite.New(1, 300, demosite.Characters(ch))
	url, stop, err := site.Start(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	opts := []Option{
		WithSources(Source{Name: "demo", Kind: "danbooru", URL: url}),
		WithClasses(Class{Name: ch.Name, Queries: map[string]string{"demo": ch.Tag}}),
		WithCandidates(300), WithDelay(0),
		WithFilters(Filters{Ratings: []string{"g", "s", "q", "e"}, MinWidth: 1, MinHeight: 1}),
	}
	var files int
	for b.Loop() {
		sum, err := New(b.TempDir(), opts...).Run(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		files = sum.Downloaded()
	}
	b.ReportMetric(float64(files), "files")
}
