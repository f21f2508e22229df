package scrape

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chara-dev/chara/internal/booru"
)

func TestGelbooruBothShapes(t *testing.T) {
	for _, attrs := range []bool{false, true} {
		t.Run(fmt.Sprintf("attributes=%v", attrs), func(t *testing.T) {
			posts := makePosts(1, 21, "nakano_miku")
			posts[2].Rating = "s"
			posts[4].Rating = "q"
			b := booru.New(posts, booru.WithGelbooruShape(attrs))
			ts := start(t, b)
			ws := t.TempDir()
			sum := runScrape(t, ws, baseOpts(Source{Kind: "gelbooru", URL: ts.URL, Limit: 7}, "nakano_miku", 100)...)
			s := src0(t, sum)
			// 21 posts, 7 a page: 3 full pages. Gelbooru's @attributes count
			// says that was all; Safebooru's bare list says nothing, so an
			// empty 4th page ends it, asked again emptyRetries times since
			// Safebooru sometimes answers an empty page mid-listing
			// (gallery-dl #5830). (Before, a short or empty page ended both,
			// and this test wanted 4 pages, once each, for both shapes.)
			pages, last := 4, 1+emptyRetries
			if attrs {
				pages, last = 3, 0
			}
			if s.Found != 21 || s.Downloaded != 20 || s.Filtered[ReasonRating] != 1 || s.Pages != pages {
				t.Errorf("found %d downloaded %d rating-filtered %d pages %d; want 21, 20, 1, %d", s.Found, s.Downloaded, s.Filtered[ReasonRating], s.Pages, pages)
			}
			for pid := 0; pid < 4; pid++ {
				uri := fmt.Sprintf("/index.php?json=1&limit=7&page=dapi&pid=%d&q=index&s=post&tags=nakano_miku", pid)
				want := 1
				if pid == 3 {
					want = last
				}
				if n := b.URLRequests(uri); n != want {
					t.Errorf("%s requested %d times, want %d", uri, n, want)
				}
			}
			recs := checkRaw(t, ws, "nakano_miku")
			ratings := map[string]int{}
			for _, r := range recs {
				ratings[r.Rating]++
			}
			if ratings["g"] != 19 || ratings["s"] != 1 {
				t.Errorf("ratings %v, want 19 g and 1 s", ratings)
			}
		})
	}
}

func TestGelbooruNeedsAPIKey(t *testing.T) {
	b := booru.New(makePosts(1, 3, "nakano_miku"), booru.WithGelbooruShape(true), booru.WithGelbooruAuth("k3y", "42"))
	ts := start(t, b)
	sum := runScrape(t, t.TempDir(), baseOpts(Source{Kind: "gelbooru", URL: ts.URL}, "nakano_miku", 10)...)
	s := src0(t, sum)
	if !strings.Contains(s.Error, "401") || !strings.Contains(s.Error, "api_key and user_id") {
		t.Errorf("error %q, want a 401 that says api_key and user_id are needed", s.Error)
	}
	sum = runScrape(t, t.TempDir(), baseOpts(Source{Kind: "gelbooru", URL: ts.URL, APIKey: "k3y", Login: "42"}, "nakano_miku", 10)...)
	if s := src0(t, sum); s.Downloaded != 3 {
		t.Errorf("with key: downloaded %d (%s), want 3", s.Downloaded, s.Error)
	}
	if strings.Contains(fmt.Sprint(sum), "k3y") {
		t.Error("summary shows the API key")
	}
}

func TestMoebooru(t *testing.T) {
	posts := makePosts(1, 12, "nakano_miku")
	posts[0].Rating = "e"
	b := booru.New(posts)
	ts := start(t, b)
	ws := t.TempDir()
	sum := runScrape(t, ws, baseOpts(Source{Kind: "moebooru", URL: ts.URL, Limit: 5}, "nakano_miku", 100)...)
	s := src0(t, sum)
	if s.Found != 12 || s.Downloaded != 11 || s.Pages != 3 {
		t.Errorf("found %d downloaded %d pages %d; want 12, 11, 3", s.Found, s.Downloaded, s.Pages)
	}
	if n := b.URLRequests("/post.json?api_version=2&include_tags=1&limit=5&page=3&tags=nakano_miku"); n != 1 {
		t.Errorf("page 3 requested %d times", n)
	}
	checkRaw(t, ws, "nakano_miku")
}

