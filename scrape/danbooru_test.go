package scrape

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/booru"
)

func TestDanbooruPagesByCursorAndSkipsUnfetchable(t *testing.T) {
	posts := makePosts(1, 45, "nakano_miku")
	posts[3].Restricted = true
	posts[10].Deleted = true
	posts[20].Banned = true
	posts = append(posts, makePosts(100, 5, "someone_else")...)
	b := booru.New(posts)
	ts := start(t, b)
	ws := t.TempDir()
	sum := runScrape(t, ws, baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 10}, "nakano_miku solo", 100)...)
	s := src0(t, sum)
	if s.Found != 45 || s.Downloaded != 42 || s.Failed != 0 {
		t.Errorf("found %d downloaded %d failed %d, want 45, 42, 0 (%+v)", s.Found, s.Downloaded, s.Failed, s)
	}
	for _, r := range []string{"restricted", "deleted", "banned"} {
		if s.Filtered[r] != 1 {
			t.Errorf("filtered[%s] = %d, want 1", r, s.Filtered[r])
		}
	}
	// 45 posts, 10 a page: 5 pages, the last short; page 1 by number, then b<id> cursors.
	if s.Pages != 5 || b.APIRequests() != 5 {
		t.Errorf("pages %d, API requests %d, want 5", s.Pages, b.APIRequests())
	}
	for _, cur := range []string{"b36", "b26", "b16", "b6"} {
		uri := fmt.Sprintf("/posts.json?limit=10&page=%s&tags=nakano_miku+solo", cur)
		if b.URLRequests(uri) != 1 {
			t.Errorf("%s requested %d times, want 1", uri, b.URLRequests(uri))
		}
	}
	recs := checkRaw(t, ws, "nakano_miku")
	if len(recs) != 42 {
		t.Fatalf("index has %d records, want 42", len(recs))
	}
	if r := recs[0]; r.Source != "danbooru" || r.MD5 == "" || r.Width != 40 || r.Height != 60 || r.Rating != "g" || len(r.Tags) == 0 {
		t.Errorf("record lacks metadata: %+v", r)
	}
	for id, n := range b.FileRequests() {
		if n != 1 {
			t.Errorf("post %d fetched %d times", id, n)
		}
	}

	// A second run with the class full makes no request at all.
	before := b.Requests()
	sum = runScrape(t, ws, baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 10}, "nakano_miku solo", 42)...)
	if b.Requests() != before || src0(t, sum).Downloaded != 0 {
		t.Errorf("second run made %d requests, downloaded %d; want none", b.Requests()-before, src0(t, sum).Downloaded)
	}
	// A run asking for more lists again but fetches no file it already has.
	files := totalFileRequests(b)
	sum = runScrape(t, ws, baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 10}, "nakano_miku solo", 100)...)
	if s := src0(t, sum); s.Known != 42 || s.Downloaded != 0 || totalFileRequests(b) != files {
		t.Errorf("third run: known %d downloaded %d, file requests +%d; want 42, 0, 0", s.Known, s.Downloaded, totalFileRequests(b)-files)
	}
}

