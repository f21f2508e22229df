package openset

import (
	"math"
	"math/rand/v2"
	"testing"
)

// On a known score distribution the calibrated threshold rejects the
// target share: uniform scores on [0,1] put it at the FRR quantile, and
// fresh draws from the same distribution are rejected at about that rate.
func TestCalibrateHitsTargetFRR(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	val := make([]float64, 2000)
	for i := range val {
		val[i] = rng.Float64()
	}
	for _, frr := range []float64{0.01, 0.05, 0.2} {
		th, got, err := Calibrate(val, frr)
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(th-frr) > 0.02 {
			t.Errorf("frr %v: threshold %v, want about %v (uniform quantile)", frr, th, frr)
		}
		if got > frr || got < frr-1.0/2000 {
			t.Errorf("frr %v: %v of the validation scores below the threshold", frr, got)
		}
		fresh := make([]float64, 20000)
		for i := range fresh {
			fresh[i] = rng.Float64()
		}
		if r := Rejected(fresh, th); math.Abs(r-frr) > 0.015 {
			t.Errorf("frr %v: %v of fresh known images rejected", frr, r)
		}
	}
	if _, _, err := Calibrate(nil, 0.05); err == nil {
		t.Error("no scores accepted")
	}
	if _, _, err := Calibrate(val, 1); err == nil {
		t.Error("frr 1 accepted")
	}
}

func TestCalibrateTies(t *testing.T) {
	// 10 scores, 5 % of 10 floors to 0: the smallest score, nothing below.
	s := []float64{0.9, 0.9, 0.3, 0.9, 0.8, 0.7, 0.9, 0.9, 0.6, 0.9}
	th, got, _ := Calibrate(s, 0.05)
	if th != 0.3 || got != 0 {
		t.Errorf("threshold %v rejecting %v, want 0.3 and 0", th, got)
	}
	th, got, _ = Calibrate(s, 0.25) // floor(2.5) = 2: the third smallest
	if th != 0.7 || got != 0.2 {
		t.Errorf("threshold %v rejecting %v, want 0.7 and 0.2", th, got)
	}
}

func TestAUROC(t *testing.T) {
	if a := AUROC([]float64{0.9, 0.8}, []float64{0.1, 0.2}); a != 1 {
		t.Errorf("separated: %v", a)
	}
	if a := AUROC([]float64{0.1, 0.2}, []float64{0.9, 0.8}); a != 0 {
		t.Errorf("reversed: %v", a)
	}
	if a := AUROC([]float64{0.5, 0.9}, []float64{0.5, 0.1}); a != 0.875 {
		t.Errorf("with a tie: %v, want 0.875", a)
	}
}

func TestScore(t *testing.T) {
	p := []float64{0.7, 0.2, 0.1}
	if s, _ := Score(MaxProb, p); s != 0.7 {
		t.Errorf("max_prob %v", s)
	}
	flat, _ := Score(NegEntropy, []float64{1.0 / 3, 1.0 / 3, 1.0 / 3})
	peaked, _ := Score(NegEntropy, p)
	if !(peaked > flat) || math.Abs(flat+math.Log(3)) > 1e-12 {
		t.Errorf("neg_entropy flat %v peaked %v", flat, peaked)
	}
	if _, err := Score("energy", p); err == nil {
		t.Error("unknown kind accepted")
	}
}
