package scrape

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/booru"
)

func TestThrottleWaitsAtLeastAMinuteGrowingAndCapped(t *testing.T) {
	p := RetryPolicy{}.withDefaults()
	prev := time.Duration(0)
	for n := 0; n < 8; n++ {
		w := p.throttleWait(n)
		if w < time.Minute || w > 10*time.Minute || w < prev {
			t.Errorf("throttle wait %d = %v, want >= 1m, <= 10m, not shrinking", n, w)
		}
		prev = w
	}
	if p.throttleWait(1) <= p.throttleWait(0) || p.throttleWait(20) != 10*time.Minute {
		t.Errorf("waits %v, %v, ..., %v: want growing to the 10m cap", p.throttleWait(0), p.throttleWait(1), p.throttleWait(20))
	}
}

func TestThrottledListingResumes(t *testing.T) {
	// Danbooru's and Zerochan's 429/503 come without Retry-After
	// (REAL-SITES.md §1, §4): a burst longer than the transport's throttle
	// budget used to end the class's listing for the run.
	p := fastRetry()
	p.ThrottleAttempts = 2
	p.ThrottleWait = 20 * time.Millisecond
	p.ThrottleMax = 40 * time.Millisecond
	b := booru.New(makePosts(1, 4, "nakano_miku"), booru.WithFaults(
		booru.Fault{Kind: booru.RateLimit, On: booru.API, Times: 5},
		booru.Fault{Kind: booru.Unavailable, On: booru.Files, Times: 2, PostIDs: []int{3}},
	))
	t0 := time.Now()
	s, ws := danbooruRun(t, b, 10, WithRetry(p))
	if s.Downloaded != 4 || s.Error != "" {
		t.Fatalf("downloaded %d error %q, want 4 and none", s.Downloaded, s.Error)
	}
	// Page 1: 429, wait 20ms, 429, wait 40ms, 429 (budget spent); the
	// listing waits 20ms and asks again: 429, 40ms, 429... then 200.
	if el := time.Since(t0); el < 100*time.Millisecond {
		t.Errorf("took %v: the throttle waits were not honoured", el)
	}
	if n := b.FileRequests()[3]; n != 3 {
		t.Errorf("post 3 requested %d times, want 3", n)
	}
	checkRaw(t, ws, "nakano_miku")
}

func TestPaceSpacesPagesAndFilesOfASource(t *testing.T) {
	// Zerochan: "60 requests per minute" across its hosts (zerochan.net/api):
	// one pacer spaces pages, per-post requests and files together.
	b := booru.New(makePosts(1, 3, "nakano_miku"))
	ts := start(t, b)
	opts := baseOpts(Source{Kind: "zerochan", URL: ts.URL, Login: "miku_fan", Parallelism: 3}, "Nakano Miku", 10)
	opts = append(opts, WithDelay(0))
	o := defaultOptions()
	for _, f := range opts {
		f(&o)
	}
	src := o.sources[0]
	src.Pace = 30 * time.Millisecond
	opts = append([]Option{}, WithSources(src), WithClasses(o.classes...), WithCandidates(10), WithRetry(fastRetry()), WithFilters(testFilters()))
	s := src0(t, runScrape(t, t.TempDir(), opts...))
	if s.Downloaded != 3 {
		t.Fatalf("downloaded %d (%s), want 3", s.Downloaded, s.Error)
	}
	times := b.RequestTimes()
	if len(times) < 7 { // 1 page + 3 posts + 3 files
		t.Fatalf("%d requests, want at least 7", len(times))
	}
	// Arrival times jitter a little around the send times the pacer sets.
	if span, want := times[len(times)-1].Sub(times[0]), time.Duration(len(times)-1)*30*time.Millisecond; span < want*9/10 {
		t.Errorf("%d requests in %v, want at least %v (30ms pace)", len(times), span, want)
	}
	d, _ := Source{Name: "d", Kind: "danbooru", URL: "https://danbooru.donmai.us"}.withDefaults()
	z, _ := Source{Name: "z", Kind: "zerochan", URL: "https://www.zerochan.net", Login: "x"}.withDefaults()
	if d.Delay < time.Second || z.Pace < time.Second {
		t.Errorf("defaults: danbooru page delay %v, zerochan pace %v; want >= 1s (Danbooru's wiki: about 1 request a second; Zerochan 60/min)", d.Delay, z.Pace)
	}
}

func TestCloudflareChallengeIsNotAnAuthError(t *testing.T) {
	b := booru.New(makePosts(1, 3, "nakano_miku"), booru.WithFaults(booru.Fault{Kind: booru.Challenge, On: booru.API}))
	s, _ := danbooruRun(t, b, 10)
	if !strings.Contains(s.Error, ErrChallenge.Error()) || strings.Contains(s.Error, ErrAuth.Error()) ||
		!strings.Contains(s.Error, "cookies") || !strings.Contains(s.Error, "user_agent") {
		t.Errorf("error %q, want a challenge with what to do, not an auth error", s.Error)
	}
	if b.APIRequests() != 1 {
		t.Errorf("%d requests, want 1: a challenge is not retried", b.APIRequests())
	}
}

