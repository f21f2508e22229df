package scrape

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/chara-dev/chara/internal/booru"
)

// TestConnectionsAreReused: pages and files reuse keep-alive connections,
// refused and failed bodies included (read and closed), so a scrape opens
// about one connection per concurrent request, not one per file.
func TestConnectionsAreReused(t *testing.T) {
	const total, par = 60, 4
	b := booru.New(makePosts(1, total, "nakano_miku"), booru.WithFaults(
		booru.Fault{Kind: booru.HTMLAsImage, On: booru.Files, PostIDs: []int{3, 17, 40}},
		booru.Fault{Kind: booru.Status, Code: http.StatusNotFound, On: booru.Files, PostIDs: []int{5, 22}},
	))
	ts := httptest.NewUnstartedServer(b)
	var conns atomic.Int64
	ts.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	ts.Start()
	t.Cleanup(ts.Close)
	sum := runScrape(t, t.TempDir(), baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 20, Parallelism: par}, "nakano_miku", total)...)
	s := src0(t, sum)
	if s.Downloaded != total-5 || s.Failed != 5 {
		t.Fatalf("downloaded %d, failed %d: want %d and 5 (%+v)", s.Downloaded, s.Failed, total-5, s)
	}
	// par downloads and one page request at a time need par+1; the
	// transport also dials when a request starts just before the previous
	// response's connection is back in the pool (more often on a busy
	// machine), so the bound is a quarter of the requests (64 without
	// keep-alives; 4 here when quiet).
	n, reqs := conns.Load(), int64(total+s.Pages)
	t.Logf("%d connections for %d requests", n, reqs)
	if n > reqs/4 {
		t.Errorf("%d connections for %d files and %d pages, want at most %d", n, total, s.Pages, reqs/4)
	}
}
