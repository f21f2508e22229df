package scrape

import (
	"strings"
	"testing"

	"github.com/chara-dev/chara/internal/booru"
	"github.com/chara-dev/chara/internal/config"
)

// TestInitTemplateAgainstFaithfulFakes runs chara init's chara.yaml
// against fakes that behave like its three sites: Danbooru with its real
// robots.txt and a burst of 429s without Retry-After (REAL-SITES.md §1),
// Safebooru's bare lists with an empty page mid-listing (§2), yande.re
// (§3). Every class must fill without an error (issue 12: before, every
// Danbooru class stopped on robots.txt).
func TestInitTemplateAgainstFaithfulFakes(t *testing.T) {
	chars := []string{"nakano_ichika", "nakano_nino", "nakano_miku", "nakano_yotsuba", "nakano_itsuki"}
	site := func(seed int) []booru.Post {
		var posts []booru.Post
		id := 1
		for _, c := range chars {
			for i := 0; i < 4; i++ {
				posts = append(posts, booru.Post{ID: id, Tags: []string{c, "solo"}, Characters: []string{c}, Rating: "g",
					Image: booru.Image(150, 300, int64(seed*1000+id), "jpg")})
				id++
			}
		}
		return posts
	}
	dan := start(t, booru.New(site(1), booru.WithRobots(booru.DanbooruRobots),
		booru.WithFaults(booru.Fault{Kind: booru.RateLimit, On: booru.API, Times: 2})))
	safe := start(t, booru.New(site(2), booru.WithGelbooruEmptyPages(1)))
	yan := start(t, booru.New(site(3)))
	yml := strings.NewReplacer("https://danbooru.donmai.us", dan.URL, "https://safebooru.org", safe.URL, "https://yande.re", yan.URL).Replace(config.Template)
	cfg, err := config.Parse("chara.yaml", []byte(yml))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Scrape.Candidates = 6
	opts := append(ConfigOptions(cfg, func(string) string { return "" }), WithRetry(fastRetry()), WithDelay(0))
	sum := runScrape(t, t.TempDir(), opts...)
	if errs := sum.Errors(); len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	for _, c := range sum.Classes {
		if c.After != 6 {
			t.Errorf("%s: %d files, want 6", c.Class, c.After)
		}
	}
}