func TestCookiesTxtAndUserAgentPassAChallenge(t *testing.T) {
	const ua = "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0"
	b := booru.New(makePosts(1, 3, "nakano_miku"), booru.WithClearance("cf_clearance", "ok123", ua),
		booru.WithFaults(booru.Fault{Kind: booru.Challenge, On: booru.API}, booru.Fault{Kind: booru.Challenge, On: booru.Files}))
	ts := start(t, b)
	dir := t.TempDir()
	jar := filepath.Join(dir, "cookies.txt")
	host := strings.TrimPrefix(ts.URL, "http://")
	host = host[:strings.IndexByte(host, ':')]
	txt := "# Netscape HTTP Cookie File\n" +
		host + "\tFALSE\t/\tFALSE\t0\tcf_clearance\tok123\n" +
		"#HttpOnly_" + host + "\tFALSE\t/\tFALSE\t1\texpired\tx\n"
	if err := os.WriteFile(jar, []byte(txt), 0o644); err != nil {
		t.Fatal(err)
	}
	s := src0(t, runScrape(t, t.TempDir(), baseOpts(Source{Kind: "danbooru", URL: ts.URL, Cookies: jar, UserAgent: ua}, "nakano_miku", 10)...))
	if s.Downloaded != 3 || s.Error != "" {
		t.Errorf("with cookies.txt and the browser's UA: downloaded %d error %q, want 3", s.Downloaded, s.Error)
	}
	// Without the UA, the cookie alone does not pass.
	s = src0(t, runScrape(t, t.TempDir(), baseOpts(Source{Kind: "danbooru", URL: ts.URL, Cookies: jar}, "nakano_miku", 10)...))
	if !strings.Contains(s.Error, ErrChallenge.Error()) {
		t.Errorf("cookie without the UA: error %q, want a challenge", s.Error)
	}
	// A malformed file is an error naming it and the line.
	bad := filepath.Join(dir, "bad.txt")
	_ = os.WriteFile(bad, []byte("example.org\tTRUE\t/\n"), 0o644)
	_, err := New(t.TempDir(), baseOpts(Source{Kind: "danbooru", URL: ts.URL, Cookies: bad}, "nakano_miku", 10)...).Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "bad.txt:1") {
		t.Errorf("malformed cookies.txt: %v, want an error naming bad.txt:1", err)
	}
}

func TestMD5ThatNeverMatchesStopsOnceAndCanBeOff(t *testing.T) {
	// Every file differs from its listed md5 (REAL-SITES.md §2, §4
	// "unsure" rows): the source stops after md5Hopeless files, saying how
	// to turn the check off, instead of 20 failures of 5 downloads each.
	b := booru.New(makePosts(1, 10, "nakano_miku"), booru.WithFaults(
		booru.Fault{Kind: booru.Oversize, On: booru.Files, Size: 3000, Chunked: true}))
	s, _ := danbooruRun(t, b, 20, func(o *options) { o.sources[0].Parallelism = 1 })
	if !strings.Contains(s.Error, "verify_md5: false") || s.Failures["checksum"] != md5Hopeless || totalFileRequests(b) != md5Hopeless {
		t.Errorf("error %q failures %v file requests %d; want verify_md5 advice after %d", s.Error, s.Failures, totalFileRequests(b), md5Hopeless)
	}
	s, _ = danbooruRun(t, booru.New(makePosts(1, 10, "nakano_miku"), booru.WithFaults(
		booru.Fault{Kind: booru.Oversize, On: booru.Files, Size: 3000, Chunked: true})), 20,
		func(o *options) { o.sources[0].NoVerify = true })
	if s.Downloaded != 10 || s.Error != "" {
		t.Errorf("verify off: downloaded %d error %q, want 10", s.Downloaded, s.Error)
	}
}

