package scrape

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/booru"
)

func danbooruRun(t *testing.T, b *booru.Server, n int, extra ...Option) (SourceSummary, string) {
	t.Helper()
	ts := start(t, b)
	ws := t.TempDir()
	opts := append(baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 5}, "nakano_miku", n), extra...)
	return src0(t, runScrape(t, ws, opts...)), ws
}

func TestRetryAfterOn429And503(t *testing.T) {
	b := booru.New(makePosts(1, 3, "nakano_miku"), booru.WithFaults(
		booru.Fault{Kind: booru.RateLimit, On: booru.API, Times: 1, RetryAfter: "1"},
		booru.Fault{Kind: booru.Unavailable, On: booru.Files, Times: 1, PostIDs: []int{2}, RetryAfter: "1"},
	))
	t0 := time.Now()
	s, ws := danbooruRun(t, b, 10)
	el := time.Since(t0)
	if s.Downloaded != 3 || s.Failed != 0 {
		t.Fatalf("downloaded %d failed %d (%v), want 3 and 0", s.Downloaded, s.Failed, s.Failures)
	}
	// The page waited 1s, the file another 1s: Retry-After was honoured,
	// although the backoff of the policy is 1ms.
	if el < 2*time.Second {
		t.Errorf("run took %v; Retry-After: 1 on a page and a file should take at least 2s", el)
	}
	if n := b.FileRequests()[2]; n != 2 {
		t.Errorf("post 2 requested %d times, want 2", n)
	}
	checkRaw(t, ws, "nakano_miku")
}

func TestRetryAfterOverLimitFails(t *testing.T) {
	b := booru.New(makePosts(1, 3, "nakano_miku"), booru.WithFaults(
		booru.Fault{Kind: booru.RateLimit, On: booru.API, RetryAfter: "3600"},
	))
	s, _ := danbooruRun(t, b, 10)
	if !strings.Contains(s.Error, "Retry-After") || b.APIRequests() != 1 {
		t.Errorf("error %q after %d requests, want a Retry-After error after 1", s.Error, b.APIRequests())
	}
}

func TestServerErrorThenSuccess(t *testing.T) {
	b := booru.New(makePosts(1, 8, "nakano_miku"), booru.WithFaults(
		booru.Fault{Kind: booru.ServerError, On: booru.API, Times: 2},
		booru.Fault{Kind: booru.ServerError, On: booru.Files, Times: 2},
	))
	s, ws := danbooruRun(t, b, 10)
	if s.Downloaded != 8 || s.Failed != 0 {
		t.Fatalf("downloaded %d failed %d (%v)", s.Downloaded, s.Failed, s.Failures)
	}
	for id, n := range b.FileRequests() {
		if n != 3 {
			t.Errorf("post %d requested %d times, want 3 (2 errors, then success)", id, n)
		}
	}
	checkRaw(t, ws, "nakano_miku")
}

func TestPersistentServerErrorStopsSourceOnly(t *testing.T) {
	b := booru.New(makePosts(1, 4, "nakano_miku"), booru.WithFaults(booru.Fault{Kind: booru.ServerError, On: booru.API}))
	good := booru.New(makePosts(10, 4, "nakano_miku"))
	bad, ok := start(t, b), start(t, good)
	ws := t.TempDir()
	sum := runScrape(t, ws,
		WithSources(Source{Name: "bad", Kind: "danbooru", URL: bad.URL}, Source{Name: "good", Kind: "moebooru", URL: ok.URL}),
		WithClasses(Class{Name: "Nakano Miku", Queries: map[string]string{"bad": "nakano_miku", "good": "nakano_miku"}}),
		WithCandidates(10), WithDelay(0), WithRetry(fastRetry()), WithFilters(testFilters()))
	srcs := sum.Classes[0].Sources
	if srcs[0].Source != "bad" || !strings.Contains(srcs[0].Error, "HTTP 500") || srcs[1].Downloaded != 4 {
		t.Errorf("bad: %q; good downloaded %d; want a 500 error and 4 files from the good one", srcs[0].Error, srcs[1].Downloaded)
	}
	if b.APIRequests() != fastRetry().Attempts {
		t.Errorf("%d requests to the failing source, want %d (bounded retries)", b.APIRequests(), fastRetry().Attempts)
	}
	if len(sum.Errors()) != 1 {
		t.Errorf("errors %v, want one", sum.Errors())
	}
}

