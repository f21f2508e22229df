package synth

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/corona10/goimagehash"
)

func pixels(t *testing.T, img image.Image) []byte {
	t.Helper()
	return toRGBA(img).Pix
}

func TestCharactersAreDistinctAndTagged(t *testing.T) {
	chars := append(Characters(), Extra()...)
	if len(Characters()) != 5 {
		t.Fatalf("Characters() has %d characters, want 5", len(Characters()))
	}
	tagRE := regexp.MustCompile(`^[a-z0-9_]+$`)
	seen := map[string]bool{}
	looks := map[string]bool{}
	for _, c := range chars {
		if seen[c.Name] || seen[c.Tag] {
			t.Errorf("%s/%s repeated", c.Name, c.Tag)
		}
		seen[c.Name], seen[c.Tag] = true, true
		if !tagRE.MatchString(c.Tag) {
			t.Errorf("%s: tag %q is not slug-friendly", c.Name, c.Tag)
		}
		got, ok := CharacterByName(c.Tag)
		if !ok || got.Name != c.Name {
			t.Errorf("CharacterByName(%q) = %q, %v", c.Tag, got.Name, ok)
		}
		// No two characters share every distinguishing feature.
		k := c
		k.Name, k.Tag, k.Tags = "", "", nil
		key := fmt.Sprintf("%+v", k)
		if looks[key] {
			t.Errorf("%s looks exactly like another character", c.Name)
		}
		looks[key] = true
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	c := Characters()[2]
	a := pixels(t, Render(c, 7))
	b := pixels(t, Render(c, 7))
	if !bytes.Equal(a, b) {
		t.Fatal("same character and seed gave different pixels")
	}
	if bytes.Equal(a, pixels(t, Render(c, 8))) {
		t.Error("seeds 7 and 8 gave identical pixels")
	}
	if bytes.Equal(a, pixels(t, Render(Characters()[3], 7))) {
		t.Error("two characters gave identical pixels for one seed")
	}
	if bytes.Equal(a, pixels(t, Render(c, 7, Supersample(1)))) {
		t.Error("supersampling made no difference")
	}
}

func TestRenderSize(t *testing.T) {
	c := Characters()[0]
	for _, sz := range [][2]int{{DefaultWidth, DefaultHeight}, {150, 300}, {300, 150}, {48, 96}} {
		var img image.Image
		if sz == [2]int{DefaultWidth, DefaultHeight} {
			img = Render(c, 1)
		} else {
			img = Render(c, 1, Size(sz[0], sz[1]))
		}
		if b := img.Bounds(); b.Dx() != sz[0] || b.Dy() != sz[1] {
			t.Errorf("size %v: got %v", sz, b)
		}
	}
	if b := OffTopic(3, Size(120, 80)).Bounds(); b.Dx() != 120 || b.Dy() != 80 {
		t.Errorf("OffTopic size: got %v", b)
	}
}

// The scene's head position must match what is drawn: the hair sample point
// above the fringe has the character's hair colour (within lighting).
func TestHeadPointIsInTheHair(t *testing.T) {
	for _, c := range Characters() {
		for seed := int64(1); seed <= 10; seed++ {
			s := Describe(c, seed, Size(160, 240))
			img := s.Render()
			x, y := s.HeadPoint(0.3, -0.75)
			r, g, b, _ := img.At(int(x), int(y)).RGBA()
			want := c.Hair
			d := absDiff(int(r>>8), int(want.R)) + absDiff(int(g>>8), int(want.G)) + absDiff(int(b>>8), int(want.B))
			if d > 120 {
				t.Errorf("%s seed %d: pixel at head point (%.0f,%.0f) is %d,%d,%d, hair is %v", c.Name, seed, x, y, r>>8, g>>8, b>>8, want)
			}
		}
	}
}

func absDiff(a, b int) int {
	if a > b {
		return a - b
	}
	return b - a
}

// The characters must be learnable but not trivial: a nearest-centroid
// classifier on hair colour histograms is well above chance (0.2), one on
// raw pixel thumbnails is clearly worse than perfect, and pictures of one
// character differ.
func TestCharactersAreLearnableNotTrivial(t *testing.T) {
	n := 24
	if testing.Short() {
		n = 12
	}
	var trH, teH, trT, teT [][][]float64
	for _, c := range Characters() {
		var a, b, ta, tb [][]float64
		for seed := int64(1); seed <= int64(2*n); seed++ {
			s := Describe(c, seed, Size(120, 180))
			img := s.Render()
			h, th := hairHist(s, img), thumb(img)
			if seed <= int64(n) {
				a, ta = append(a, h), append(ta, th)
			} else {
				b, tb = append(b, h), append(tb, th)
			}
		}
		// Variance within the class.
		if l1(ta[0], ta[1]) == 0 || l1(a[0], a[1]) == 0 && l1(ta[0], ta[2]) == 0 {
			t.Errorf("%s: two seeds gave the same picture", c.Name)
		}
		trH, teH, trT, teT = append(trH, a), append(teH, b), append(trT, ta), append(teT, tb)
	}
	hair, raw := nearestCentroid(trH, teH), nearestCentroid(trT, teT)
	t.Logf("nearest centroid accuracy: hair histogram %.2f, raw thumbnail %.2f (chance 0.20)", hair, raw)
	if hair < 0.6 {
		t.Errorf("hair histograms separate the characters only %.2f of the time, want >= 0.6", hair)
	}
	if raw > 0.9 {
		t.Errorf("raw thumbnails separate the characters %.2f of the time: too easy", raw)
	}
}

// Variation(0) keeps the pose and colours: only the backdrop changes.
func TestVariationZero(t *testing.T) {
	c := Characters()[4]
	a, b := Describe(c, 1, Variation(0)), Describe(c, 2, Variation(0))
	if a.HeadX != b.HeadX || a.HeadY != b.HeadY || a.HeadRadius != b.HeadRadius || a.Tilt != 0 || a.Mirrored != b.Mirrored {
		t.Errorf("pose varies with Variation(0): %+v vs %+v", a, b)
	}
	a2, b2 := Describe(c, 1), Describe(c, 2)
	if a2.HeadX == b2.HeadX && a2.HeadRadius == b2.HeadRadius {
		t.Error("pose does not vary by default")
	}
}

func TestTransforms(t *testing.T) {
	img := Render(Characters()[1], 3)
	if b := Resize(img, 0.5).Bounds(); b.Dx() != 100 || b.Dy() != 150 {
		t.Errorf("Resize 0.5: %v", b)
	}
	if b := Resize(img, 1.5).Bounds(); b.Dx() != 300 || b.Dy() != 450 {
		t.Errorf("Resize 1.5: %v", b)
	}
	if b := Crop(img, 0.9).Bounds(); b.Dx() != 180 || b.Dy() != 270 {
		t.Errorf("Crop 0.9: %v", b)
	}
	// Crop keeps the centre: its middle pixel is the original's.
	cr := Crop(img, 0.5)
	if cr.At(50, 75) != toRGBA(img).At(100, 150) {
		t.Error("Crop 0.5 is not centred")
	}
	f := FlipH(img)
	if f.At(0, 10) != img.At(199, 10) || f.At(37, 200) != img.At(162, 200) {
		t.Error("FlipH does not mirror")
	}
	if !bytes.Equal(pixels(t, FlipH(f)), pixels(t, img)) {
		t.Error("FlipH twice is not the identity")
	}
	same := Recolour(img, 0, 1)
	for i, p := range pixels(t, same) {
		if absDiff(int(p), int(pixels(t, img)[i])) > 1 {
			t.Fatalf("Recolour(0, 1) changed byte %d: %d -> %d", i, pixels(t, img)[i], p)
		}
	}
	dark := Recolour(img, 10, 0.8)
	if meanLuma(dark) >= meanLuma(img)*0.9 {
		t.Errorf("Recolour brightness 0.8: luma %.1f -> %.1f", meanLuma(img), meanLuma(dark))
	}
	for name, enc := range map[string][]byte{"jpeg": JPEG(img, 80), "png": PNG(img)} {
		got, format, err := image.Decode(bytes.NewReader(enc))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Bounds().Size() != img.Bounds().Size() || format != name {
			t.Errorf("%s round trip: %v %s", name, got.Bounds(), format)
		}
		if name == "png" && !bytes.Equal(pixels(t, got), pixels(t, img)) {
			t.Error("PNG is not lossless")
		}
	}
	if len(JPEG(img, 30)) >= len(JPEG(img, 95)) {
		t.Error("JPEG quality does not change the size")
	}
}

func meanLuma(img image.Image) float64 {
	p := toRGBA(img).Pix
	s := 0.0
	for i := 0; i < len(p); i += 4 {
		s += 0.299*float64(p[i]) + 0.587*float64(p[i+1]) + 0.114*float64(p[i+2])
	}
	return s / float64(len(p)/4)
}

func TestBrokenFilesDoNotDecode(t *testing.T) {
	good := JPEG(Render(Characters()[0], 1), 90)
	cases := map[string][]byte{
		"truncated": Truncated(good),
		"html":      HTMLPage(),
		"zero":      ZeroBytes(),
		"pngbomb":   PNGBomb(),
		"hugegif":   HugeGIF(),
	}
	cases["pngbomb-salted"], cases["hugegif-salted"], cases["html-salted"] = pngBomb("x1"), hugeGIF("x1"), htmlPage("x1")
	for name, b := range cases {
		if _, _, err := image.Decode(bytes.NewReader(b)); err == nil {
			t.Errorf("%s: image.Decode succeeded", name)
		}
	}
	for name, want := range map[string]int{"pngbomb": 100000, "hugegif": 65535, "pngbomb-salted": 100000, "hugegif-salted": 65535} {
		cfg, _, err := image.DecodeConfig(bytes.NewReader(cases[name]))
		if err != nil {
			t.Errorf("%s: DecodeConfig: %v", name, err)
			continue
		}
		if cfg.Width != want || cfg.Height != want {
			t.Errorf("%s: declared %dx%d, want %d", name, cfg.Width, cfg.Height, want)
		}
	}
	if cfg, format, err := image.DecodeConfig(bytes.NewReader(cases["truncated"])); err != nil || format != "jpeg" || cfg.Width != DefaultWidth {
		t.Errorf("truncated JPEG header should still parse: %v %s %v", cfg, format, err)
	}
}

func TestOffTopicIsDeterministicAndVaried(t *testing.T) {
	if !bytes.Equal(pixels(t, OffTopic(5)), pixels(t, OffTopic(5))) {
		t.Fatal("OffTopic is not deterministic")
	}
	distinct := map[string]bool{}
	for s := int64(0); s < 6; s++ {
		sum := md5.Sum(pixels(t, OffTopic(s)))
		distinct[hex.EncodeToString(sum[:])] = true
	}
	if len(distinct) != 6 {
		t.Errorf("6 seeds gave %d distinct off-topic pictures", len(distinct))
	}
}

func TestCorpusGroundTruth(t *testing.T) {
	chars := Characters()
	perClass := 20
	opts := []CorpusOption{DuplicateFraction(0.2), BrokenFraction(0.25), OffTopicFraction(0.1), ImageSize(96, 144)}
	c, err := NewCorpus(context.Background(), chars, perClass, 9, opts...)
	if err != nil {
		t.Fatal(err)
	}
	plan := PlanFor(perClass, opts...)
	if plan != (Plan{Originals: 9, Duplicates: 4, Broken: 5, OffTopic: 2}) {
		t.Fatalf("plan %+v", plan)
	}
	if len(c.Items) != perClass*len(chars) {
		t.Fatalf("%d items, want %d", len(c.Items), perClass*len(chars))
	}
	counts := c.Counts()
	for _, ch := range chars {
		want := map[Kind]int{KindOriginal: plan.Originals, KindDuplicate: plan.Duplicates, KindBroken: plan.Broken, KindOffTopic: plan.OffTopic}
		for k, n := range want {
			if counts[ch.Name][k] != n {
				t.Errorf("%s: %d %s, want %d", ch.Name, counts[ch.Name][k], k, n)
			}
		}
		if len(c.ByClass(ch.Name)) != perClass {
			t.Errorf("%s: ByClass gave %d", ch.Name, len(c.ByClass(ch.Name)))
		}
	}
	brokenKindsSeen := map[string]bool{}
	md5s := map[string]int{}
	for i, it := range c.Items {
		if it.ID != i+1 {
			t.Fatalf("item %d has ID %d", i, it.ID)
		}
		if got, ok := c.ByID(it.ID); !ok || got.MD5 != it.MD5 {
			t.Errorf("ByID(%d)", it.ID)
		}
		if sum := md5.Sum(it.Bytes); hex.EncodeToString(sum[:]) != it.MD5 {
			t.Errorf("item %d: MD5 does not match its bytes", it.ID)
		}
		if prev, ok := md5s[it.MD5]; ok && it.Detail != BrokenEmpty {
			t.Errorf("items %d and %d have the same bytes", prev, it.ID)
		}
		md5s[it.MD5] = it.ID
		ch, _ := CharacterByName(it.Class)
		if len(it.Tags) == 0 || it.Tags[0] != ch.Tag {
			t.Errorf("item %d: tags %v do not start with %s", it.ID, it.Tags, ch.Tag)
		}
		switch it.Rating {
		case "g", "s", "q", "e":
		default:
			t.Errorf("item %d: rating %q", it.ID, it.Rating)
		}
		img, format, err := image.Decode(bytes.NewReader(it.Bytes))
		if it.Kind == KindBroken {
			brokenKindsSeen[it.Detail] = true
			if err == nil {
				t.Errorf("item %d (%s) decodes", it.ID, it.Detail)
			}
			continue
		}
		if err != nil {
			t.Errorf("item %d (%s): %v", it.ID, it.Kind, err)
			continue
		}
		if want := map[string]string{"jpeg": "jpg", "png": "png"}[format]; want != it.Ext {
			t.Errorf("item %d: ext %s for %s data", it.ID, it.Ext, format)
		}
		if b := img.Bounds(); b.Dx() != it.Width || b.Dy() != it.Height {
			t.Errorf("item %d: recorded %dx%d, decoded %v", it.ID, it.Width, it.Height, b)
		}
		if it.Kind != KindDuplicate {
			if it.DuplicateOf != 0 {
				t.Errorf("item %d (%s) has DuplicateOf", it.ID, it.Kind)
			}
			continue
		}
		orig, ok := c.ByID(it.DuplicateOf)
		if !ok || orig.Kind != KindOriginal || orig.Class != it.Class || orig.ID >= it.ID {
			t.Errorf("duplicate %d of %d: original %+v", it.ID, it.DuplicateOf, orig.Kind)
		}
	}
	if len(brokenKindsSeen) != len(brokenKinds) {
		t.Errorf("broken kinds %v, want all of %v", brokenKindsSeen, brokenKinds)
	}

	again, err := NewCorpus(context.Background(), chars, perClass, 9, opts...)
	if err != nil {
		t.Fatal(err)
	}
	for i := range c.Items {
		if c.Items[i].MD5 != again.Items[i].MD5 || c.Items[i].Kind != again.Items[i].Kind {
			t.Fatalf("corpus is not deterministic at item %d", i+1)
		}
	}
	other, err := NewCorpus(context.Background(), chars, perClass, 10, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if other.Items[0].MD5 == c.Items[0].MD5 && other.Items[1].MD5 == c.Items[1].MD5 {
		t.Error("another seed gave the same corpus")
	}
}

// Planted duplicates are near-duplicates by perceptual hash (what curation
// uses); distinct originals almost never are.
func TestCorpusDuplicatesArePerceptuallyClose(t *testing.T) {
	c, err := NewCorpus(context.Background(), Characters(), 20, 3, DuplicateFraction(0.25), BrokenFraction(0), OffTopicFraction(0))
	if err != nil {
		t.Fatal(err)
	}
	hashes := map[int]*goimagehash.ImageHash{}
	for _, it := range c.Items {
		img, _, err := image.Decode(bytes.NewReader(it.Bytes))
		if err != nil {
			t.Fatal(err)
		}
		if hashes[it.ID], err = goimagehash.PerceptionHash(img); err != nil {
			t.Fatal(err)
		}
	}
	const threshold = 10 // curate's default phash_threshold
	for _, it := range c.Items {
		if it.Kind != KindDuplicate {
			continue
		}
		d, _ := hashes[it.ID].Distance(hashes[it.DuplicateOf])
		if d > threshold {
			t.Errorf("duplicate %d (%s) is at distance %d from original %d", it.ID, it.Detail, d, it.DuplicateOf)
		}
	}
	close, pairs := 0, 0
	for i, a := range c.Items {
		for _, b := range c.Items[i+1:] {
			if a.Kind != KindOriginal || b.Kind != KindOriginal {
				continue
			}
			pairs++
			if d, _ := hashes[a.ID].Distance(hashes[b.ID]); d <= threshold {
				close++
			}
		}
	}
	t.Logf("%d of %d pairs of distinct originals within distance %d", close, pairs, threshold)
	if float64(close) > 0.005*float64(pairs) {
		t.Errorf("%d of %d distinct originals look like near-duplicates", close, pairs)
	}
}

func TestCorpusErrors(t *testing.T) {
	ctx := context.Background()
	for name, f := range map[string]func() (*Corpus, error){
		"no characters": func() (*Corpus, error) { return NewCorpus(ctx, nil, 5, 1) },
		"zero":          func() (*Corpus, error) { return NewCorpus(ctx, Characters(), 0, 1) },
		"no originals": func() (*Corpus, error) {
			return NewCorpus(ctx, Characters(), 4, 1, DuplicateFraction(0.5), BrokenFraction(0.5))
		},
		"fraction": func() (*Corpus, error) { return NewCorpus(ctx, Characters(), 4, 1, DuplicateFraction(-0.1)) },
		"repeated": func() (*Corpus, error) { return NewCorpus(ctx, append(Characters(), Characters()[0]), 4, 1) },
		"tiny":     func() (*Corpus, error) { return NewCorpus(ctx, Characters(), 4, 1, ImageSize(8, 8)) },
	} {
		if _, err := f(); !errors.Is(err, ErrCorpus) {
			t.Errorf("%s: err %v, want ErrCorpus", name, err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := NewCorpus(cctx, Characters(), 10, 1); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestWriteSamples writes a contact sheet to $SYNTH_SAMPLES_DIR for a person
// to look at: go test ./internal/synth -run TestWriteSamples with the
// variable set.
func TestWriteSamples(t *testing.T) {
	dir := os.Getenv("SYNTH_SAMPLES_DIR")
	if dir == "" {
		t.Skip("SYNTH_SAMPLES_DIR not set")
	}
	sheet := ContactSheet(append(Characters(), Extra()...), 8, true)
	path := filepath.Join(dir, "synth-sheet.png")
	if err := os.WriteFile(path, PNG(sheet), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

// Render is safe for concurrent use (recycled buffers included): parallel
// renders equal serial ones.
func TestRenderConcurrent(t *testing.T) {
	chars := Characters()
	want := make([][]byte, 10)
	for i := range want {
		want[i] = pixels(t, Render(chars[i%5], int64(i), Size(64+i, 96)))
	}
	got := make([][]byte, len(want))
	done := make(chan int)
	for i := range want {
		go func() {
			got[i] = toRGBA(Render(chars[i%5], int64(i), Size(64+i, 96))).Pix
			done <- i
		}()
	}
	for range want {
		<-done
	}
	for i := range want {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("render %d differs when run concurrently", i)
		}
	}
}
