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
	probs, err := OutOfFoldHead(feats, labels, 4, 5, 1, HeadOptions{Epochs: 150})
	if err != nil {
		t.Fatal(err)
	}
	items, err := Rank(Input{Labels: labels, Probs: probs, Features: feats}, Options{})
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