func TestTimeoutsAreRetried(t *testing.T) {
	b := booru.New(makePosts(1, 4, "nakano_miku"), booru.WithFaults(
		booru.Fault{Kind: booru.Slow, On: booru.API, Times: 1, Delay: 5 * time.Second},
		booru.Fault{Kind: booru.Slow, On: booru.Files, Times: 1, Delay: 5 * time.Second},
	))
	p := fastRetry()
	p.PageTimeout, p.FileTimeout = 200*time.Millisecond, 200*time.Millisecond
	t0 := time.Now()
	s, ws := danbooruRun(t, b, 10, WithRetry(p))
	if s.Downloaded != 4 {
		t.Fatalf("downloaded %d (%v %s), want 4", s.Downloaded, s.Failures, s.Error)
	}
	if el := time.Since(t0); el > 4*time.Second {
		t.Errorf("took %v: the slow answers were waited for instead of timed out", el)
	}
	for id, n := range b.FileRequests() {
		if n != 2 {
			t.Errorf("post %d requested %d times, want 2", id, n)
		}
	}
	checkRaw(t, ws, "nakano_miku")
}

func TestTruncatedBodiesAreRetried(t *testing.T) {
	b := booru.New(makePosts(1, 6, "nakano_miku"), booru.WithFaults(
		booru.Fault{Kind: booru.Truncate, On: booru.API, Times: 1},
		booru.Fault{Kind: booru.Truncate, On: booru.Files, Times: 1},
	))
	s, ws := danbooruRun(t, b, 10)
	if s.Downloaded != 6 || s.Failed != 0 {
		t.Fatalf("downloaded %d failed %d (%v %s)", s.Downloaded, s.Failed, s.Failures, s.Error)
	}
	for id, n := range b.FileRequests() {
		if n != 2 {
			t.Errorf("post %d requested %d times, want 2", id, n)
		}
	}
	checkRaw(t, ws, "nakano_miku")
}

func TestHTMLServedAsImageIsRefused(t *testing.T) {
	b := booru.New(makePosts(1, 5, "nakano_miku"), booru.WithFaults(
		booru.Fault{Kind: booru.HTMLAsImage, On: booru.Files, PostIDs: []int{2, 4}},
	))
	s, ws := danbooruRun(t, b, 10)
	if s.Downloaded != 3 || s.Failures["not_image"] != 2 {
		t.Errorf("downloaded %d failures %v, want 3 and not_image 2", s.Downloaded, s.Failures)
	}
	if recs := checkRaw(t, ws, "nakano_miku"); len(recs) != 3 {
		t.Errorf("%d files kept, want 3", len(recs))
	}
	// Not retried: an HTML page is an answer, not a transient fault.
	if n := b.FileRequests()[2]; n != 1 {
		t.Errorf("post 2 requested %d times, want 1", n)
	}
}

func TestWrongContentTypeTrustsMagicBytes(t *testing.T) {
	posts := makePosts(1, 4, "nakano_miku")
	posts[1].Image = testImage(2, "png")
	b := booru.New(posts, booru.WithFaults(
		booru.Fault{Kind: booru.WrongType, On: booru.Files},
		booru.Fault{Kind: booru.WrongType, On: booru.API},
	))
	s, ws := danbooruRun(t, b, 10)
	if s.Downloaded != 4 {
		t.Fatalf("downloaded %d (%v %s), want 4", s.Downloaded, s.Failures, s.Error)
	}
	exts := map[string]int{}
	for _, r := range checkRaw(t, ws, "nakano_miku") {
		exts[r.File[strings.LastIndexByte(r.File, '.')+1:]]++
	}
	if exts["jpg"] != 3 || exts["png"] != 1 {
		t.Errorf("extensions %v, want 3 jpg and 1 png", exts)
	}
}

func TestOversizedBodies(t *testing.T) {
	for _, chunked := range []bool{false, true} {
		b := booru.New(makePosts(1, 3, "nakano_miku"), booru.WithFaults(
			booru.Fault{Kind: booru.Oversize, On: booru.Files, PostIDs: []int{1}, Size: 5 << 20, Chunked: chunked},
		))
		s, ws := danbooruRun(t, b, 10)
		if s.Downloaded != 2 || s.Failures["too_large"] != 1 {
			t.Errorf("chunked=%v: downloaded %d failures %v, want 2 and too_large 1", chunked, s.Downloaded, s.Failures)
		}
		checkRaw(t, ws, "nakano_miku")
	}
	// An API page over the page limit stops the source.
	b := booru.New(makePosts(1, 3, "nakano_miku"), booru.WithFaults(
		booru.Fault{Kind: booru.Oversize, On: booru.API, Size: 1 << 20, Chunked: true},
	))
	s, _ := danbooruRun(t, b, 10, WithMaxPageSize(64<<10))
	if !strings.Contains(s.Error, ErrTooLarge.Error()) || b.APIRequests() != 1 {
		t.Errorf("oversized page: error %q after %d requests, want %q after 1", s.Error, b.APIRequests(), ErrTooLarge)
	}
}