func TestSingleCharacter(t *testing.T) {
	// Danbooru's tag_string_character names the characters of a post
	// (a subset of tag_string).
	posts := makePosts(1, 5, "nakano_miku")
	posts[0].Characters = []string{"nakano_miku"}
	posts[1].Characters = []string{"nakano_miku", "nakano_nino"}
	posts[1].Tags = append(posts[1].Tags, "nakano_nino")
	posts[2].Characters = []string{"nakano_nino"}
	posts[2].Tags = []string{"solo", "nakano_nino"}
	posts[3].Characters = nil // no character tag: kept
	posts[4].Characters = []string{"nakano_miku"}
	b := booru.New(posts)
	f := testFilters()
	f.SingleCharacter = true
	s, _ := danbooruRun(t, b, 10, WithFilters(f))
	if s.Downloaded != 3 || s.Filtered[ReasonMultipleCharacters] != 1 || s.Filtered[ReasonOtherCharacter] != 0 {
		t.Errorf("downloaded %d filtered %v, want 3 and multiple_characters 1", s.Downloaded, s.Filtered)
	}
	// A query without the character tag ("solo"): the class name tells.
	s, _ = danbooruRun(t, b, 10, WithFilters(f), func(o *options) { o.classes[0].Queries["danbooru"] = "solo" })
	if s.Downloaded != 3 || s.Filtered[ReasonOtherCharacter] != 1 || s.Filtered[ReasonMultipleCharacters] != 1 {
		t.Errorf("query solo: downloaded %d filtered %v, want 3, other_character 1 (post 3, nakano_nino), multiple 1", s.Downloaded, s.Filtered)
	}
	// Off: all five.
	f.SingleCharacter = false
	s, _ = danbooruRun(t, b, 10, WithFilters(f), func(o *options) { o.classes[0].Queries["danbooru"] = "solo" })
	if s.Downloaded != 5 {
		t.Errorf("single_character off: downloaded %d, want 5", s.Downloaded)
	}
	f.SingleCharacter = true
	// An alias in the query (not among the post's tags): cannot be told, kept.
	p := Post{Tags: []string{"nakano_miku", "solo"}, Characters: []string{"nakano_miku"}, HasCharacters: true}
	if r := f.CheckCharacters(&p, "miku_nakano", "Miku"); r != "" {
		t.Errorf("alias query: %q, want kept", r)
	}
	p = Post{Tags: []string{"rem_(re:zero)", "solo"}, Characters: []string{"rem_(re:zero)"}, HasCharacters: true}
	if r := f.CheckCharacters(&p, "solo", "Rem"); r != "" {
		t.Errorf("class Rem, rem_(re:zero): %q, want kept", r)
	}
}

func TestVariantsSaveBandwidth(t *testing.T) {
	// Danbooru lists media_asset.variants (sample 850 px wide, 720x720);
	// the smallest whose sides reach min_side is fetched (waifuc's
	// _select_url), the original only when none does.
	posts := []booru.Post{
		{ID: 1, Tags: []string{"nakano_miku"}, Rating: "g", Image: booru.Image(1200, 1800, 1, "jpg")},
		{ID: 2, Tags: []string{"nakano_miku"}, Rating: "g", Image: booru.Image(500, 400, 2, "jpg")},
	}
	b := booru.New(posts, booru.WithVariants())
	f := testFilters()
	f.MinSide, f.MaxFileSize = 300, 20<<20
	s, ws := danbooruRun(t, b, 10, WithFilters(f))
	if s.Downloaded != 2 {
		t.Fatalf("downloaded %d (%v %s), want 2", s.Downloaded, s.Failures, s.Error)
	}
	got := map[string][2]int{}
	for _, r := range checkRaw(t, ws, "nakano_miku") {
		got[r.PostID] = [2]int{r.Width, r.Height}
		if r.PostID == "1" && !strings.Contains(r.URL, "/720x720/") {
			t.Errorf("post 1 fetched %s, want the 720x720 rendition", r.URL)
		}
	}
	if got["1"] != [2]int{480, 720} || got["2"] != [2]int{500, 400} {
		t.Errorf("sizes %v, want post 1 as 480x720 and post 2 (too small for a rendition) as its 500x400 original", got)
	}
	if errors.Is(nil, ErrChecksum) {
		t.Fatal()
	}
}

func zerochanRun(t *testing.T, b *booru.Server, q string, src Source, extra ...Option) (SourceSummary, string) {
	t.Helper()
	ts := start(t, b)
	src.Kind, src.URL = "zerochan", ts.URL
	if src.Login == "" {
		src.Login = "mikufan"
	}
	ws := t.TempDir()
	return src0(t, runScrape(t, ws, append(baseOpts(src, q, 20), extra...)...)), ws
}

func TestZerochanTagsAreEncodedAndJoinedByCommas(t *testing.T) {
	for q, want := range map[string]string{
		"Nakano Miku": "/Nakano+Miku", "Fate/Grand Order": "/Fate%2FGrand+Order", "C# (Character)": "/C%23+%28Character%29",
		"What?": "/What%3F", "A+B 100%": "/A%2BB+100%25", "Nakano Miku, Solo": "/Nakano+Miku,Solo", " Nakano  Miku ,": "/Nakano+Miku",
	} {
		if got := ZerochanPath(q); got != want {
			t.Errorf("ZerochanPath(%q) = %q, want %q", q, got, want)
		}
	}
	posts := makePosts(1, 4, "fate/grand_order")
	posts[1].Tags = append(posts[1].Tags, "mash_kyrielight")
	b := booru.New(posts)
	s, _ := zerochanRun(t, b, "Fate/Grand Order", Source{})
	if s.Downloaded != 4 || s.Error != "" {
		t.Errorf("Fate/Grand Order: downloaded %d error %q, want 4", s.Downloaded, s.Error)
	}
	s, _ = zerochanRun(t, b, "Fate/Grand Order, Mash Kyrielight", Source{})
	if s.Downloaded != 1 || s.Error != "" {
		t.Errorf("two tags with a comma: downloaded %d error %q, want 1", s.Downloaded, s.Error)
	}
	// Written as on other boorus, it is one unknown tag: 404, reported.
	s, _ = zerochanRun(t, b, "Fate/Grand Order Mash Kyrielight", Source{})
	if !strings.Contains(s.Error, "404") || !strings.Contains(s.Error, "commas") {
		t.Errorf("space-separated tags: error %q, want the site's 404 and how Zerochan's tags are written", s.Error)
	}
}

