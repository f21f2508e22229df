package serve

import (
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/predict"
)

// The API answers none (with the classes still ranked) when the top
// probability is below the run's open-set threshold, and not otherwise.
func TestPredictAnswersNoneBelowThreshold(t *testing.T) {
	f := newFixture(t)
	card, err := manifests.ReadRunCard(filepath.Join(f.runDir, predict.RunFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		threshold float64
		none      bool
	}{{1.01, true}, {0, false}} {
		card.OpenSet = &manifests.OpenSet{Score: "max_prob", Threshold: c.threshold, TargetFRR: 0.05}
		if err := manifests.WriteRunCard(filepath.Join(f.runDir, predict.RunFile), card); err != nil {
			t.Fatal(err)
		}
		p, err := predict.Load(f.runDir, predict.WithThread(f.th))
		if err != nil {
			t.Fatal(err)
		}
		f.p = p
		_, hs := f.server(t)
		res, body := postRaw(t, hs.URL+"/api/predict", f.test[0], "image/png")
		var out PredictResponse
		if err := json.Unmarshal(body, &out); err != nil || res.StatusCode != 200 {
			t.Fatalf("%d %s %v", res.StatusCode, body, err)
		}
		if out.None != c.none || len(out.Predictions) == 0 {
			t.Errorf("threshold %v: none %v with %d predictions, want none %v", c.threshold, out.None, len(out.Predictions), c.none)
		}
		p.Close()
	}
}
