// Package demosite serves the built-in demo: a synth.Corpus of generated
// look-alike characters (with planted near-duplicates, broken files and
// off-topic pictures) behind the fake booru of internal/booru, on the
// loopback interface only, plus the chara.yaml that points chara at it.
package demosite

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/chara-dev/chara/internal/booru"
	"github.com/chara-dev/chara/internal/synth"
)

// DefaultPerClass is the demo's number of posts per character: with the
// corpus defaults, 112 originals, 14 planted duplicates, 7 broken files and 7
// off-topic pictures (about a tenth rated q or e, which the demo's scrape
// filters out).
const DefaultPerClass = 140

// SourceName is the name of the demo site under sources: in chara.yaml.
const SourceName = "demo"

// ErrNotLoopback is returned by Start for a listen address that is not on
// the loopback interface.
var ErrNotLoopback = errors.New("demosite: listen address is not loopback")

// Site is one demo site: a corpus and the board that serves it.
type Site struct {
	seed     int64
	perClass int
	chars    []synth.Character
	corpus   []synth.CorpusOption
	board    []booru.Option
	addr     string

	mu     sync.Mutex
	built  *synth.Corpus
	server *booru.Server
}

// Option configures a Site.
type Option func(*Site)

// Characters sets the characters served (default synth.Characters()).
func Characters(chars ...synth.Character) Option {
	return func(s *Site) { s.chars = append([]synth.Character(nil), chars...) }
}

// CorpusOptions passes options to synth.NewCorpus (after the demo's own
// defaults, so they override them).
func CorpusOptions(opts ...synth.CorpusOption) Option {
	return func(s *Site) { s.corpus = append(s.corpus, opts...) }
}

// BooruOptions passes options to booru.New (faults, latency, robots.txt).
func BooruOptions(opts ...booru.Option) Option {
	return func(s *Site) { s.board = append(s.board, opts...) }
}

// Addr sets the listen address (default "127.0.0.1:0", a free port). It
// must be a loopback address.
func Addr(addr string) Option { return func(s *Site) { s.addr = addr } }

// New describes a demo site with perClass posts per character, generated
// from seed. Nothing is generated until Build or Start.
func New(seed int64, perClass int, opts ...Option) *Site {
	s := &Site{seed: seed, perClass: perClass, chars: synth.Characters(), addr: "127.0.0.1:0"}
	for _, o := range opts {
		o(s)
	}
	return s
}

// Build generates the corpus (once; later calls return the same one).
func (s *Site) Build(ctx context.Context) (*synth.Corpus, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.built != nil {
		return s.built, nil
	}
	opts := append([]synth.CorpusOption{synth.ImageSize(160, 240), synth.Ratings(80, 14, 4, 2)}, s.corpus...)
	c, err := synth.NewCorpus(ctx, s.chars, s.perClass, s.seed, opts...)
	if err != nil {
		return nil, fmt.Errorf("demosite: corpus: %w", err)
	}
	posts := make([]booru.Post, len(c.Items))
	for i, it := range c.Items {
		posts[i] = booru.Post{ID: it.ID, Tags: it.Tags, Rating: it.Rating, Image: it.Bytes,
			Width: it.Width, Height: it.Height, Source: "chara demo"}
	}
	// The demo is a Danbooru (kind danbooru in its chara.yaml) and serves
	// Danbooru's own robots.txt (REAL-SITES.md §1), which disallows the
	// API: the demo shows that the booru kinds do not apply it. Options may
	// replace it.
	board := append([]booru.Option{booru.WithRobots(booru.DanbooruRobots)}, s.board...)
	s.built, s.server = c, booru.New(posts, board...)
	return c, nil
}

// Board returns the booru server (nil before Build), whose request counters
// tests may read.
func (s *Site) Board() *booru.Server {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.server
}

// Start builds the corpus and serves it on the loopback address until stop
// is called or ctx ends. baseURL has no trailing slash.
func (s *Site) Start(ctx context.Context) (baseURL string, stop func(), err error) {
	host, _, err := net.SplitHostPort(s.addr)
	if err != nil {
		return "", nil, fmt.Errorf("demosite: address %q: %w", s.addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", nil, fmt.Errorf("%w: %q", ErrNotLoopback, s.addr)
	}
	if _, err := s.Build(ctx); err != nil {
		return "", nil, err
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", s.addr)
	if err != nil {
		return "", nil, fmt.Errorf("demosite: listen on %s: %w", s.addr, err)
	}
	srv := &http.Server{Handler: s.Board(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }() // returns http.ErrServerClosed after stop
	done := make(chan struct{})
	var once sync.Once
	stop = func() {
		once.Do(func() {
			close(done)
			sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			if srv.Shutdown(sctx) != nil {
				_ = srv.Close()
			}
		})
	}
	go func() {
		select {
		case <-ctx.Done():
			stop()
		case <-done:
		}
	}()
	return "http://" + l.Addr().String(), stop, nil
}

// Sizes are the knobs of the demo's chara.yaml.
type Sizes struct {
	Candidates int    // scrape.candidates per class
	PerClass   int    // images.per_class
	Width      int    // images.width
	Height     int    // images.height
	Epochs     int    // train.epochs
	Models     string // train.models, YAML flow list contents
}

// DefaultSizes finish scrape to train in a few minutes on 2 CPU cores with
// about 60 posts per class.
var DefaultSizes = Sizes{Candidates: 150, PerClass: 80, Width: 48, Height: 96, Epochs: 20, Models: "cnn, cnn2, effnet-b0"}

// Config returns the chara.yaml text for the site at baseURL: one danbooru
// source named "demo" and one class per character, queried by its tag.
func (s *Site) Config(baseURL string, sz Sizes) string {
	var b strings.Builder
	fmt.Fprintf(&b, `# chara demo: %d generated look-alike characters served by a local
# booru-compatible site at %s (127.0.0.1 only, made by chara itself).
# The site also serves planted near-duplicates, broken files and off-topic
# pictures; curation should remove the first two.
seed: %d

sources:
  %s:
    kind: danbooru
    url: %s
    parallelism: 4
    limit: 100

scrape:
  candidates: %d      # per class; the site has about %d posts per class
  min_width: 64
  min_height: 64
  ratings: [g, s]

curate:
  # The generated characters share one face, body and pose family, so
  # different pictures sit closer in pHash than real drawings do: a tighter
  # threshold than the default 12 keeps them from chaining into one group.
  phash_threshold: 8
  min_width: 64
  min_height: 64

images:
  per_class: %d
  width: %d
  height: %d
  fit: pad

split:
  train: 0.7
  val: 0.15
  test: 0.15

train:
  models: [%s]
  epochs: %d
  batch_size: 32
  patience: 12  # effnet-b0 from scratch (no ImageNet weights in the demo) needs a few epochs before its batch-norm statistics settle

classes:
`, len(s.chars), baseURL, s.seed, SourceName, baseURL, sz.Candidates, s.perClass,
		sz.PerClass, sz.Width, sz.Height, sz.Models, sz.Epochs)
	for _, c := range s.chars {
		fmt.Fprintf(&b, "  - name: %s\n    queries:\n      %s: %s\n", c.Name, SourceName, c.Tag)
	}
	return b.String()
}
