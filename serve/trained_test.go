package serve

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train"
	"github.com/chara-dev/chara/train/predict"
)

// TestRunTrainedByTrain trains a cnn with the training stage itself on the
// fixture dataset, then loads the run it leaves: the predictor's accuracy
// on the test split must be the test accuracy training reported (same
// images, same preprocessing, same weights), and the API must agree.
func TestRunTrainedByTrain(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a model")
	}
	f := newFixture(t)
	card, err := train.Run(context.Background(), f.ws, train.WithModel("cnn"), train.WithDataset("default"),
		train.WithEpochs(8), train.WithBatchSize(8), train.WithLR(3e-3), train.WithDevice("cpu"), train.WithName("trained"), train.WithSeed(3))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := predict.ResolveRun(f.ws, "default", "trained")
	if err != nil {
		t.Fatal(err)
	}
	p, err := predict.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Card().Name != card.Name || p.Card().BestWeights != card.BestWeights {
		t.Fatalf("card %+v, train returned %+v", p.Card(), card)
	}
	ds, err := manifests.ReadDataset(f.dsDir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, r := range ds.Rows[manifests.Test] {
		files = append(files, filepath.Join(f.dsDir, filepath.FromSlash(r.Path)))
	}
	res, err := p.PredictFiles(context.Background(), files, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	right, loss := 0, 0.0
	for i, r := range res {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		label := ds.Rows[manifests.Test][i].Label
		if r.Predictions[0].Label == label {
			right++
		}
		for _, pr := range r.Predictions {
			if pr.Label == label {
				loss -= math.Log(pr.Prob)
			}
		}
	}
	loss /= float64(len(res))
	// The mean cross-entropy pins the probabilities themselves: the
	// predictor sees exactly the inputs training evaluated.
	if d := loss - card.TestLoss; d > 1e-4 || d < -1e-4 {
		t.Fatalf("predictor's test loss %.6f, training reported %.6f", loss, card.TestLoss)
	}
	acc := float64(right) / float64(len(res))
	if card.TestAcc < 0.75 {
		t.Fatalf("training reached only %.2f test accuracy on colour-coded classes: the check below would be weak", card.TestAcc)
	}
	t.Logf("test accuracy %.4f, loss %.6f (training: %.4f, %.6f; %d epochs, best %d)", acc, loss, card.TestAcc, card.TestLoss, card.Epochs, card.BestEpoch)
	if d := acc - card.TestAcc; d > 1e-9 || d < -1e-9 {
		t.Fatalf("predictor's test accuracy %.4f, training reported %.4f", acc, card.TestAcc)
	}

	f.p = p
	_, hs := f.server(t)
	for i, b := range f.test[:3] {
		want, err := p.PredictBytes(context.Background(), b, 3)
		if err != nil {
			t.Fatal(err)
		}
		res, body := postRaw(t, hs.URL+"/api/predict?top=3", b, "image/png")
		if got := decodePredictions(t, res, body); len(got) == 0 || got[0].Label != want[0].Label {
			t.Fatalf("image %d: API %v, predictor %v", i, got, want)
		}
		samePreds(t, decodePredictions(t, res, body), want)
	}
}
