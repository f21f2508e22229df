package train

import (
	"fmt"
	"image"
	"math"
	"path/filepath"
	"sort"
	"strings"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/manifests"
)

// EvalItem is one labelled image scored by a run: chara evaluate.
type EvalItem struct {
	Path  string
	Label int
	Probs []float64 // softmax over the classes, label order
}

// EvalResult sums up an evaluation (chara evaluate --json).
type EvalResult struct {
	Run      string         `json:"run"`
	On       string         `json:"on" doc:"the split (val, test) or the folder scored"`
	Dir      string         `json:"dir" doc:"where the report was written"`
	N        int            `json:"n" doc:"images scored"`
	Accuracy float64        `json:"accuracy"`
	Loss     float64        `json:"loss" doc:"mean cross-entropy"`
	PerClass []ClassMetrics `json:"per_class"`
	Confused []ConfusedPair `json:"most_confused" doc:"the largest off-diagonal cells, largest first"`
	Failed   []string       `json:"failed" doc:"files that could not be read"`
}

// WriteEvaluation writes the report of a run's scores on items into dir,
// as training writes its test report: confusion.csv/.png, per_class.csv,
// top_losses.png and report.md. image loads an item's model input for
// top_losses.png.
func WriteEvaluation(dir, run, on string, names []string, items []EvalItem, img func(i int) (image.Image, error)) (*EvalResult, error) {
	if len(items) == 0 {
		return nil, fmt.Errorf("evaluate %s on %s: no images", run, on)
	}
	n := len(names)
	conf := make([][]int, n)
	for i := range conf {
		conf[i] = make([]int, n)
	}
	res := &EvalResult{Run: run, On: on, Dir: dir, N: len(items), Failed: []string{}}
	type wrong struct {
		i    int
		pred int
		loss float64
	}
	var wrongs []wrong
	correct := 0
	for i, it := range items {
		if it.Label < 0 || it.Label >= n || len(it.Probs) != n {
			return nil, fmt.Errorf("%s: label %d or %d probabilities for %d classes", it.Path, it.Label, len(it.Probs), n)
		}
		pred := 0
		for c, p := range it.Probs {
			if p > it.Probs[pred] {
				pred = c
			}
		}
		conf[it.Label][pred]++
		loss := -math.Log(math.Max(it.Probs[it.Label], 1e-12))
		res.Loss += loss
		if pred == it.Label {
			correct++
		} else {
			wrongs = append(wrongs, wrong{i, pred, loss})
		}
	}
	res.Accuracy = float64(correct) / float64(len(items))
	res.Loss /= float64(len(items))
	res.PerClass = perClass(names, conf)
	res.Confused = mostConfused(names, conf, 5)
	if res.Confused == nil {
		res.Confused = []ConfusedPair{}
	}
	sort.SliceStable(wrongs, func(a, b int) bool { return wrongs[a].loss > wrongs[b].loss })
	var tls []topLoss
	for _, w := range wrongs[:min(9, len(wrongs))] {
		im, err := img(w.i)
		if err != nil {
			return nil, err
		}
		it := items[w.i]
		tls = append(tls, topLoss{Index: w.i, True: it.Label, Pred: w.pred, PredProb: it.Probs[w.pred],
			TrueProb: it.Probs[it.Label], Loss: w.loss, Path: it.Path, Image: im})
	}
	if err := writeConfusionCSV(filepath.Join(dir, "confusion.csv"), names, conf); err != nil {
		return nil, err
	}
	if err := writePerClassCSV(filepath.Join(dir, "per_class.csv"), res.PerClass); err != nil {
		return nil, err
	}
	cf, err := confusionFigure(names, conf)
	if err != nil {
		return nil, err
	}
	if err := saveFigure(filepath.Join(dir, "confusion.png"), cf); err != nil {
		return nil, err
	}
	if err := saveFigure(filepath.Join(dir, "top_losses.png"), topLossesFigure(names, nil, tls)); err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s on %s\n\n", run, on)
	fmt.Fprintf(&b, "| | |\n| --- | --- |\n| images | %d |\n| **accuracy** | **%.4f** |\n| loss | %.4f |\n\n", res.N, res.Accuracy, res.Loss)
	b.WriteString("## Per class\n\n| class | precision | recall | F1 | support |\n| --- | ---: | ---: | ---: | ---: |\n")
	for _, m := range res.PerClass {
		fmt.Fprintf(&b, "| %s | %.3f | %.3f | %.3f | %d |\n", m.Class, m.Precision, m.Recall, m.F1, m.Support)
	}
	b.WriteString("\n## Confusion matrix (rows: true, columns: predicted)\n\n![confusion](confusion.png)\n\n## Most confused (true -> predicted)\n\n")
	if len(res.Confused) == 0 {
		b.WriteString("No image was misclassified.\n")
	} else {
		b.WriteString("| true | predicted | images | share of the true class |\n| --- | --- | ---: | ---: |\n")
		for _, pr := range res.Confused {
			fmt.Fprintf(&b, "| %s | %s | %d | %.1f%% |\n", pr.True, pr.Pred, pr.Count, 100*pr.Share)
		}
	}
	b.WriteString("\n## Top losses\n\n![top losses](top_losses.png)\n\n| file | true | predicted | p | loss |\n| --- | --- | --- | ---: | ---: |\n")
	for _, tl := range tls {
		fmt.Fprintf(&b, "| %s | %s | %s | %.3f | %.3f |\n", tl.Path, names[tl.True], names[tl.Pred], tl.PredProb, tl.Loss)
	}
	if err := atomicfile.WriteFile(manifests.RunReportPath(dir), []byte(b.String()), 0o644); err != nil {
		return nil, err
	}
	return res, nil
}
