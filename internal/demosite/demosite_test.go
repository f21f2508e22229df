package demosite

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/chara-dev/chara/internal/booru"
	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/internal/synth"
)

func get(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return b
}

func TestSiteServesTheCorpus(t *testing.T) {
	ctx := context.Background()
	site := New(5, 12, CorpusOptions(synth.ImageSize(64, 96)))
	base, stop, err := site.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	corpus, err := site.Build(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ch := range synth.Characters() {
		var posts []struct {
			ID      int    `json:"id"`
			MD5     string `json:"md5"`
			FileURL string `json:"file_url"`
			Rating  string `json:"rating"`
		}
		if err := json.Unmarshal(get(t, fmt.Sprintf("%s/posts.json?tags=%s&limit=200", base, ch.Tag)), &posts); err != nil {
			t.Fatal(err)
		}
		items := corpus.ByClass(ch.Name)
		if len(posts) != len(items) {
			t.Fatalf("%s: %d posts listed, corpus has %d", ch.Name, len(posts), len(items))
		}
		for _, p := range posts {
			it, ok := corpus.ByID(p.ID)
			if !ok || it.Class != ch.Name || it.Rating != p.Rating {
				t.Fatalf("%s: post %d is not the corpus item (%v %s %s)", ch.Name, p.ID, ok, it.Class, it.Rating)
			}
			if it.Kind == synth.KindBroken && len(it.Bytes) == 0 {
				continue
			}
			body := get(t, p.FileURL)
			sum := md5.Sum(body)
			if got := hex.EncodeToString(sum[:]); got != it.MD5 || got != p.MD5 {
				t.Errorf("post %d: served md5 %s, listed %s, corpus %s", p.ID, got, p.MD5, it.MD5)
			}
		}
	}
	if site.Board().FileRequests() == nil {
		t.Error("no request counters")
	}
	stop()
	stop() // idempotent
	if resp, err := http.Get(base + "/posts.json"); err == nil {
		resp.Body.Close()
		t.Error("site still answers after stop")
	}
}

func TestSiteServesDanbooruRobots(t *testing.T) {
	// The demo is a faithful Danbooru: its robots.txt disallows the API,
	// which chara's booru kinds do not apply (chara demo scrapes it all).
	base, stop, err := New(1, 4, CorpusOptions(synth.ImageSize(32, 48))).Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if got := string(get(t, base+"/robots.txt")); got != booru.DanbooruRobots {
		t.Errorf("robots.txt:\n%s\nwant Danbooru's:\n%s", got, booru.DanbooruRobots)
	}
}

func TestStartStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	base, stop, err := New(1, 4, CorpusOptions(synth.ImageSize(32, 48), synth.DuplicateFraction(0),
		synth.BrokenFraction(0), synth.OffTopicFraction(0))).Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	get(t, base+"/posts.json?tags=demo_nino")
	cancel()
	for range 100 { // shutdown is asynchronous
		resp, err := http.Get(base + "/posts.json")
		if err != nil {
			return
		}
		resp.Body.Close()
	}
	t.Error("site still answers after its context ended")
}

func TestStartRefusesOtherInterfaces(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:80", "example.com:80"} {
		if _, _, err := New(1, 4, Addr(addr)).Start(context.Background()); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("%s: err %v, want ErrNotLoopback", addr, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := New(1, 40).Start(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled build: %v", err)
	}
}

func TestConfigParses(t *testing.T) {
	site := New(3, 64, Characters(append(synth.Characters(), synth.Extra()...)...))
	text := site.Config("http://127.0.0.1:12345", DefaultSizes)
	cfg, err := config.Parse("chara.yaml", []byte(text))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if len(cfg.Classes) != 6 {
		t.Fatalf("%d classes", len(cfg.Classes))
	}
	for i, ch := range append(synth.Characters(), synth.Extra()...) {
		if cfg.Classes[i].Name != ch.Name || cfg.Classes[i].Queries[SourceName] != ch.Tag {
			t.Errorf("class %d: %+v, want %s=%s", i, cfg.Classes[i], ch.Name, ch.Tag)
		}
	}
	src := cfg.Sources[SourceName]
	if src.Kind != "danbooru" || src.URL != "http://127.0.0.1:12345" {
		t.Errorf("source %+v", src)
	}
	if cfg.Images.PerClass != DefaultSizes.PerClass || cfg.Images.Width != 48 || cfg.Images.Height != 96 ||
		cfg.Scrape.Candidates != DefaultSizes.Candidates || cfg.Seed != 3 || cfg.Train.Epochs != DefaultSizes.Epochs {
		t.Errorf("sizes not applied: %+v %+v %+v", cfg.Images, cfg.Scrape, cfg.Train)
	}
	// Every original the site serves is big enough for the demo's scrape
	// and curate minimums, and so is every planted duplicate.
	c, err := site.Build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range c.Items {
		if it.Kind != synth.KindBroken && (it.Width < cfg.Scrape.MinWidth || it.Height < cfg.Scrape.MinHeight ||
			it.Width < cfg.Curate.MinWidth || it.Height < cfg.Curate.MinHeight) {
			t.Errorf("item %d (%s %s) is %dx%d, below the demo's minimums", it.ID, it.Kind, it.Detail, it.Width, it.Height)
		}
	}
}

func TestDefaultPerClassPlan(t *testing.T) {
	p := synth.PlanFor(DefaultPerClass)
	if p.Originals < DefaultSizes.PerClass {
		t.Errorf("%d originals per class cannot fill images.per_class %d", p.Originals, DefaultSizes.PerClass)
	}
}
