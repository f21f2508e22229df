package train

import (
	"context"
	"image"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sugarme/gotch"

	"github.com/chara-dev/chara/train/models"
	"github.com/chara-dev/chara/train/suspects"
	"github.com/chara-dev/chara/train/torchrt"
)

// A picture of one class filed under another ranks at the top of the
// suspects from out-of-fold cnn probabilities.
func TestOutOfFoldFindsSwappedLabels(t *testing.T) {
	ws := t.TempDir()
	rng := rand.New(rand.NewPCG(11, 1))
	// Planted: the first training image of class 0 shows class 1, the
	// second of class 2 shows class 0.
	swap := map[[2]int]int{{0, 0}: 1, {2, 1}: 0}
	makeImageSet(t, ws, "toy", toyNames[:3], 100, 75, [3]int{6, 1, 1}, func(c, si, k int) image.Image {
		if v, ok := swap[[2]int{c, k}]; ok && si == 0 {
			return toyImage(v, 100, 75, false, rng)
		}
		return toyImage(c, 100, 75, false, rng)
	})
	oof, err := OutOfFoldProbs(context.Background(), ws, 3, quick("cnn", "toy", "", 3, WithLR(3e-3), WithBatchSize(6))...)
	if err != nil {
		t.Fatal(err)
	}
	if len(oof.Rows) != 24 || len(oof.Probs) != 24 || len(oof.AUM) != 24 || len(oof.Fold) != 24 {
		t.Fatalf("%d rows, %d probs, %d margins, %d folds; want 24", len(oof.Rows), len(oof.Probs), len(oof.AUM), len(oof.Fold))
	}
	// The outlier score's feature spaces: cnn's 50 penultimate units of
	// every image, in each fold's model.
	if len(oof.FoldFeatures) != 3 || len(oof.FoldFeatures[2]) != 24 || len(oof.FoldFeatures[2][23]) != 50 || oof.Features != nil {
		t.Fatalf("%d fold feature spaces (%d rows); frozen features %d", len(oof.FoldFeatures), len(oof.FoldFeatures[0]), len(oof.Features))
	}
	items, err := suspects.Rank(oof.SuspectsInput(), suspects.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Rows are train first, class by class: class 0's first image is row
	// 0, class 2's second is row 13.
	want := map[int]int{0: 1, 13: 0}
	for _, it := range items[:4] {
		if s, ok := want[it.Index]; ok {
			if it.Other != s {
				t.Errorf("row %d: most likely other class %d, want %d", it.Index, it.Other, s)
			}
			delete(want, it.Index)
		}
	}
	if len(want) > 0 {
		var top []int
		for _, it := range items[:6] {
			top = append(top, it.Index)
		}
		t.Errorf("planted rows %v not in the top 4 (top 6: %v)", want, top)
	}
}

// With ImageNet-format weights, suspects use a linear head on the frozen
// effnet-b0 features, cached on disk like training's; a random backbone
// saved in torchvision's format stands in for the weights (plain colour
// images, which even its features separate).
func TestOutOfFoldFrozenFeatures(t *testing.T) {
	ws := t.TempDir()
	rng := rand.New(rand.NewPCG(12, 1))
	swap := map[[2]int]int{{0, 0}: 1, {2, 1}: 0}
	makeImageSet(t, ws, "toy", toyNames[:3], 40, 32, [3]int{10, 2, 2}, func(c, si, k int) image.Image {
		if v, ok := swap[[2]int{c, k}]; ok && si == 0 {
			return toyImage(v, 40, 32, false, rng)
		}
		return toyImage(c, 40, 32, false, rng)
	})
	weights := filepath.Join(t.TempDir(), "effnet_b0.pth")
	th := torchrt.NewThread(2)
	err := th.Do(context.Background(), func() error {
		torchrt.ManualSeed(3)
		m, err := models.New("effnet-b0", 1000, gotch.CPU, models.WithInputSize(40, 32))
		if err != nil {
			return err
		}
		return WriteStateDict(weights, m.VarStore())
	})
	th.Close()
	if err != nil {
		t.Fatal(err)
	}
	oof, err := OutOfFoldProbs(context.Background(), ws, 3, quick("", "toy", "", 1, WithWeights(weights))...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(oof.Method, "effnet-b0 frozen features") || len(oof.Features) != 42 || len(oof.Features[0]) != 1280 || len(oof.AUM) != 42 {
		t.Fatalf("method %q, %d feature rows of %d, %d margins", oof.Method, len(oof.Features), len(oof.Features[0]), len(oof.AUM))
	}
	cached, _ := filepath.Glob(filepath.Join(ws, "datasets", "toy", "cache", "features-*"))
	if len(cached) != 3 {
		t.Errorf("feature caches %v, want one per split", cached)
	}
	items, err := suspects.Rank(oof.SuspectsInput(), suspects.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]bool{0: true, 21: true} // rows as in TestOutOfFoldFindsSwappedLabels: class 2 starts at 20
	for _, it := range items[:4] {
		delete(want, it.Index)
	}
	if len(want) > 0 {
		var top []int
		for _, it := range items[:6] {
			top = append(top, it.Index)
		}
		t.Errorf("planted rows %v not in the top 4 (top 6: %v)", want, top)
	}
}
