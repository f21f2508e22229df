package scrape

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/booru"
	"github.com/chara-dev/chara/internal/progress"
)

// characterPosts: a solo post of the class's character, one with two
// characters, one with another character; all tagged solo.
func characterPosts() []booru.Post {
	posts := makePosts(1, 3, "nakano_miku")
	posts[0].Characters = []string{"nakano_miku"}
	posts[1].Tags = append(posts[1].Tags, "nakano_nino")
	posts[1].Characters = []string{"nakano_miku", "nakano_nino"}
	posts[2].Tags = []string{"solo", "jeanne_d'arc_(fate)", "fate/grand_order"}
	posts[2].Characters = []string{"jeanne_d'arc_(fate)"}
	return posts
}

func TestGelbooruCharacterTagsFromTagAPI(t *testing.T) {
	// The listing's flat tags are typed by the dapi's tag index (type 4:
	// character), asked in batches and once per tag for the run.
	for _, tc := range []struct {
		name string
		opts []booru.Option
	}{
		{"gelbooru object", []booru.Option{booru.WithGelbooruShape(true)}},
		{"0.2 xml", nil}, // Safebooru-like listing, XML tag index
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := booru.New(characterPosts(), tc.opts...)
			ts := start(t, b)
			f := testFilters()
			f.SingleCharacter = true
			// One post a page: three listing pages share the tag "solo".
			s := src0(t, runScrape(t, t.TempDir(), append(baseOpts(Source{Kind: "gelbooru", URL: ts.URL, Limit: 1}, "solo", 10), WithFilters(f))...))
			if s.Downloaded != 1 || s.Filtered[ReasonMultipleCharacters] != 1 || s.Filtered[ReasonOtherCharacter] != 1 {
				t.Errorf("downloaded %d filtered %v, want 1, multiple_characters 1, other_character 1", s.Downloaded, s.Filtered)
			}
			if len(s.Warnings) != 0 {
				t.Errorf("warnings %v, want none", s.Warnings)
			}
			asked := b.TagLookups()
			for _, tag := range []string{"solo", "nakano_miku", "nakano_nino", "jeanne_d'arc_(fate)", "fate/grand_order"} {
				if asked[tag] != 1 {
					t.Errorf("tag %q asked %d times, want once (all: %v)", tag, asked[tag], asked)
				}
			}
			if len(asked) != 5 {
				t.Errorf("asked %v, want the five tags", asked)
			}
			// Off: no lookup, all three.
			b.Reset()
			f.SingleCharacter = false
			s = src0(t, runScrape(t, t.TempDir(), append(baseOpts(Source{Kind: "gelbooru", URL: ts.URL}, "solo", 10), WithFilters(f))...))
			if s.Downloaded != 3 || len(b.TagLookups()) != 0 {
				t.Errorf("single_character off: downloaded %d, tags asked %v; want 3 and none", s.Downloaded, b.TagLookups())
			}
		})
	}
}

func TestGelbooruTagBatches(t *testing.T) {
	// More distinct tags than a request may name: several requests, each
	// within the batch size, every tag asked once.
	posts := makePosts(1, 3, "nakano_miku")
	for i := range posts {
		for k := 0; k < 60; k++ {
			posts[i].Tags = append(posts[i].Tags, "tag_"+string(rune('a'+i))+"_"+strings.Repeat("x", k%5)+string(rune('a'+k%26))+string(rune('a'+k/26)))
		}
	}
	posts[0].Characters = []string{"nakano_miku"}
	b := booru.New(posts, booru.WithGelbooruShape(true))
	ts := start(t, b)
	f := testFilters()
	f.SingleCharacter = true
	s := src0(t, runScrape(t, t.TempDir(), append(baseOpts(Source{Kind: "gelbooru", URL: ts.URL}, "nakano_miku", 10), WithFilters(f))...))
	if s.Downloaded != 3 {
		t.Errorf("downloaded %d filtered %v, want 3", s.Downloaded, s.Filtered)
	}
	asked := b.TagLookups()
	if len(asked) != 182 {
		t.Errorf("%d tags asked, want 182", len(asked))
	}
	for tag, n := range asked {
		if n != 1 {
			t.Errorf("tag %q asked %d times", tag, n)
		}
	}
	if got := b.APIRequests(); got != 1+2 {
		t.Errorf("%d API requests, want 1 listing page and 2 tag requests (182 tags, %d a request)", got, gelbooruTagBatch)
	}
}

func TestGelbooruTagAPIFailingKeepsPosts(t *testing.T) {
	// Without the tag index, the posts cannot be checked: they are kept,
	// and the summary and the reporter say so once.
	b := booru.New(characterPosts(), booru.WithGelbooruShape(true), booru.WithoutGelbooruTagAPI())
	ts := start(t, b)
	f := testFilters()
	f.SingleCharacter = true
	var log bytes.Buffer
	s := src0(t, runScrape(t, t.TempDir(), append(baseOpts(Source{Kind: "gelbooru", URL: ts.URL, Limit: 1}, "solo", 10),
		WithFilters(f), WithReporter(progress.Lines(&log, time.Hour)))...))
	if s.Downloaded != 3 || s.Error != "" {
		t.Errorf("downloaded %d filtered %v error %q, want all 3 kept", s.Downloaded, s.Filtered, s.Error)
	}
	if len(s.Warnings) != 1 || !strings.Contains(s.Warnings[0], "single_character") || !strings.Contains(s.Warnings[0], "404") {
		t.Errorf("warnings %q, want one naming single_character and the 404", s.Warnings)
	}
	if n := strings.Count(log.String(), "character tags unknown"); n != 1 {
		t.Errorf("reported %d times, want once:\n%s", n, log.String())
	}
	// Asked once: the three listing pages and one tag request.
	if got := b.APIRequests(); got != 3+1 {
		t.Errorf("%d API requests, want 3 listing pages and 1 tag request", got)
	}
	var table bytes.Buffer
	sum := &Summary{Classes: []ClassSummary{{Class: "Nakano Miku", Sources: []SourceSummary{s}}}}
	if err := sum.WriteTable(&table); err != nil || !strings.Contains(table.String(), "warning: Nakano Miku/gelbooru: single_character") {
		t.Errorf("table lacks the warning (%v):\n%s", err, table.String())
	}
}

func TestCharacterTagsSurviveTheSharedListing(t *testing.T) {
	// A shared crawl hands listed posts over as JSON (redisFrontier):
	// whether the site said which tags are characters must survive it, or
	// single_character would keep every post there.
	in := Post{ID: "1", Tags: []string{"solo", "nakano_nino"}, Characters: []string{"nakano_nino"}, HasCharacters: true}
	b, err := json.Marshal(&in)
	if err != nil {
		t.Fatal(err)
	}
	var out Post
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	f := Filters{SingleCharacter: true}
	if r := f.CheckCharacters(&out, "solo", "Nakano Miku"); r != ReasonOtherCharacter {
		t.Errorf("after the JSON round trip (%s): %q, want %q", b, r, ReasonOtherCharacter)
	}
}