func TestZerochanAliasRedirectKeepsJSON(t *testing.T) {
	b := booru.New(makePosts(1, 3, "nakano_miku"), booru.WithZerochanAliases(map[string]string{"Miku Nakano": "Nakano Miku"}))
	s, _ := zerochanRun(t, b, "Miku Nakano", Source{})
	if s.Downloaded != 3 || s.Error != "" {
		t.Errorf("alias: downloaded %d error %q, want 3", s.Downloaded, s.Error)
	}
	if b.URLRequests("/Nakano+Miku?json&p=1&l=100") != 1 {
		t.Error("the redirect target was not asked with ?json kept")
	}
}

func TestZerochanQuirks(t *testing.T) {
	// Control characters in per-post JSON, an empty body past the last
	// page, a listing without md5 (the md5 comes from the post's hash).
	b := booru.New(makePosts(1, 6, "nakano_miku"), booru.WithZerochanControlChars(), booru.WithZerochanEmptyEnd())
	s, ws := zerochanRun(t, b, "Nakano Miku", Source{Limit: 3})
	if s.Downloaded != 6 || s.Error != "" || s.Failed != 0 || s.Pages != 3 {
		t.Errorf("downloaded %d failed %d pages %d error %q, want 6, 0, 3 and none", s.Downloaded, s.Failed, s.Pages, s.Error)
	}
	for _, r := range checkRaw(t, ws, "nakano_miku") {
		if r.MD5 == "" {
			t.Errorf("post %s without md5", r.PostID)
		}
	}
}

func TestZerochanStrict(t *testing.T) {
	posts := makePosts(1, 4, "nakano_miku")
	for i := range posts[:2] {
		posts[i].Tags = []string{"nakano_miku", "solo"} // primary tag first
	}
	b := booru.New(posts)
	s, _ := zerochanRun(t, b, "Nakano Miku", Source{Strict: true})
	if s.Downloaded != 2 || b.URLRequests("/Nakano+Miku?json&p=1&l=100&strict") != 1 {
		t.Errorf("strict: downloaded %d, want 2 through &strict", s.Downloaded)
	}
}

func TestZerochanSortAndDimension(t *testing.T) {
	// zerochan.net/api: s=fav lists the most favourited first, d= narrows
	// by shape; the listing and its kept cursor follow both.
	posts := makePosts(1, 6, "nakano_miku")
	for i := range posts {
		posts[i].Score = i                       // the last posts are the favourites
		posts[i].Width, posts[i].Height = 40, 30 // landscape
	}
	posts[0].Width, posts[0].Height = 30, 40 // portrait, least favourite
	posts[1].Width, posts[1].Height = 30, 40
	b := booru.New(posts)
	s, ws := zerochanRun(t, b, "Nakano Miku", Source{Sort: "fav", Dimension: "portrait"})
	if s.Downloaded != 2 || b.URLRequests("/Nakano+Miku?json&p=1&l=100&s=fav&d=portrait") != 1 {
		t.Fatalf("sort=fav dimension=portrait: downloaded %d, want the 2 portrait posts through &s=fav&d=portrait", s.Downloaded)
	}
	got := map[string]bool{}
	for _, r := range checkRaw(t, ws, "nakano_miku") {
		got[r.PostID] = true
	}
	if !got[strconv.Itoa(posts[0].ID)] || !got[strconv.Itoa(posts[1].ID)] {
		t.Errorf("kept posts %v, want the portrait ones %d and %d", got, posts[0].ID, posts[1].ID)
	}
}

func gelbooruRun(t *testing.T, b *booru.Server, q string, src Source, n int) (SourceSummary, string) {
	t.Helper()
	ts := start(t, b)
	src.Kind, src.URL = "gelbooru", ts.URL
	ws := t.TempDir()
	return src0(t, runScrape(t, ws, baseOpts(src, q, n)...)), ws
}

func TestGelbooruServerCapContinues(t *testing.T) {
	// gelbooru.com caps pages at 100 (howto:api): asked for 1000, it gives
	// 100, which is not the last page.
	for _, attrs := range []bool{false, true} {
		b := booru.New(makePosts(1, 25, "nakano_miku"), booru.WithGelbooruShape(attrs), booru.WithGelbooruMaxLimit(10))
		s, _ := gelbooruRun(t, b, "nakano_miku", Source{Limit: 1000}, 100)
		if s.Downloaded != 25 {
			t.Errorf("attributes=%v: downloaded %d in %d pages, want all 25", attrs, s.Downloaded, s.Pages)
		}
	}
}

