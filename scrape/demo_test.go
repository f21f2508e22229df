package scrape

import (
	"sort"
	"strings"
	"testing"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/internal/demosite"
	"github.com/chara-dev/chara/internal/synth"
	"github.com/chara-dev/chara/manifests"
)

// TestDemoScrapeIsReproducible scrapes the demo site (planted duplicates,
// broken files, off-topic pictures) twice with different parallelism:
// the files kept must be the same. Before the ordered slots, two fresh
// `make demo` runs kept different files in 2 or 3 classes of 5 (issue 12).
func TestDemoScrapeIsReproducible(t *testing.T) {
	site := demosite.New(7, 40, demosite.Characters(synth.Characters()[:2]...))
	url, stop, err := site.Start(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	cfg, err := config.Parse("chara.yaml", []byte(site.Config(url, demosite.Sizes{Candidates: 25, PerClass: 10, Width: 48, Height: 96, Epochs: 1, Models: "cnn"})))
	if err != nil {
		t.Fatal(err)
	}
	var first map[string]string
	for _, par := range []int{4, 1, 8} {
		opts := append(ConfigOptions(cfg, func(string) string { return "" }), WithDelay(0), WithRetry(fastRetry()),
			func(o *options) {
				for i := range o.sources {
					o.sources[i].Parallelism = par
				}
			})
		ws := t.TempDir()
		sum := runScrape(t, ws, opts...)
		got := map[string]string{}
		for _, c := range sum.Classes {
			recs, err := manifests.ReadRawIndex(manifests.RawIndexPath(ws, c.Slug))
			if err != nil {
				t.Fatal(err)
			}
			var shas []string
			for _, r := range recs {
				shas = append(shas, r.SHA256)
			}
			sort.Strings(shas)
			got[c.Slug] = strings.Join(shas, " ")
			if len(recs) != 25 {
				t.Errorf("parallelism %d, %s: %d files, want 25", par, c.Slug, len(recs))
			}
		}
		if first == nil {
			first = got
			continue
		}
		for slug, s := range got {
			if s != first[slug] {
				t.Errorf("parallelism %d, %s: other files than at parallelism 4", par, slug)
			}
		}
	}
}