func TestDanbooruStopsAtCandidates(t *testing.T) {
	b := booru.New(makePosts(1, 30, "nakano_miku"))
	ts := start(t, b)
	ws := t.TempDir()
	sum := runScrape(t, ws, baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 10, Parallelism: 4}, "nakano_miku", 12)...)
	if s := src0(t, sum); s.Downloaded != 12 {
		t.Fatalf("downloaded %d, want 12", s.Downloaded)
	}
	if n := totalFileRequests(b); n != 12 {
		t.Errorf("%d file requests, want 12", n)
	}
	// Raising candidates continues where the last run stopped: at the
	// page it was reading (page 2, b21), not from page 1 (which this test
	// expected before the cursor was kept: 12 known).
	b.Reset()
	sum = runScrape(t, ws, baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 10, Parallelism: 4}, "nakano_miku", 20)...)
	if s := src0(t, sum); s.Downloaded != 8 || s.Known != 2 {
		t.Errorf("second run downloaded %d known %d, want 8 and 2", s.Downloaded, s.Known)
	}
	if b.URLRequests("/posts.json?limit=10&page=1&tags=nakano_miku") != 0 || b.URLRequests("/posts.json?limit=10&page=b21&tags=nakano_miku") != 1 {
		t.Error("the second run did not start at the page the first stopped at")
	}
	// A run that reaches the end forgets the cursor: the next starts at
	// page 1, where new posts appear.
	runScrape(t, ws, baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 10, Parallelism: 4}, "nakano_miku", 100)...)
	b.Reset()
	runScrape(t, ws, baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 10, Parallelism: 4}, "nakano_miku", 100)...)
	if b.URLRequests("/posts.json?limit=10&page=1&tags=nakano_miku") != 1 {
		t.Error("after the listing's end, the next run did not start at page 1")
	}
	if recs := checkRaw(t, ws, "nakano_miku"); len(recs) != 30 {
		t.Errorf("%d records, want 30", len(recs))
	}
	for id, n := range b.FileRequests() {
		if n != 1 {
			t.Errorf("post %d fetched %d times", id, n)
		}
	}
}

func TestDanbooruTagLimitAndAuth(t *testing.T) {
	// Danbooru's limit is 2 counted tags for Anonymous and Member accounts
	// (user.rb tag_query_limit): an account does not lift it, contrary to
	// what this test assumed before; Gold raises it to 6.
	b := booru.New(makePosts(1, 5, "nakano_miku", "blue_hair"))
	ts := start(t, b)

	sum := runScrape(t, t.TempDir(), baseOpts(Source{Kind: "danbooru", URL: ts.URL}, "nakano_miku solo blue_hair", 10)...)
	if s := src0(t, sum); !strings.Contains(s.Error, ErrTagLimit.Error()) || !strings.Contains(s.Error, "Member") || !strings.Contains(s.Error, "tag_limit") {
		t.Errorf("3 anonymous tags: error %q, want the tag limit and what lifts it", s.Error)
	}
	if b.Requests() != 0 {
		t.Errorf("%d requests for a query that cannot work, want 0", b.Requests())
	}

	b = booru.New(makePosts(1, 5, "nakano_miku", "blue_hair"), booru.WithDanbooruAuth("miku", "s3cret"))
	ts = start(t, b)
	sum = runScrape(t, t.TempDir(), baseOpts(Source{Kind: "danbooru", URL: ts.URL, Login: "miku", APIKey: "wrong"}, "nakano_miku", 10)...)
	s := src0(t, sum)
	if !strings.Contains(s.Error, "401") || !strings.Contains(s.Error, ErrAuth.Error()) {
		t.Errorf("wrong key: error %q, want a 401 naming authentication", s.Error)
	}
	if strings.Contains(s.Error, "wrong") {
		t.Errorf("error shows the API key: %q", s.Error)
	}
	// A Member account: still 2, refused before any request.
	b.Reset()
	sum = runScrape(t, t.TempDir(), baseOpts(Source{Kind: "danbooru", URL: ts.URL, Login: "miku", APIKey: "s3cret"}, "nakano_miku solo blue_hair", 10)...)
	if s := src0(t, sum); !strings.Contains(s.Error, ErrTagLimit.Error()) || b.APIRequests() != 0 {
		t.Errorf("member, 3 tags: error %q after %d requests, want the tag limit after 0", s.Error, b.APIRequests())
	}
	// tag_limit set too high for a Member account: the server's 422 is
	// reported as the tag limit.
	sum = runScrape(t, t.TempDir(), baseOpts(Source{Kind: "danbooru", URL: ts.URL, Login: "miku", APIKey: "s3cret", TagLimit: 6}, "nakano_miku solo blue_hair", 10)...)
	if s := src0(t, sum); !strings.Contains(s.Error, ErrTagLimit.Error()) || !strings.Contains(s.Error, "422") {
		t.Errorf("member with tag_limit 6: error %q, want the server's 422 as the tag limit", s.Error)
	}
	// Gold with tag_limit 6: accepted.
	b = booru.New(makePosts(1, 5, "nakano_miku", "blue_hair"), booru.WithDanbooruAuth("miku", "s3cret"), booru.WithDanbooruGold())
	ts = start(t, b)
	sum = runScrape(t, t.TempDir(), baseOpts(Source{Kind: "danbooru", URL: ts.URL, Login: "miku", APIKey: "s3cret", TagLimit: 6}, "nakano_miku solo blue_hair", 10)...)
	if s := src0(t, sum); s.Downloaded != 5 || s.Error != "" {
		t.Errorf("gold: downloaded %d, error %q; want 5 and none", s.Downloaded, s.Error)
	}
}

