package scrape

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/booru"
	"github.com/chara-dev/chara/manifests"
)

// image cache: encoding is the slow part of building posts.
var imgCache = map[string][]byte{}

func testImage(seed int64, format string) []byte {
	key := fmt.Sprint(seed, format)
	if b, ok := imgCache[key]; ok {
		return b
	}
	b := booru.Image(40, 60, seed, format)
	imgCache[key] = b
	return b
}

// makePosts builds n posts with ids from first, rating g, the given tags.
func makePosts(first, n int, tags ...string) []booru.Post {
	out := make([]booru.Post, n)
	for i := range out {
		id := first + i
		out[i] = booru.Post{ID: id, Tags: append([]string{"solo"}, tags...), Rating: "g",
			Image: testImage(int64(id), "jpg"), Width: 400, Height: 600}
	}
	return out
}

func fastRetry() RetryPolicy {
	return RetryPolicy{Attempts: 4, Base: time.Millisecond, Max: 5 * time.Millisecond,
		MaxRetryAfter: 5 * time.Second, ThrottleWait: 2 * time.Millisecond, ThrottleMax: 10 * time.Millisecond,
		PageTimeout: 3 * time.Second, FileTimeout: 3 * time.Second}
}

func testFilters() Filters {
	return Filters{Ratings: []string{"g", "s"}, MinWidth: 30, MinHeight: 30, MaxFileSize: 1 << 20}
}

// start serves b on a loopback httptest server.
func start(t *testing.T, b *booru.Server) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(b)
	t.Cleanup(ts.Close)
	return ts
}

// baseOpts: one source, one class "Nakano Miku" with query q, no delays.
func baseOpts(src Source, q string, candidates int) []Option {
	if src.Name == "" {
		src.Name = src.Kind
	}
	if src.Parallelism == 0 {
		src.Parallelism = 2
	}
	return []Option{
		WithSources(src),
		WithClasses(Class{Name: "Nakano Miku", Queries: map[string]string{src.Name: q}}),
		WithCandidates(candidates), WithDelay(0), WithRetry(fastRetry()), WithFilters(testFilters()),
	}
}

func runScrape(t *testing.T, ws string, opts ...Option) *Summary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sum, err := New(ws, opts...).Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return sum
}

func src0(t *testing.T, sum *Summary) SourceSummary {
	t.Helper()
	if len(sum.Classes) != 1 || len(sum.Classes[0].Sources) != 1 {
		t.Fatalf("summary has %d classes, want 1 with 1 source: %+v", len(sum.Classes), sum)
	}
	return sum.Classes[0].Sources[0]
}

// checkRaw verifies raw/<slug>: every index record names a complete file
// whose sha256 is its name, no duplicates, no temp files. It returns the
// records.
func checkRaw(t *testing.T, ws, slug string) []manifests.RawRecord {
	t.Helper()
	recs, err := manifests.ReadRawIndex(manifests.RawIndexPath(ws, slug))
	if err != nil {
		t.Fatal(err)
	}
	shas, posts := map[string]bool{}, map[string]bool{}
	for _, r := range recs {
		if shas[r.SHA256] {
			t.Errorf("sha256 %s twice in the index", r.SHA256)
		}
		shas[r.SHA256] = true
		k := r.Source + ":" + r.PostID
		if posts[k] {
			t.Errorf("post %s twice in the index", k)
		}
		posts[k] = true
		b, err := os.ReadFile(filepath.Join(manifests.RawDir(ws, slug), r.File))
		if err != nil {
			t.Errorf("index names %s: %v", r.File, err)
			continue
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != r.SHA256 || !strings.HasPrefix(r.File, got+".") {
			t.Errorf("%s: content sha256 %s", r.File, got)
		}
		if Sniff(b) == "" || !strings.HasSuffix(r.File, "."+Sniff(b)) {
			t.Errorf("%s: extension does not match content %q", r.File, Sniff(b))
		}
	}
	ents, _ := os.ReadDir(manifests.RawDir(ws, slug))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temp file left: %s", e.Name())
		}
	}
	return recs
}

func totalFileRequests(b *booru.Server) int {
	n := 0
	for _, v := range b.FileRequests() {
		n += v
	}
	return n
}

// startTracked serves b like start and returns a function that waits
// (up to 10s) until no connection to it is open: once a killed client's
// connections are all closed, every request it sent has been counted.
func startTracked(t *testing.T, b *booru.Server) (*httptest.Server, func()) {
	t.Helper()
	ts := httptest.NewUnstartedServer(b)
	var mu sync.Mutex
	open := map[net.Conn]bool{}
	ts.Config.ConnState = func(c net.Conn, s http.ConnState) {
		mu.Lock()
		defer mu.Unlock()
		switch s {
		case http.StateNew:
			open[c] = true
		case http.StateClosed, http.StateHijacked:
			delete(open, c)
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)
	return ts, func() {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			n := len(open)
			mu.Unlock()
			if n == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d connections still open 10s after the client died", n)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
}
