package predict

import (
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/openset"
)

// NoneOfThese is the answer for an image whose score is below the run's
// open-set threshold.
const NoneOfThese = "none of these characters"

// OpenSet is the run's open-set threshold in use (nil when the run has
// none or WithOpenSet(false) turned it off).
func (p *Predictor) OpenSet() *manifests.OpenSet { return p.openSet }

// None reports whether predictions (Predict's, most probable first) are
// answered "none of these characters": the run's score of the image is
// below its threshold. The score kinds need the whole distribution except
// max_prob, which the first prediction holds; with fewer predictions than
// classes, the missing mass is spread evenly over the missing classes.
func (p *Predictor) None(preds []Prediction) bool {
	if p.openSet == nil || len(preds) == 0 {
		return false
	}
	var s float64
	if p.openSet.Score == openset.MaxProb || p.openSet.Score == "" {
		s = preds[0].Prob
	} else {
		probs := make([]float64, 0, len(p.card.Classes))
		rest := 1.0
		for _, pr := range preds {
			probs = append(probs, pr.Prob)
			rest -= pr.Prob
		}
		if miss := len(p.card.Classes) - len(preds); miss > 0 && rest > 0 {
			for i := 0; i < miss; i++ {
				probs = append(probs, rest/float64(miss))
			}
		}
		var err error
		if s, err = openset.Score(p.openSet.Score, probs); err != nil {
			return false
		}
	}
	return s < p.openSet.Threshold
}
