package train

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/chara-dev/chara/manifests"
)

// A run stores its open-set threshold, calibrated on the validation split
// for the target false-rejection rate, in run.json.
func TestRunCalibratesOpenSet(t *testing.T) {
	ws := t.TempDir()
	makeDataset(t, ws, "toy", 2, 100, 75, [3]int{4, 10, 2}, 21)
	card, err := Run(context.Background(), ws, quick("cnn", "toy", "os", 1, WithPatience(0), WithOpenSetFRR(0.1))...)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := manifests.ReadRunCard(filepath.Join(ws, "runs", "os", "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*manifests.RunCard{card, stored} {
		o := c.OpenSet
		if o == nil {
			t.Fatal("no open_set in the run card")
		}
		// 20 validation images at 10%: exactly 2 below the threshold
		// unless top probabilities tie.
		if o.Score != "max_prob" || o.ValImages != 20 || o.TargetFRR != 0.1 || o.ValFRR > 0.1 || !(o.Threshold > 0.5 && o.Threshold <= 1) {
			t.Errorf("open set %+v", o)
		}
	}
}

func TestCalibrateOpenSetOnKnownProbs(t *testing.T) {
	var probs [][]float64
	for i := 0; i < 100; i++ {
		top := 0.5 + float64(i)/200 // 0.5 .. 0.995
		probs = append(probs, []float64{1 - top, top})
	}
	o, err := calibrateOpenSet(probs, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	if o.Threshold != 0.525 || o.ValFRR != 0.05 || o.ValImages != 100 {
		t.Errorf("%+v, want threshold 0.525 rejecting 5%%", o)
	}
}
