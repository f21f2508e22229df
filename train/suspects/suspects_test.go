package suspects

import (
	"math"
	"math/rand/v2"
	"testing"
)

// clusters makes n images per class around well separated centres in dim
// dimensions, swaps the labels of swapped of them and adds outliers far
// from every centre (labelled class 0). It returns the set and which rows
// are planted problems.
func clusters(classes, n, dim, swapped, outliers int, seed uint64) ([][]float32, []int, map[int]bool) {
	rng := rand.New(rand.NewPCG(seed, 7))
	centres := make([][]float64, classes)
	for c := range centres {
		centres[c] = make([]float64, dim)
		for d := range centres[c] {
			centres[c][d] = rng.NormFloat64() * 3
		}
	}
	var feats [][]float32
	var labels []int
	planted := map[int]bool{}
	for c := 0; c < classes; c++ {
		for k := 0; k < n; k++ {
			f := make([]float32, dim)
			for d := range f {
				f[d] = float32(centres[c][d] + rng.NormFloat64())
			}
			feats = append(feats, f)
			labels = append(labels, c)
		}
	}
	for s := 0; s < swapped; s++ {
		i := rng.IntN(len(labels))
		for planted[i] {
			i = rng.IntN(len(labels))
		}
		planted[i] = true
		labels[i] = (labels[i] + 1 + rng.IntN(classes-1)) % classes
	}
	for o := 0; o < outliers; o++ {
		f := make([]float32, dim)
		for d := range f {
			f[d] = float32(rng.NormFloat64() * 12)
		}
		planted[len(labels)] = true
		feats = append(feats, f)
		labels = append(labels, rng.IntN(classes))
	}
	return feats, labels, planted
}