func TestDanbooruFreeMetatagsDoNotCount(t *testing.T) {
	for q, want := range map[string]int{
		"nakano_miku solo rating:g": 2, "nakano_miku solo -status:deleted score:>5 id:<100": 2,
		"nakano_miku order:score": 2, "nakano_miku nakano_miku": 1, "a ~b ~c": 3, "-comic nakano_miku": 2,
		"( a or b ) c": 3, "Rating:G solo": 1,
	} {
		if got := DanbooruTermCount(q); got != want {
			t.Errorf("DanbooruTermCount(%q) = %d, want %d", q, got, want)
		}
	}
	posts := makePosts(1, 6, "nakano_miku")
	posts[2].Rating = "s"
	b := booru.New(posts)
	ts := start(t, b)
	sum := runScrape(t, t.TempDir(), baseOpts(Source{Kind: "danbooru", URL: ts.URL}, "nakano_miku solo rating:g", 10)...)
	if s := src0(t, sum); s.Downloaded != 5 || s.Error != "" {
		t.Errorf("nakano_miku solo rating:g: downloaded %d, error %q; want 5 (Danbooru accepts it) and none", s.Downloaded, s.Error)
	}
}

func TestDanbooruOrderedQueryPagesByNumber(t *testing.T) {
	// order:score sorts by score; b<id> would reorder by id
	// (pagination_extension.rb:66-68), so page 2 must be "page=2".
	posts := makePosts(1, 12, "nakano_miku")
	for i := range posts {
		posts[i].Score = (i * 7) % 12 // a permutation of 0..11
	}
	b := booru.New(posts)
	ts := start(t, b)
	ws := t.TempDir()
	sum := runScrape(t, ws, baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 5}, "nakano_miku order:score", 100)...)
	if s := src0(t, sum); s.Downloaded != 12 || s.Pages != 3 {
		t.Errorf("downloaded %d in %d pages, want all 12 in 3", s.Downloaded, s.Pages)
	}
	if b.URLRequests("/posts.json?limit=5&page=2&tags=nakano_miku+order%3Ascore") != 1 {
		t.Error("page 2 of an ordered query was not requested by number")
	}
	// The default order still uses the b<id> cursor.
	b.Reset()
	runScrape(t, t.TempDir(), baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 5}, "nakano_miku", 100)...)
	if b.URLRequests("/posts.json?limit=5&page=b8&tags=nakano_miku") != 1 {
		t.Error("the default order did not page by b<id>")
	}
}

func TestDanbooruUserIDInUserAgent(t *testing.T) {
	b := booru.New(makePosts(1, 2, "nakano_miku"))
	ts := start(t, b)
	runScrape(t, t.TempDir(), append(baseOpts(Source{Kind: "danbooru", URL: ts.URL, UserID: "123456"}, "nakano_miku", 10),
		WithUserAgent("chara/test (+https://example.org)"))...)
	if ua := b.LastUserAgent(); ua != "chara/test (+https://example.org) (danbooru user #123456)" {
		t.Errorf("User-Agent %q, want the user id in it", ua)
	}
	runScrape(t, t.TempDir(), append(baseOpts(Source{Kind: "danbooru", URL: ts.URL, Login: "miku"}, "nakano_miku", 10),
		WithUserAgent("chara/test"))...)
	if ua := b.LastUserAgent(); ua != "chara/test" {
		t.Errorf("User-Agent %q without user_id, want chara's alone", ua)
	}
}