func TestGelbooruDeepOffsetSwitchesToIDCursor(t *testing.T) {
	// Past the offset limit Gelbooru answers "Too deep! Pull it back some"
	// (gallery-dl #2232); the listing goes on with id:<N.
	b := booru.New(makePosts(1, 40, "nakano_miku"), booru.WithGelbooruShape(true), booru.WithGelbooruMaxOffset(10))
	s, _ := gelbooruRun(t, b, "nakano_miku", Source{Limit: 5}, 100)
	if s.Downloaded != 40 || s.Error != "" {
		t.Errorf("reactive: downloaded %d error %q, want 40", s.Downloaded, s.Error)
	}
	old := gelbooruMaxOffset
	gelbooruMaxOffset = 10
	defer func() { gelbooruMaxOffset = old }()
	b.Reset()
	s, _ = gelbooruRun(t, b, "nakano_miku", Source{Limit: 5}, 100)
	if s.Downloaded != 40 || s.Error != "" {
		t.Errorf("proactive: downloaded %d error %q, want 40", s.Downloaded, s.Error)
	}
	if b.URLRequests("/index.php?json=1&limit=5&page=dapi&pid=3&q=index&s=post&tags=nakano_miku") != 0 {
		t.Error("a page past the offset limit was asked by index")
	}
	if b.URLRequests("/index.php?json=1&limit=5&page=dapi&pid=0&q=index&s=post&tags=nakano_miku+id%3A%3C31") != 1 {
		t.Error("the id:<31 page (below page 2's lowest id) was not asked")
	}
}

func TestSafebooruEmptyPageMidListingIsAskedAgain(t *testing.T) {
	b := booru.New(makePosts(1, 30, "nakano_miku"), booru.WithGelbooruEmptyPages(1))
	s, _ := gelbooruRun(t, b, "nakano_miku", Source{Limit: 10}, 100)
	if s.Downloaded != 30 {
		t.Errorf("downloaded %d, want 30: an empty page after a full one ended the listing", s.Downloaded)
	}
}

func TestGelbooruTagsUnescapedXMLAndSingleObject(t *testing.T) {
	posts := makePosts(1, 3, "miss_kobayashi's_dragon_maid", "tom_&_jerry")
	b := booru.New(posts)
	f := testFilters()
	f.ExcludeTags = []string{"tom_&_jerry"}
	ts := start(t, b)
	s := src0(t, runScrape(t, t.TempDir(), append(baseOpts(Source{Kind: "gelbooru", URL: ts.URL}, "miss_kobayashi's_dragon_maid", 10), WithFilters(f))...))
	if s.Filtered[ReasonExcludedTag] != 3 {
		t.Errorf("filtered %v, want 3 excluded by tom_&_jerry (HTML-escaped in the JSON)", s.Filtered)
	}
	// A clone that answers XML whatever json= says.
	b = booru.New(makePosts(1, 12, "nakano_miku"), booru.WithGelbooruXML())
	s, ws := gelbooruRun(t, b, "nakano_miku", Source{Limit: 5}, 100)
	if s.Downloaded != 12 || s.Pages != 3 || s.Error != "" {
		t.Errorf("XML: downloaded %d pages %d error %q, want 12, 3, none", s.Downloaded, s.Pages, s.Error)
	}
	for _, r := range checkRaw(t, ws, "nakano_miku") {
		if r.MD5 == "" || !contains(r.Tags, "nakano_miku") || r.Rating != "g" {
			t.Errorf("XML record %+v lacks md5, tags or rating", r)
		}
	}
	// One post as an object.
	b = booru.New(makePosts(1, 1, "nakano_miku"), booru.WithGelbooruShape(true), booru.WithGelbooruSingleObject())
	s, _ = gelbooruRun(t, b, "nakano_miku", Source{}, 10)
	if s.Downloaded != 1 || s.Error != "" {
		t.Errorf("single object: downloaded %d error %q, want 1", s.Downloaded, s.Error)
	}
}

func TestMoebooruAuthForms(t *testing.T) {
	posts := makePosts(1, 4, "nakano_miku")
	posts[0].Restricted = true
	b := booru.New(posts, booru.WithMoebooruAuth("miku", "k3y", "5ha1"))
	ts := start(t, b)
	run := func(src Source) SourceSummary {
		src.Kind, src.URL = "moebooru", ts.URL
		return src0(t, runScrape(t, t.TempDir(), baseOpts(src, "nakano_miku", 10)...))
	}
	// Before, the API key went out as password_hash and was silently
	// ignored: the restricted post never showed.
	if s := run(Source{Login: "miku", APIKey: "k3y"}); s.Downloaded != 4 {
		t.Errorf("username+api_key: downloaded %d, want 4 (the restricted post too)", s.Downloaded)
	}
	if s := run(Source{Login: "miku", PasswordHash: "5ha1"}); s.Downloaded != 4 {
		t.Errorf("login+password_hash: downloaded %d, want 4", s.Downloaded)
	}
	if s := run(Source{Login: "miku", APIKey: "wrong"}); s.Downloaded != 3 || s.Error != "" {
		t.Errorf("wrong key: downloaded %d error %q, want 3 (silently anonymous, as moebooru does)", s.Downloaded, s.Error)
	}
}

