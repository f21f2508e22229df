package train

import (
	"context"
	"encoding/json"
	"image"
	_ "image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"testing"

	"github.com/chara-dev/chara/internal/progress"
	"github.com/chara-dev/chara/internal/softmax"
	"github.com/chara-dev/chara/internal/synth"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/openset"
	"github.com/chara-dev/chara/train/predict"
	"github.com/chara-dev/chara/train/suspects"
)

// benchInt reads a positive integer knob of these benchmarks from the
// environment.
func benchInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkSuspectsDemo plants problems in a dataset of the demo's
// pictures (internal/synth: its five look-alike characters at the cnn's
// 75x100 input, and its off-topic pictures filed under a character) and
// measures the share of planted problems in the top 10% of chara
// suspects' ranking (cnn out-of-fold, 5 folds) against a random order.
// Per class and per 19 images: one off-topic picture and one picture of
// another character (a swapped label), about 5% each.
//
//	go test ./train -run '^$' -bench BenchmarkSuspectsDemo -benchtime 1x
//
// SUSPECTS_PER_CLASS (default 38) and SUSPECTS_EPOCHS (default 8) resize it;
// SUSPECTS_SEED (default 1) is the training seed, SUSPECTS_MODEL (cnn) and
// SUSPECTS_AUGMENT (set: on) change the fold models, and SUSPECTS_DEBUG
// names a file for the ranking with each image's planted kind (JSON).
func BenchmarkSuspectsDemo(b *testing.B) {
	per := benchInt("SUSPECTS_PER_CLASS", 38)
	epochs := benchInt("SUSPECTS_EPOCHS", 8)
	chars := synth.Characters()
	names := make([]string, len(chars))
	for i, c := range chars {
		names[i] = c.Name
	}
	nv := max(1, per/8)
	counts := [3]int{per - 2*nv, nv, nv}
	offset := [3]int{0, counts[0], counts[0] + counts[1]}
	kind := func(c, si, k int) (string, int) { // "off", "swap" (with the class shown) or ""
		j := offset[si] + k
		switch j % 19 {
		case 3:
			return "off", -1
		case 11:
			return "swap", (c + 1 + (j/19+c)%(len(chars)-1)) % len(chars)
		}
		return "", c
	}
	for i := 0; i < b.N; i++ {
		ws := b.TempDir()
		makeImageSet(b, ws, "demo", names, 100, 75, counts, func(c, si, k int) image.Image {
			seed := int64(1000*c + 100*si + k + 1)
			switch kd, shown := kind(c, si, k); kd {
			case "off":
				return synth.OffTopic(seed, synth.Size(75, 100))
			default:
				return synth.Render(chars[shown], seed, synth.Size(75, 100))
			}
		})
		// Rows are train, val, test, class by class, in generation order.
		var planted []bool
		var kinds []string
		nPlanted := 0
		for si := range counts {
			for c := range chars {
				for k := 0; k < counts[si]; k++ {
					kd, _ := kind(c, si, k)
					kinds = append(kinds, kd)
					planted = append(planted, kd != "")
					if kd != "" {
						nPlanted++
					}
				}
			}
		}
		kindOfRow := func(i int) string { return kinds[i] }
		b.ResetTimer()
		model := "cnn"
		if m := os.Getenv("SUSPECTS_MODEL"); m != "" {
			model = m
		}
		oof, err := OutOfFoldProbs(context.Background(), ws, 5, WithDataset("demo"), WithModel(model), WithEpochs(epochs),
			WithBatchSize(16), WithLR(2e-3), WithDevice("cpu"), WithSeed(int64(benchInt("SUSPECTS_SEED", 1))), WithAugment(os.Getenv("SUSPECTS_AUGMENT") != ""))
		if err != nil {
			b.Fatal(err)
		}
		items, err := suspects.Rank(oof.SuspectsInput(), suspects.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		top := len(items) / 10
		share := func(order []int) float64 {
			n := 0
			for _, i := range order[:top] {
				if planted[i] {
					n++
				}
			}
			return float64(n) / float64(min(top, nPlanted))
		}
		ranked := make([]int, len(items))
		for k, it := range items {
			ranked[k] = it.Index
		}
		rng := rand.New(rand.NewPCG(5, 5))
		random := rng.Perm(len(items))
		correct := 0
		for i, p := range oof.Probs {
			best := 0
			for c := range p {
				if p[c] > p[best] {
					best = c
				}
			}
			if best == oof.Labels[i] && !planted[i] {
				correct++
			}
		}
		found := map[string]int{}
		for _, i := range ranked[:top] {
			if planted[i] {
				found[kindOfRow(i)]++
			}
		}
		b.Logf("in the top 10%%: %d off-topic, %d swapped", found["off"], found["swap"])
		if dbg := os.Getenv("SUSPECTS_DEBUG"); dbg != "" {
			// The ranking with each image's planted kind, for analysis.
			rows := make([]map[string]any, len(items))
			for k, it := range items {
				rows[k] = map[string]any{"item": it, "kind": kinds[it.Index]}
			}
			raw, err := json.Marshal(rows)
			if err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(dbg, raw, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(100*share(ranked), "%planted-in-top10%")
		b.ReportMetric(100*share(random), "%random-order")
		b.Logf("%d images, %d planted (%d per class), top 10%% = %d; out-of-fold accuracy on clean images %.1f%%; %s",
			len(items), nPlanted, nPlanted/len(chars), top, 100*float64(correct)/float64(len(items)-nPlanted), oof.Method)
		b.Logf("planted problems found in the top 10%%: %.1f%% (random order: %.1f%%, expected %.1f%%)",
			100*share(ranked), 100*share(random), 100*float64(nPlanted)/float64(len(items))*float64(top)/float64(min(top, nPlanted)))
	}
}

// BenchmarkOpenSetDemo trains cnn on four of the demo's five characters
// and shows it the fifth: AUROC of the top probability and of the negative
// entropy (known test images against the stranger's), and the share of
// each answered "none" at the run's calibrated threshold (5% target FRR on
// the validation split).
//
//	go test ./train -run '^$' -bench BenchmarkOpenSetDemo -benchtime 1x
//
// OPENSET_PER_CLASS (default 40), OPENSET_EPOCHS (default 10) and
// OPENSET_HELDOUT (0-4, default 4: the fifth character) change it.
func BenchmarkOpenSetDemo(b *testing.B) {
	per := benchInt("OPENSET_PER_CLASS", 40)
	epochs := benchInt("OPENSET_EPOCHS", 10)
	held := 4
	if v, err := strconv.Atoi(os.Getenv("OPENSET_HELDOUT")); err == nil && v >= 0 && v < 5 {
		held = v
	}
	all := synth.Characters()
	var known []synth.Character
	var names []string
	for i, c := range all {
		if i != held {
			known = append(known, c)
			names = append(names, c.Name)
		}
	}
	nv := max(2, per/5)
	counts := [3]int{per - 2*nv, nv, nv}
	for i := 0; i < b.N; i++ {
		ws := b.TempDir()
		makeImageSet(b, ws, "four", names, 100, 75, counts, func(c, si, k int) image.Image {
			return synth.Render(known[c], int64(1000*c+100*si+k+1), synth.Size(75, 100))
		})
		b.ResetTimer()
		card, err := Run(context.Background(), ws, WithDataset("four"), WithModel("cnn"), WithEpochs(epochs), WithPatience(0),
			WithBatchSize(16), WithLR(2e-3), WithDevice("cpu"), WithSeed(1), WithName("four"))
		if err != nil {
			b.Fatal(err)
		}
		p, err := predict.Load(manifests.RunDir(ws, "four"))
		if err != nil {
			b.Fatal(err)
		}
		ds, err := manifests.ReadDataset(manifests.DatasetDir(ws, "four"))
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		score := func(img image.Image) (msp, negEnt float64, none bool) {
			preds, err := p.Predict(ctx, img, 0)
			if err != nil {
				b.Fatal(err)
			}
			sort.Slice(preds, func(a, c int) bool { return preds[a].Label < preds[c].Label })
			probs := make([]float64, len(preds))
			for j, pr := range preds {
				probs[j] = pr.Prob
			}
			msp, _ = openset.Score(openset.MaxProb, probs)
			negEnt, _ = openset.Score(openset.NegEntropy, probs)
			return msp, negEnt, msp < card.OpenSet.Threshold
		}
		var kMSP, kEnt, uMSP, uEnt []float64
		kNone, uNone := 0, 0
		for _, r := range ds.Rows[manifests.Test] {
			img, err := readImage(filepath.Join(ds.Dir, r.Path))
			if err != nil {
				b.Fatal(err)
			}
			m, e, n := score(img)
			kMSP, kEnt = append(kMSP, m), append(kEnt, e)
			if n {
				kNone++
			}
		}
		strangers := len(ds.Rows[manifests.Test])
		for k := 0; k < strangers; k++ {
			m, e, n := score(synth.Render(all[held], int64(77000+k), synth.Size(75, 100)))
			uMSP, uEnt = append(uMSP, m), append(uEnt, e)
			if n {
				uNone++
			}
		}
		p.Close()
		b.StopTimer()
		b.ReportMetric(openset.AUROC(kMSP, uMSP), "AUROC-maxprob")
		b.ReportMetric(openset.AUROC(kEnt, uEnt), "AUROC-negentropy")
		b.ReportMetric(100*float64(uNone)/float64(strangers), "%strangers-none")
		b.ReportMetric(100*float64(kNone)/float64(len(kMSP)), "%known-none")
		b.Logf("held out %s; trained on %v (%d epochs, test accuracy %.1f%%); threshold %.4f (val FRR %.1f%% of %d); known test images answered none %d/%d, strangers %d/%d",
			all[held].Name, names, epochs, 100*card.TestAcc, card.OpenSet.Threshold, 100*card.OpenSet.ValFRR, card.OpenSet.ValImages,
			kNone, len(kMSP), uNone, strangers)
	}
}

func readImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	return img, err
}

// BenchmarkOpenSetScores compares open-set scores side by side on one
// model: cnn trained on the training split of four of the demo's five
// characters (the fifth's images are in the dataset but never trained on;
// its output unit is dropped, which leaves the four-class model's logits),
// scored on every validation and test image. Per score: AUROC of the known
// test images against the stranger's, and the share of each answered
// "none" at a threshold calibrated on the known validation images (5%
// target FRR); strangers are the held-out character's validation and test
// images. Scores: the top probability and negative entropy (what
// runs store), the top logit and -energy = log sum exp of the logits (Liu
// et al. 2020), and minus the distance to the 5th nearest training image
// in the penultimate layer, L2-normalised (Sun et al. 2022).
//
//	go test ./train -run '^$' -bench BenchmarkOpenSetScores -benchtime 1x
//
// OPENSET_PER_CLASS (default 40), OPENSET_EPOCHS (default 10) and
// OPENSET_HELDOUT (0-4, default 4) as in BenchmarkOpenSetDemo.
func BenchmarkOpenSetScores(b *testing.B) {
	per := benchInt("OPENSET_PER_CLASS", 40)
	epochs := benchInt("OPENSET_EPOCHS", 10)
	held := 4
	if v, err := strconv.Atoi(os.Getenv("OPENSET_HELDOUT")); err == nil && v >= 0 && v < 5 {
		held = v
	}
	chars := synth.Characters()
	names := make([]string, len(chars))
	for i, c := range chars {
		names[i] = c.Name
	}
	nv := max(2, per/5)
	counts := [3]int{per - 2*nv, nv, nv}
	for i := 0; i < b.N; i++ {
		ws := b.TempDir()
		makeImageSet(b, ws, "five", names, 100, 75, counts, func(c, si, k int) image.Image {
			return synth.Render(chars[c], int64(1000*c+100*si+k+1), synth.Size(75, 100))
		})
		b.ResetTimer()
		ctx := context.Background()
		o := defaultOptions()
		for _, f := range []Option{WithDataset("five"), WithModel("cnn"), WithEpochs(epochs), WithBatchSize(16), WithLR(2e-3),
			WithDevice("cpu"), WithSeed(1)} {
			f(&o)
		}
		p, err := prepareModels(ctx, ws, o)
		if err != nil {
			b.Fatal(err)
		}
		_ = p.th.Do(ctx, func() error { p.s.close(); return nil })
		all := concatSplits(p.data)
		nTrain, nVal := p.data[manifests.Train].N, p.data[manifests.Val].N
		var tr []int
		for j := 0; j < nTrain; j++ {
			if int(all.Labels[j]) != held {
				tr = append(tr, j)
			}
		}
		r, err := foldModel(ctx, p.th, p.build, o, all.subset(tr), all, 1, progress.Nop().Start("", 0))
		p.th.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		unit := func(v []float32) []float32 {
			var s float64
			for _, x := range v {
				s += float64(x) * float64(x)
			}
			u := make([]float32, len(v))
			for k, x := range v {
				u[k] = x / float32(math.Sqrt(s)+1e-12)
			}
			return u
		}
		trainEmb := make([][]float32, len(tr))
		for k, j := range tr {
			trainEmb[k] = unit(r.emb[j])
		}
		kinds := []string{"max_prob", "neg_entropy", "max_logit", "neg_energy", "knn5"}
		score := func(j int) []float64 {
			var z []float64
			for c, v := range r.logits[j] {
				if c != held {
					z = append(z, v)
				}
			}
			probs := softmax.Of(z)
			msp, _ := openset.Score(openset.MaxProb, probs)
			ent, _ := openset.Score(openset.NegEntropy, probs)
			mx := math.Inf(-1)
			for _, v := range z {
				mx = math.Max(mx, v)
			}
			var se float64
			for _, v := range z {
				se += math.Exp(v - mx)
			}
			u := unit(r.emb[j])
			d := make([]float64, len(trainEmb))
			for k, t := range trainEmb {
				var s float64
				for q := range t {
					x := float64(u[q] - t[q])
					s += x * x
				}
				d[k] = math.Sqrt(s)
			}
			sort.Float64s(d)
			return []float64{msp, ent, mx, mx + math.Log(se), -d[4]}
		}
		val := make([][]float64, len(kinds))
		known := make([][]float64, len(kinds))
		strangers := make([][]float64, len(kinds))
		for j := nTrain; j < all.N; j++ {
			s := score(j)
			for k := range kinds {
				switch {
				case j < nTrain+nVal && int(all.Labels[j]) != held:
					val[k] = append(val[k], s[k])
				case j >= nTrain+nVal && int(all.Labels[j]) != held:
					known[k] = append(known[k], s[k])
				default: // the stranger's validation and test images
					strangers[k] = append(strangers[k], s[k])
				}
			}
		}
		below := func(v []float64, t float64) float64 {
			n := 0
			for _, x := range v {
				if x < t {
					n++
				}
			}
			return 100 * float64(n) / float64(len(v))
		}
		for k, kind := range kinds {
			t, _, err := openset.Calibrate(val[k], openset.DefaultFRR)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(openset.AUROC(known[k], strangers[k]), "AUROC-"+kind)
			b.ReportMetric(below(strangers[k], t), "%strangers-none-"+kind)
			b.Logf("held out %s, %s: AUROC %.3f; strangers answered none %.1f%%, known %.1f%% (%d known test images, %d strangers)",
				chars[held].Name, kind, openset.AUROC(known[k], strangers[k]), below(strangers[k], t), below(known[k], t), len(known[k]), len(strangers[k]))
		}
	}
}