func TestRedirects(t *testing.T) {
	posts := makePosts(1, 3, "nakano_miku")
	cdnBoard := booru.New(posts)
	cdn := start(t, cdnBoard)
	// Files redirect to another host (a CDN): followed.
	b := booru.New(posts, booru.WithFaults(booru.Fault{Kind: booru.Redirect, On: booru.Files, RedirectBase: cdn.URL}))
	s, ws := danbooruRun(t, b, 10)
	if s.Downloaded != 3 || totalFileRequests(cdnBoard) != 3 || totalFileRequests(b) != 3 {
		t.Errorf("downloaded %d; file requests: board %d, cdn %d; want 3 each", s.Downloaded, totalFileRequests(b), totalFileRequests(cdnBoard))
	}
	checkRaw(t, ws, "nakano_miku")

	// API pages redirecting to another host: refused.
	other := httptest.NewServer(booru.New(posts))
	defer other.Close()
	b = booru.New(posts, booru.WithFaults(booru.Fault{Kind: booru.Redirect, On: booru.API, RedirectBase: other.URL}))
	s, _ = danbooruRun(t, b, 10)
	if !strings.Contains(s.Error, ErrCrossHostRedirect.Error()) || s.Downloaded != 0 {
		t.Errorf("API redirect: error %q downloaded %d, want %q", s.Error, s.Downloaded, ErrCrossHostRedirect)
	}
}

func TestRobotsTxt(t *testing.T) {
	// The booru kinds call documented APIs and do not read robots.txt:
	// Danbooru's real file disallows /*.json (REAL-SITES.md §1), which
	// stopped every class before any request.
	b := booru.New(makePosts(1, 3, "nakano_miku"), booru.WithRobots(booru.DanbooruRobots))
	s, _ := danbooruRun(t, b, 10)
	if s.Downloaded != 3 || s.Error != "" || b.URLRequests("/robots.txt") != 0 {
		t.Errorf("danbooru with its robots.txt: downloaded %d error %q, robots.txt read %d times; want 3, none, 0",
			s.Downloaded, s.Error, b.URLRequests("/robots.txt"))
	}
	// The html kind honours it.
	b = booru.New(makePosts(1, 3, "nakano_miku"), booru.WithRobots("User-agent: *\nDisallow: /gallery\n"))
	ts := start(t, b)
	src := Source{Kind: "html", URL: ts.URL + "/gallery?tags={query}", ImageSelector: "a.image", NextSelector: "a.next"}
	sum := runScrape(t, t.TempDir(), baseOpts(src, "nakano_miku", 10)...)
	if s := src0(t, sum); !strings.Contains(s.Error, ErrRobots.Error()) || b.APIRequests() != 0 || b.URLRequests("/robots.txt") != 1 {
		t.Errorf("html: error %q, API requests %d, robots %d; want %q, 0, 1", s.Error, b.APIRequests(), b.URLRequests("/robots.txt"), ErrRobots)
	}
	sum = runScrape(t, t.TempDir(), append(baseOpts(src, "nakano_miku", 10), WithIgnoreRobots(true))...)
	if s := src0(t, sum); s.Downloaded != 3 {
		t.Errorf("html ignoring robots: downloaded %d, want 3", s.Downloaded)
	}
	// A robots.txt answering 5xx longer than the transport retries refuses
	// the page this time, is not cached, and is asked again: the listing
	// goes on.
	b = booru.New(makePosts(1, 3, "nakano_miku"), booru.WithRobots("User-agent: *\nDisallow: /private\n"),
		booru.WithFaults(booru.Fault{Kind: booru.ServerError, On: booru.Robots, Times: fastRetry().Attempts}))
	ts = start(t, b)
	src.URL = ts.URL + "/gallery?tags={query}"
	sum = runScrape(t, t.TempDir(), baseOpts(src, "nakano_miku", 10)...)
	if s := src0(t, sum); s.Downloaded != 3 || s.Error != "" || b.URLRequests("/robots.txt") != fastRetry().Attempts+1 {
		t.Errorf("robots.txt 5xx: downloaded %d error %q robots %d; want 3, none, %d", s.Downloaded, s.Error, b.URLRequests("/robots.txt"), fastRetry().Attempts+1)
	}
}

func TestChecksumMismatchIsNotRetried(t *testing.T) {
	// A wrong md5 is an answer, not a transient fault: one download, then
	// the post counts as failed (before, it was fetched 5 times).
	b := booru.New(makePosts(1, 2, "nakano_miku"), booru.WithFaults(
		booru.Fault{Kind: booru.Oversize, On: booru.Files, PostIDs: []int{1}, Size: 4000, Chunked: true},
	))
	s, _ := danbooruRun(t, b, 10)
	if s.Downloaded != 1 || s.Failures["checksum"] != 1 || b.FileRequests()[1] != 1 {
		t.Errorf("downloaded %d failures %v requests %d; want 1, checksum 1, 1", s.Downloaded, s.Failures, b.FileRequests()[1])
	}
}