func TestMoebooruRenditions(t *testing.T) {
	posts := []booru.Post{{ID: 1, Tags: []string{"nakano_miku"}, Rating: "g", Image: booru.Image(1000, 1600, 1, "png")}}
	b := booru.New(posts, booru.WithVariants())
	ts := start(t, b)
	f := testFilters()
	f.MinSide, f.MaxFileSize = 600, 20<<20
	ws := t.TempDir()
	s := src0(t, runScrape(t, ws, append(baseOpts(Source{Kind: "moebooru", URL: ts.URL}, "nakano_miku", 10), WithFilters(f))...))
	recs := checkRaw(t, ws, "nakano_miku")
	if s.Downloaded != 1 || len(recs) != 1 || recs[0].Width != 850 || !strings.HasSuffix(recs[0].File, ".jpg") {
		t.Errorf("downloaded %d %+v, want the 850 px jpeg rendition (720x720 is below min_side 600 on its short side)", s.Downloaded, recs)
	}
}

// hostTransport sends every request to addr, whatever its host: a
// gallery at example.test and www.example.test on one local server.
func hostTransport(addr string) http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return t
}

func htmlRun(t *testing.T, b *booru.Server, src Source, n int, extra ...Option) (SourceSummary, string, *httptest.Server) {
	t.Helper()
	ts := start(t, b)
	if src.URL == "" {
		src.URL = ts.URL + "/gallery?tags={query}"
	}
	src.Kind = "html"
	if src.ImageSelector == "" {
		src.ImageSelector, src.NextSelector = "a.image", "a.next"
	}
	ws := t.TempDir()
	opts := append(baseOpts(src, "nakano_miku", n), extra...)
	return src0(t, runScrape(t, ws, opts...)), ws, ts
}

func TestHTMLGalleryRealPatterns(t *testing.T) {
	posts := makePosts(1, 12, "nakano_miku")
	posts[3].Image = testImage(4, "png")
	// Five (twelve) files named original.<ext>: one identity each.
	b := booru.New(posts, booru.WithGallery(booru.GalleryStyle{SameName: true}))
	s, ws, _ := htmlRun(t, b, Source{}, 50)
	if s.Downloaded != 12 || s.Known != 0 {
		t.Errorf("same file names: downloaded %d known %d, want 12 and 0", s.Downloaded, s.Known)
	}
	checkRaw(t, ws, "nakano_miku")
	// download.php?id=: the type comes from the bytes.
	b = booru.New(posts, booru.WithGallery(booru.GalleryStyle{Script: true}))
	s, ws, _ = htmlRun(t, b, Source{}, 50)
	if s.Downloaded != 12 || s.Filtered[ReasonFileType] != 0 {
		t.Errorf("script URLs: downloaded %d filtered %v, want 12 and none", s.Downloaded, s.Filtered)
	}
	if recs := checkRaw(t, ws, "nakano_miku"); len(recs) == 12 && !strings.HasSuffix(recs[len(recs)-1].File, ".jpg") {
		t.Errorf("last record %s, want a .jpg named from its bytes", recs[len(recs)-1].File)
	}
	// Thumbnails linking to detail pages, lazy images.
	b = booru.New(posts, booru.WithGallery(booru.GalleryStyle{Detail: true, Lazy: true, SameName: true}))
	s, _, _ = htmlRun(t, b, Source{ImageSelector: "img.image", NextSelector: "a.next", DetailSelector: "a.download"}, 50)
	if s.Downloaded != 12 || s.Failed != 0 {
		t.Errorf("detail pages: downloaded %d failed %d (%v %s), want 12", s.Downloaded, s.Failed, s.Failures, s.Error)
	}
	// A next link going round in a cycle (page 2 -> page=1 -> page 2)
	// ends the listing once a page comes round again; page=1 is a new URL
	// (the start was without page=), so it is read once more.
	b = booru.New(posts, booru.WithGallery(booru.GalleryStyle{Cycle: true}))
	s, _, _ = htmlRun(t, b, Source{}, 50)
	if s.Downloaded != 12 || s.Pages != 3 || s.Error != "" {
		t.Errorf("cycle: downloaded %d pages %d error %q, want 12, 3, none", s.Downloaded, s.Pages, s.Error)
	}
}

func TestHTMLWWWRedirectFollowed(t *testing.T) {
	posts := makePosts(1, 3, "nakano_miku")
	b := booru.New(posts)
	ts := start(t, b)
	port := ts.URL[strings.LastIndexByte(ts.URL, ':'):]
	b2 := booru.New(posts, booru.WithGallery(booru.GalleryStyle{WWWHost: "www.example.test" + port}))
	ts2 := start(t, b2)
	src := Source{Kind: "html", URL: "http://example.test" + port + "/gallery?tags={query}", ImageSelector: "a.image", NextSelector: "a.next"}
	opts := append(baseOpts(src, "nakano_miku", 10), WithTransport(hostTransport(strings.TrimPrefix(ts2.URL, "http://"))))
	s := src0(t, runScrape(t, t.TempDir(), opts...))
	if s.Downloaded != 3 || s.Error != "" {
		t.Errorf("example.test -> www.example.test: downloaded %d error %q, want 3", s.Downloaded, s.Error)
	}
	// Another host is still refused.
	b3 := booru.New(posts, booru.WithGallery(booru.GalleryStyle{WWWHost: "cdn.other.test" + port}))
	ts3 := start(t, b3)
	opts = append(baseOpts(src, "nakano_miku", 10), WithTransport(hostTransport(strings.TrimPrefix(ts3.URL, "http://"))))
	s = src0(t, runScrape(t, t.TempDir(), opts...))
	if !strings.Contains(s.Error, ErrCrossHostRedirect.Error()) {
		t.Errorf("redirect to another site: error %q, want %q", s.Error, ErrCrossHostRedirect)
	}
	h := &htmlGallery{src: Source{URL: "https://example.org/tags/{query}/page"}}
	if u, _ := h.start("Nakano Miku/2"); u != "https://example.org/tags/Nakano%20Miku%2F2/page" {
		t.Errorf("{query} in the path: %s", u)
	}
}