func TestSwappedLabelsAndOutliersRankFirst(t *testing.T) {
	feats, labels, planted := clusters(4, 40, 16, 8, 4, 1)
	probs, aum, err := OutOfFoldHead(feats, labels, 4, 5, 1, HeadOptions{Epochs: 150})
	if err != nil {
		t.Fatal(err)
	}
	items, err := Rank(Input{Labels: labels, Probs: probs, AUM: aum, Features: feats}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != len(labels) {
		t.Fatalf("%d items for %d images", len(items), len(labels))
	}
	top := len(planted) + len(planted)/2
	found := 0
	for _, it := range items[:top] {
		if planted[it.Index] {
			found++
		}
	}
	if found < len(planted)*9/10 {
		t.Errorf("%d of %d planted problems in the top %d of %d", found, len(planted), top, len(items))
	}
	// A swapped image's suggested class is the class it came from.
	for _, it := range items {
		if planted[it.Index] && it.Index < 160 && it.Issue && it.Suggest != it.Index/40 {
			t.Errorf("image %d (from class %d, labelled %d): suggested %d", it.Index, it.Index/40, it.Label, it.Suggest)
		}
		if it.Rank < 1 || items[it.Rank-1].Index != it.Index {
			t.Fatalf("rank %d of image %d is not its position", it.Rank, it.Index)
		}
	}
}

func TestConfidentJoint(t *testing.T) {
	labels := []int{0, 0, 0, 1, 1, 1}
	probs := [][]float64{{0.9, 0.1}, {0.8, 0.2}, {0.2, 0.8}, {0.1, 0.9}, {0.3, 0.7}, {0.4, 0.6}}
	th := Thresholds(labels, probs, 2)
	if math.Abs(th[0]-(0.9+0.8+0.2)/3) > 1e-12 || math.Abs(th[1]-(0.9+0.7+0.6)/3) > 1e-12 {
		t.Fatalf("thresholds %v", th)
	}
	items, err := Rank(Input{Labels: labels, Probs: probs}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Image 2 (labelled 0, p(1)=0.8 >= t1=0.733) is the only issue.
	if items[0].Index != 2 || !items[0].Issue || items[0].Suggest != 1 {
		t.Fatalf("first %+v", items[0])
	}
	for _, it := range items[1:] {
		if it.Issue {
			t.Errorf("image %d flagged: %+v", it.Index, it)
		}
	}
	// Then by margin: image 5 (0.6-0.4) before image 4 (0.7-0.3).
	if items[1].Index != 5 || items[2].Index != 4 {
		t.Errorf("order %d %d, want 5 4", items[1].Index, items[2].Index)
	}
}

func TestRankRejectsBadInput(t *testing.T) {
	if _, err := Rank(Input{Labels: []int{0, 2}, Probs: [][]float64{{1, 0}, {0, 1}}}, Options{}); err == nil {
		t.Error("label 2 of 2 classes accepted")
	}
	if _, err := Rank(Input{Labels: []int{0}, Probs: [][]float64{{1, 0}, {0, 1}}}, Options{}); err == nil {
		t.Error("row count mismatch accepted")
	}
}

func TestFoldsStratified(t *testing.T) {
	labels := make([]int, 100)
	for i := range labels {
		labels[i] = i % 4
	}
	f := Folds(labels, 5, 3)
	count := map[[2]int]int{}
	for i, k := range f {
		count[[2]int{labels[i], k}]++
	}
	for c := 0; c < 4; c++ {
		for k := 0; k < 5; k++ {
			if count[[2]int{c, k}] != 5 {
				t.Errorf("class %d fold %d: %d images, want 5", c, k, count[[2]int{c, k}])
			}
		}
	}
}

// Off-topic pictures resemble each other more than any class, and are
// filed under every class: a cluster of its own with mixed labels. They
// and the swapped labels must fill the top of the ranking.
func TestOffTopicClusterAndSwapsRankFirst(t *testing.T) {
	feats, labels, planted := clusters(4, 40, 16, 8, 0, 2)
	rng := rand.New(rand.NewPCG(3, 3))
	centre := make([]float64, 16)
	for d := range centre {
		centre[d] = rng.NormFloat64() * 3
	}
	for o := 0; o < 8; o++ {
		f := make([]float32, 16)
		for d := range f {
			f[d] = float32(centre[d] + 1.5*rng.NormFloat64())
		}
		planted[len(labels)] = true
		feats = append(feats, f)
		labels = append(labels, o%4)
	}
	probs, aum, err := OutOfFoldHead(feats, labels, 4, 5, 1, HeadOptions{Epochs: 150})
	if err != nil {
		t.Fatal(err)
	}
	items, err := Rank(Input{Labels: labels, Probs: probs, AUM: aum, Features: feats}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	top := len(planted) + len(planted)/4
	var off, swapped int
	for _, it := range items[:top] {
		switch {
		case it.Index >= 160:
			off++
		case planted[it.Index]:
			swapped++
		}
	}
	if off < 7 || swapped < 7 {
		t.Errorf("top %d of %d: %d of 8 off-topic, %d of 8 swapped", top, len(items), off, swapped)
	}
	// The planted problems have the lowest areas under the margin.
	var clean, bad float64
	for i, a := range aum {
		if planted[i] {
			bad += a / 16
		} else {
			clean += a / float64(len(aum)-16)
		}
	}
	if bad >= clean {
		t.Errorf("mean AUM %.3f of planted images, %.3f of clean ones", bad, clean)
	}
}

// A problem that only one view sees ranks above every image that no view
// finds suspect: the views are fused by their highest rank, not summed.
func TestRankFusesViewsByHighestRank(t *testing.T) {
	const n = 40
	labels := make([]int, n)
	probs := make([][]float64, n)
	aum := make([]float64, n)
	feats := make([][]float32, n)
	rng := rand.New(rand.NewPCG(4, 4))
	for i := range labels {
		labels[i] = i % 2
		p := 0.85 + 0.1*rng.Float64()
		probs[i] = []float64{p, 1 - p}
		if labels[i] == 1 {
			probs[i] = []float64{1 - p, p}
		}
		aum[i] = 2 + rng.Float64()
		feats[i] = []float32{float32(labels[i]*10) + 0.3*float32(rng.NormFloat64()), 0.3 * float32(rng.NormFloat64())}
	}
	probs[4] = []float64{0.3, 0.7} // labelled 0, the model says 1
	aum[7] = -1                    // never learnt
	feats[10] = []float32{0, 8}    // far from class 0's images
	items, err := Rank(Input{Labels: labels, Probs: probs, AUM: aum, Features: feats}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]bool{}
	for _, it := range items[:3] {
		got[it.Index] = true
		if it.Score != 1 {
			t.Errorf("image %d: score %.3f, want 1 (top of one view)", it.Index, it.Score)
		}
	}
	if !got[4] || !got[7] || !got[10] {
		t.Errorf("top 3 %v, want images 4, 7 and 10", items[:3])
	}
	if items[3].Score >= 1 {
		t.Errorf("4th image scores %.3f", items[3].Score)
	}
}

func TestPercentiles(t *testing.T) {
	p := Percentiles([]float64{3, 1, 2, 2})
	want := []float64{1, 0.25, 0.625, 0.625}
	for i := range want {
		if math.Abs(p[i]-want[i]) > 1e-12 {
			t.Fatalf("percentiles %v, want %v", p, want)
		}
	}
}

// In each fold's feature space, a held-out image is compared with the
// images that model trained on: one far from its class scores highest,
// one that sits on another class has rel above 1.
func TestFoldOutlierScores(t *testing.T) {
	const n = 60
	labels := make([]int, n)
	fold := make([]int, n)
	rng := rand.New(rand.NewPCG(5, 5))
	space := func() [][]float32 {
		s := make([][]float32, n)
		for i := range s {
			c := float32(labels[i])
			s[i] = []float32{1 + 0.05*float32(rng.NormFloat64()), c + 0.05*float32(rng.NormFloat64()), 1 - c}
		}
		return s
	}
	for i := range labels {
		labels[i] = i % 2
		fold[i] = i % 3
	}
	spaces := [][][]float32{space(), space(), space()}
	// Image 0 (class 0, fold 0): off towards nothing in fold 0's space;
	// image 2 (class 0, fold 2): on class 1 in fold 2's space.
	spaces[0][0] = []float32{-1, 0.3, -1}
	spaces[2][2] = []float32{1, 1, 0}
	// In the spaces of models that trained on them they look typical:
	// only the held-out view counts.
	own, rel, err := FoldOutlierScores(labels, fold, spaces, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range own {
		if i != 0 && own[i] >= own[0] {
			t.Errorf("image %d: own %.2f >= %.2f of the far image", i, own[i], own[0])
		}
		if i != 0 && i != 2 && rel[i] >= 1 {
			t.Errorf("image %d: rel %.2f", i, rel[i])
		}
	}
	if rel[2] <= 1 {
		t.Errorf("image on the other class: rel %.2f, want > 1", rel[2])
	}
	if _, _, err := FoldOutlierScores(labels, fold[:3], spaces, 3); err == nil {
		t.Error("fold count mismatch accepted")
	}
}