func TestZerochanResolvesFullURLAndNamesUser(t *testing.T) {
	b := booru.New(makePosts(1, 7, "nakano_miku"))
	ts := start(t, b)
	ws := t.TempDir()
	_, err := New(ws, baseOpts(Source{Kind: "zerochan", URL: ts.URL}, "Nakano Miku", 10)...).Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "CHARA_ZEROCHAN_LOGIN") {
		t.Fatalf("zerochan without a user name: %v, want a configuration error naming CHARA_ZEROCHAN_LOGIN", err)
	}
	sum := runScrape(t, ws, baseOpts(Source{Kind: "zerochan", URL: ts.URL, Login: "mikufan", Limit: 3}, "Nakano Miku", 10)...)
	s := src0(t, sum)
	if s.Downloaded != 7 || s.Pages != 3 {
		t.Errorf("downloaded %d pages %d (%s), want 7 and 3", s.Downloaded, s.Pages, s.Error)
	}
	if n := b.URLRequests("/Nakano+Miku?json&p=2&l=3"); n != 1 {
		t.Errorf("page 2 requested %d times", n)
	}
	if n := b.URLRequests("/4?json"); n != 1 {
		t.Errorf("post 4 resolved %d times, want 1", n)
	}
	recs := checkRaw(t, ws, "nakano_miku")
	if len(recs) != 7 || !contains(recs[0].Tags, "nakano_miku") {
		t.Errorf("records %d, tags %v: want 7 with normalised tags", len(recs), recs[0].Tags)
	}
}

func TestHTMLGallery(t *testing.T) {
	b := booru.New(makePosts(1, booru.GalleryPageSize*2+3, "nakano_miku"))
	ts := start(t, b)
	ws := t.TempDir()
	src := Source{Kind: "html", URL: ts.URL + "/gallery?tags={query}", ImageSelector: "a.image", NextSelector: "a.next"}
	sum := runScrape(t, ws, baseOpts(src, "nakano_miku", 100)...)
	s := src0(t, sum)
	if s.Downloaded != booru.GalleryPageSize*2+3 || s.Pages != 3 {
		t.Errorf("downloaded %d pages %d (%s), want %d and 3", s.Downloaded, s.Pages, s.Error, booru.GalleryPageSize*2+3)
	}
	checkRaw(t, ws, "nakano_miku")
}

func TestFiltersCountedPerReason(t *testing.T) {
	posts := makePosts(1, 10, "nakano_miku")
	posts[0].Rating = "e"
	posts[1].Rating = "q"
	posts[2].Width, posts[2].Height = 20, 20
	posts[3].Tags = append(posts[3].Tags, "comic")
	posts[4].Image = testImage(5, "png")
	posts[5].Image = testImage(6, "gif")
	posts[6].PadTo = 3000 // listed file_size over the limit
	b := booru.New(posts)
	ts := start(t, b)
	ws := t.TempDir()
	opts := baseOpts(Source{Kind: "danbooru", URL: ts.URL}, "nakano_miku", 100)
	opts = append(opts, WithFilters(Filters{Ratings: []string{"g", "s"}, MinWidth: 30, MinHeight: 30,
		ExcludeTags: []string{"Comic"}, Types: []string{"jpg", "png"}, MaxFileSize: 2500}))
	sum := runScrape(t, ws, opts...)
	s := src0(t, sum)
	want := map[string]int{ReasonRating: 2, ReasonTooSmall: 1, ReasonExcludedTag: 1, ReasonFileType: 1, ReasonTooLarge: 1}
	for k, v := range want {
		if s.Filtered[k] != v {
			t.Errorf("filtered[%s] = %d, want %d (all: %v)", k, s.Filtered[k], v, s.Filtered)
		}
	}
	if s.Downloaded != 4 {
		t.Errorf("downloaded %d, want 4", s.Downloaded)
	}
	for _, id := range []int{1, 2, 3, 4, 6, 7} {
		if n := b.FileRequests()[id]; n != 0 {
			t.Errorf("filtered post %d was fetched %d times; filters must act before the request", id, n)
		}
	}
	recs := checkRaw(t, ws, "nakano_miku")
	png := 0
	for _, r := range recs {
		if strings.HasSuffix(r.File, ".png") {
			png++
		}
	}
	if png != 1 {
		t.Errorf("%d png files, want 1", png)
	}
}

func TestSizeCheckedOnTheFileToo(t *testing.T) {
	// The listing claims 400x600; the file is 40x60.
	b := booru.New(makePosts(1, 3, "nakano_miku"))
	ts := start(t, b)
	ws := t.TempDir()
	opts := append(baseOpts(Source{Kind: "danbooru", URL: ts.URL}, "nakano_miku", 10),
		WithFilters(Filters{MinWidth: 100, MinHeight: 100}))
	s := src0(t, runScrape(t, ws, opts...))
	if s.Filtered[ReasonTooSmall] != 3 || s.Downloaded != 0 {
		t.Errorf("too_small %d downloaded %d, want 3 and 0", s.Filtered[ReasonTooSmall], s.Downloaded)
	}
	if recs := checkRaw(t, ws, "nakano_miku"); len(recs) != 0 {
		t.Errorf("%d files kept", len(recs))
	}
	// Refused files are archived: a rerun does not fetch them again.
	before := totalFileRequests(b)
	runScrape(t, ws, opts...)
	if totalFileRequests(b) != before {
		t.Errorf("rerun fetched %d refused files again", totalFileRequests(b)-before)
	}
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