func TestSelectionIndependentOfTimingAndParallelism(t *testing.T) {
	// Some files fail (HTML served as an image), some answer slowly, and
	// two sources serve one class: the files kept are the same for any
	// parallelism (two fresh demo runs used to differ by a file in 2 or 3
	// classes out of 5).
	posts := makePosts(1, 40, "nakano_miku")
	posts2 := makePosts(100, 40, "nakano_miku")
	faults := []booru.Fault{
		{Kind: booru.HTMLAsImage, On: booru.Files, PostIDs: []int{38, 35, 34, 137}},
		{Kind: booru.Slow, On: booru.Files, PostIDs: []int{40, 39, 139, 136}, Delay: 60 * time.Millisecond},
	}
	b1, b2 := booru.New(posts, booru.WithFaults(faults...)), booru.New(posts2, booru.WithFaults(faults...))
	t1, t2 := start(t, b1), start(t, b2)
	var first []string
	for _, par := range []int{1, 3, 8} {
		ws := t.TempDir()
		sum := runScrape(t, ws,
			WithSources(Source{Name: "a", Kind: "danbooru", URL: t1.URL, Limit: 7, Parallelism: par},
				Source{Name: "b", Kind: "moebooru", URL: t2.URL, Limit: 7, Parallelism: par}),
			WithClasses(Class{Name: "Nakano Miku", Queries: map[string]string{"a": "nakano_miku", "b": "nakano_miku"}}),
			WithCandidates(15), WithDelay(0), WithRetry(fastRetry()), WithFilters(testFilters()))
		if sum.Classes[0].After != 15 {
			t.Fatalf("parallelism %d: %d files, want 15", par, sum.Classes[0].After)
		}
		var got []string
		for _, r := range checkRaw(t, ws, "nakano_miku") {
			got = append(got, r.Source+":"+r.PostID)
		}
		sort.Strings(got)
		if first == nil {
			first = got
			continue
		}
		if strings.Join(got, " ") != strings.Join(first, " ") {
			t.Errorf("parallelism %d kept %v, parallelism 1 kept %v", par, got, first)
		}
	}
	// Newest first, one candidate a source in turn (a:40, b:139, a:39,
	// ...), the failures (a:38, b:137, a:35, a:34) passed over.
	want := "a:31 a:32 a:33 a:36 a:37 a:39 a:40 b:131 b:132 b:133 b:134 b:135 b:136 b:138 b:139"
	if strings.Join(first, " ") != want {
		t.Errorf("kept %v, want %s", first, want)
	}
}

func TestGelbooruXMLErrorWith200(t *testing.T) {
	b := booru.New(makePosts(1, 3, "nakano_miku"), booru.WithGelbooruError("Search error: API limited due to abuse."))
	s, _ := gelbooruRun(t, b, "nakano_miku", Source{}, 10)
	if !strings.Contains(s.Error, "API limited due to abuse") || !strings.Contains(s.Error, ErrBadResponse.Error()) || b.APIRequests() != 1 {
		t.Errorf("error %q after %d requests, want the site's reason after 1", s.Error, b.APIRequests())
	}
	b = booru.New(makePosts(1, 3, "nakano_miku"), booru.WithGelbooruError("Missing authentication. Go to api access credentials on your account profile."))
	s, _ = gelbooruRun(t, b, "nakano_miku", Source{}, 10)
	if !strings.Contains(s.Error, ErrAuth.Error()) || !strings.Contains(s.Error, "API_KEY") {
		t.Errorf("missing authentication: error %q, want an auth error naming the key", s.Error)
	}
}