func TestDanbooruPageLimitIsRefusedAboveThousand(t *testing.T) {
	// The cursor never uses page numbers past 1: check the fake refuses them,
	// so that the cursor test above means something.
	b := booru.New(makePosts(1, 3))
	ts := start(t, b)
	pg, err := newPager(pagerConfig{host: strings.TrimPrefix(ts.URL, "http://"), ua: "t", maxBody: 1 << 20,
		transport: defaultTransport(), policy: fastRetry().withDefaults()})
	if err != nil {
		t.Fatal(err)
	}
	d := &danbooru{src: Source{Name: "d", Limit: 10}, base: ts.URL, p: pg}
	_, err = d.Page(t.Context(), "solo", "1001")
	var se *StatusError
	if !errors.As(err, &se) || se.Code != 410 {
		t.Fatalf("page 1001: %v, want HTTP 410", err)
	}
}

func TestDanbooruRelativeFileURL(t *testing.T) {
	d := &danbooru{base: "https://booru.example.org"}
	for in, want := range map[string]string{
		"/data/ab.jpg": "https://booru.example.org/data/ab.jpg", "//cdn.example.org/x.png": "https://cdn.example.org/x.png",
		"https://cdn.donmai.us/original/a.jpg": "https://cdn.donmai.us/original/a.jpg",
	} {
		if got := d.abs(in); got != want {
			t.Errorf("abs(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCursorIsPerFilters(t *testing.T) {
	b := booru.New(makePosts(1, 30, "nakano_miku"))
	ts := start(t, b)
	ws := t.TempDir()
	runScrape(t, ws, baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 10, Parallelism: 1}, "nakano_miku", 12)...)
	// Other filters: the listing starts again at page 1.
	b.Reset()
	f := testFilters()
	f.Ratings = []string{"g", "s", "q"}
	runScrape(t, ws, append(baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 10, Parallelism: 1}, "nakano_miku", 20), WithFilters(f))...)
	if b.URLRequests("/posts.json?limit=10&page=1&tags=nakano_miku") != 1 {
		t.Error("with other filters, the listing did not start at page 1")
	}
}

func TestKeptCursorWaitsForPostsInFlight(t *testing.T) {
	// Post 6, on page 1, downloads slowly while the other worker reads
	// pages 2 and 3; the run is stopped meanwhile. The cursor kept must
	// still be page 1's, or the next run would never fetch post 6.
	b := booru.New(makePosts(1, 6, "nakano_miku"), booru.WithFaults(
		booru.Fault{Kind: booru.Slow, On: booru.Files, PostIDs: []int{6}, Delay: 2 * time.Second}))
	ts := start(t, b)
	ws := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for b.FileRequests()[2] == 0 {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(50 * time.Millisecond)
		cancel()
	}()
	_, err := New(ws, baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 2, Parallelism: 2}, "nakano_miku", 10)...).Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want cancelled", err)
	}
	b.Reset()
	s := src0(t, runScrape(t, ws, baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 2, Parallelism: 2}, "nakano_miku", 10)...))
	if b.URLRequests("/posts.json?limit=2&page=1&tags=nakano_miku") != 1 || b.FileRequests()[6] != 1 {
		t.Errorf("rerun: page 1 asked %d times, post 6 %d times (downloaded %d); want both once",
			b.URLRequests("/posts.json?limit=2&page=1&tags=nakano_miku"), b.FileRequests()[6], s.Downloaded)
	}
}
