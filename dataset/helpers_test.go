package dataset

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/chara-dev/chara/manifests"
)

// ws is a test workspace with raw images and curation decisions.
type ws struct {
	t    *testing.T
	dir  string
	rng  *rand.Rand
	decs map[string][]manifests.Decision
	n    int // images made so far (makes every image distinct)
}

func newWS(t *testing.T) *ws {
	t.Helper()
	return &ws{t: t, dir: t.TempDir(), rng: rand.New(rand.NewSource(1)), decs: map[string][]manifests.Decision{}}
}

// tinyPNG makes a distinct 40x30 image.
func (w *ws) tinyPNG() []byte {
	w.n++
	img := image.NewNRGBA(image.Rect(0, 0, 40, 30))
	c := color.NRGBA{uint8(w.n * 37), uint8(w.n * 91 >> 3), uint8(w.n), 255}
	for y := 0; y < 30; y++ {
		for x := 0; x < 40; x++ {
			img.Set(x, y, c)
		}
	}
	img.Set(w.n%40, (w.n/40)%30, color.NRGBA{255, 255, 255, 255})
	img.Set((w.n/1200)%40, 0, color.NRGBA{0, 0, 0, 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		w.t.Fatal(err)
	}
	return buf.Bytes()
}

// add writes k kept images of class and returns their sha256s. group, if
// not empty, puts all k into one curation group; phash, if not zero, is
// their pHash (otherwise a random one far from everything).
func (w *ws) add(class string, k int, group string, phash uint64) []string {
	w.t.Helper()
	slug, err := manifests.Slug(class)
	if err != nil {
		w.t.Fatal(err)
	}
	var shas []string
	for i := 0; i < k; i++ {
		b := w.tinyPNG()
		s := sha256.Sum256(b)
		sha := hex.EncodeToString(s[:])
		rel := "raw/" + slug + "/" + sha + ".png"
		p := filepath.Join(w.dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			w.t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			w.t.Fatal(err)
		}
		ph := phash
		if ph == 0 {
			ph = w.rng.Uint64()
		}
		w.decs[class] = append(w.decs[class], manifests.Decision{
			SHA256: sha, File: rel, Class: class, Decision: manifests.Keep, Group: group,
			PHash: fmt.Sprintf("%016x", ph), Width: 40, Height: 30, Source: "test", PostID: fmt.Sprint(w.n),
		})
		shas = append(shas, sha)
	}
	w.flush(class)
	return shas
}

// addRejected adds a decision that is not keep (must never be used).
func (w *ws) addRejected(class string) {
	w.t.Helper()
	w.add(class, 1, "", 0)
	d := &w.decs[class][len(w.decs[class])-1]
	d.Decision = manifests.Duplicate
	w.flush(class)
}

func (w *ws) flush(class string) {
	w.t.Helper()
	slug, _ := manifests.Slug(class)
	if err := manifests.WriteDecisions(manifests.DecisionsPath(w.dir, slug), w.decs[class]); err != nil {
		w.t.Fatal(err)
	}
}

func (w *ws) build(name string, classes []string, opts ...Option) *Result {
	w.t.Helper()
	// Small output images keep the tests fast; the size is not what they test.
	res, err := Build(context.Background(), w.dir, name, classes, append([]Option{WithWorkers(2), WithSize(60, 30)}, opts...)...)
	if err != nil {
		w.t.Fatalf("build: %v", err)
	}
	return res
}

// rowsOf reads the dataset's rows keyed by sha256.
func rowsOf(t *testing.T, dir string) map[string]manifests.SplitRow {
	t.Helper()
	ds, err := manifests.ReadDataset(dir)
	if err != nil {
		t.Fatalf("ReadDataset: %v", err)
	}
	m := map[string]manifests.SplitRow{}
	for _, s := range manifests.Splits {
		for _, r := range ds.Rows[s] {
			m[r.SHA256] = r
		}
	}
	return m
}

func readFiles(t *testing.T, dir string, names ...string) map[string][]byte {
	t.Helper()
	m := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		m[n] = b
	}
	return m
}

func mustVerify(t *testing.T, dir string) {
	t.Helper()
	probs, err := Verify(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range probs {
		t.Errorf("verify: %s", p)
	}
}