func TestMoebooruTagLimitAndKonachanChallenge(t *testing.T) {
	b := booru.New(makePosts(1, 3, "nakano_miku"))
	ts := start(t, b)
	s := src0(t, runScrape(t, t.TempDir(), baseOpts(Source{Kind: "moebooru", URL: ts.URL}, "a b c d e f g", 10)...))
	if !strings.Contains(s.Error, ErrTagLimit.Error()) || b.APIRequests() != 0 {
		t.Errorf("7 tags: error %q after %d requests, want the tag limit after 0", s.Error, b.APIRequests())
	}
	// konachan.com's API is behind a Cloudflare browser check
	// (https://github.com/khoadng/Boorusama/issues/411).
	b = booru.New(makePosts(1, 3, "nakano_miku"), booru.WithFaults(booru.Fault{Kind: booru.Challenge, On: booru.API}))
	ts = start(t, b)
	s = src0(t, runScrape(t, t.TempDir(), baseOpts(Source{Name: "konachan", Kind: "moebooru", URL: ts.URL}, "nakano_miku", 10)...))
	if !strings.Contains(s.Error, ErrChallenge.Error()) || !strings.Contains(s.Error, "sources.konachan.cookies") {
		t.Errorf("konachan: error %q, want a challenge naming sources.konachan.cookies", s.Error)
	}
}

func TestGelbooruCloneImagesElsewhere(t *testing.T) {
	posts := makePosts(1, 3, "nakano_miku")
	site, img := booru.New(posts), booru.New(posts)
	ts, ti := start(t, site), start(t, img)
	s := src0(t, runScrape(t, t.TempDir(), baseOpts(Source{Kind: "gelbooru", URL: ts.URL, ImagesURL: ti.URL + "/"}, "nakano_miku", 10)...))
	if s.Downloaded != 3 || totalFileRequests(img) != 3 || totalFileRequests(site) != 0 {
		t.Errorf("downloaded %d; file requests: image host %d, site %d; want 3, 3, 0", s.Downloaded, totalFileRequests(img), totalFileRequests(site))
	}
}

func TestThrottledHostPausesAllItsDownloads(t *testing.T) {
	// One file answered 429: the downloads from that host that start after
	// it wait too, instead of each running into the limit.
	p := fastRetry()
	p.ThrottleWait, p.ThrottleMax = 200*time.Millisecond, 200*time.Millisecond
	b := booru.New(makePosts(1, 8, "nakano_miku"), booru.WithFaults(
		booru.Fault{Kind: booru.RateLimit, On: booru.Files, Times: 1, PostIDs: []int{8}},
		booru.Fault{Kind: booru.Slow, On: booru.Files, PostIDs: []int{7, 6}, Delay: 50 * time.Millisecond}))
	s, _ := danbooruRun(t, b, 10, WithRetry(p), func(o *options) { o.sources[0].Parallelism = 3 })
	if s.Downloaded != 8 || b.FileRequests()[8] != 2 {
		t.Fatalf("downloaded %d (%v), post 8 asked %d times; want 8 and 2", s.Downloaded, s.Failures, b.FileRequests()[8])
	}
	// Posts 8, 7, 6 start together; 8 is throttled at once, 7 and 6 are
	// slow; 5 and later start after 7 or 6 ends, inside the pause.
	t429 := b.FileTimes(8)[0]
	for id := 1; id <= 5; id++ {
		if at := b.FileTimes(id); len(at) == 0 || at[0].Sub(t429) < 180*time.Millisecond {
			t.Errorf("post %d asked %v after the 429, want after the 200ms pause", id, at[0].Sub(t429))
		}
	}
}

func TestHTMLRenderedInfiniteScroll(t *testing.T) {
	if _, err := exec.LookPath("chromium"); err != nil {
		t.Skip("needs chromium (apt-get install chromium)")
	}
	posts := makePosts(1, 12, "nakano_miku")
	b := booru.New(posts, booru.WithGallery(booru.GalleryStyle{JS: true}))
	// As served, the page has no thumbnails: nothing found.
	s, _, _ := htmlRun(t, b, Source{}, 50)
	if s.Found != 0 {
		t.Errorf("without render: found %d, want 0 (the links are drawn by a script)", s.Found)
	}
	s, ws, _ := htmlRun(t, b, Source{Render: true}, 50)
	if s.Downloaded != 12 || s.Error != "" {
		t.Errorf("render: downloaded %d error %q, want all 12 (5 drawn, then 5 more per scroll)", s.Downloaded, s.Error)
	}
	checkRaw(t, ws, "nakano_miku")
}

func TestMoebooruCharacterTagsFromAPIv2(t *testing.T) {
	// /post.json?api_version=2&include_tags=1 gives each tag's type
	// (moebooru post_controller.rb index, post/api_methods.rb
	// batch_api_data): single_character works on yande.re too.
	posts := makePosts(1, 3, "nakano_miku")
	posts[0].Characters = []string{"nakano_miku"}
	posts[1].Characters = []string{"nakano_miku", "nakano_nino"}
	posts[1].Tags = append(posts[1].Tags, "nakano_nino")
	b := booru.New(posts)
	ts := start(t, b)
	f := testFilters()
	f.SingleCharacter = true
	s := src0(t, runScrape(t, t.TempDir(), append(baseOpts(Source{Kind: "moebooru", URL: ts.URL}, "nakano_miku", 10), WithFilters(f))...))
	if s.Downloaded != 2 || s.Filtered[ReasonMultipleCharacters] != 1 {
		t.Errorf("downloaded %d filtered %v, want 2 and multiple_characters 1", s.Downloaded, s.Filtered)
	}
}
