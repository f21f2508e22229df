package train

import (
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/openset"
)

// openSetScore is the score the open-set threshold is calibrated on: the
// top probability (chosen by measurement, BENCHMARKS.md "Open set").
const openSetScore = openset.MaxProb

// calibrateOpenSet returns the run's open-set threshold from the
// validation split's probabilities (nil when there are none).
func calibrateOpenSet(probs [][]float64, frr float64) (*manifests.OpenSet, error) {
	if len(probs) == 0 {
		return nil, nil
	}
	scores := make([]float64, len(probs))
	for i, p := range probs {
		s, err := openset.Score(openSetScore, p)
		if err != nil {
			return nil, err
		}
		scores[i] = s
	}
	th, got, err := openset.Calibrate(scores, frr)
	if err != nil {
		return nil, err
	}
	return &manifests.OpenSet{Score: openSetScore, Threshold: th, TargetFRR: frr, ValFRR: got, ValImages: len(scores)}, nil
}
