package train

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/manifests"
)

// metricsHeader: the per-epoch metrics. The test split is not among them:
// it is scored once, on the best weights (run.json, report.md).
var metricsHeader = []string{"epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "seconds"}

// writeMetrics atomically writes metrics.csv, one row per epoch.
func writeMetrics(path string, rows []EpochRow) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(metricsHeader)
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, r := range rows {
		w.Write([]string{strconv.Itoa(r.Epoch), f(r.TrainLoss), f(r.TrainAcc), f(r.ValLoss), f(r.ValAcc),
			f(r.LR), strconv.FormatFloat(r.Seconds, 'f', 3, 64)})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, buf.Bytes(), 0o644)
}

// ReadMetrics reads a run's metrics.csv.
func ReadMetrics(path string) ([]EpochRow, error) { return readMetrics(path) }

func readMetrics(path string) ([]EpochRow, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, &manifests.RecordError{File: path, Err: err}
	}
	if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(metricsHeader, ",") {
		return nil, &manifests.RecordError{File: path, Line: 1, Err: fmt.Errorf("header is not %s", strings.Join(metricsHeader, ","))}
	}
	var rows []EpochRow
	for i, rec := range recs[1:] {
		var v [7]float64
		if len(rec) != len(v) {
			return nil, &manifests.RecordError{File: path, Line: i + 2, Err: fmt.Errorf("%d fields, want %d", len(rec), len(v))}
		}
		for j := range v {
			if v[j], err = strconv.ParseFloat(rec[j], 64); err != nil {
				return nil, &manifests.RecordError{File: path, Line: i + 2, Field: metricsHeader[j], Err: err}
			}
		}
		rows = append(rows, EpochRow{Epoch: int(v[0]), TrainLoss: v[1], TrainAcc: v[2], ValLoss: v[3], ValAcc: v[4],
			LR: v[5], Seconds: v[6]})
	}
	return rows, nil
}

// ClassMetrics is precision, recall and F1 of one class on the test split.
type ClassMetrics struct {
	Class     string  `json:"class"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	Support   int     `json:"support"`
}

// confusion counts [true][predicted].
func confusion(classes int, labels []int32, m epochMetrics) [][]int {
	c := make([][]int, classes)
	for i := range c {
		c[i] = make([]int, classes)
	}
	for k, p := range m.Preds {
		c[labels[m.Idx[k]]][p]++
	}
	return c
}

func perClass(names []string, c [][]int) []ClassMetrics {
	out := make([]ClassMetrics, len(names))
	for i, n := range names {
		tp, pred, sup := c[i][i], 0, 0
		for j := range c {
			pred += c[j][i]
			sup += c[i][j]
		}
		m := ClassMetrics{Class: n, Support: sup}
		if pred > 0 {
			m.Precision = float64(tp) / float64(pred)
		}
		if sup > 0 {
			m.Recall = float64(tp) / float64(sup)
		}
		if m.Precision+m.Recall > 0 {
			m.F1 = 2 * m.Precision * m.Recall / (m.Precision + m.Recall)
		}
		out[i] = m
	}
	return out
}

// writeReports writes confusion.csv/.png, per_class.csv, curves.png,
// predictions.png and report.md for the best weights' test predictions.
func writeReports(dir string, card *manifests.RunCard, hist []EpochRow, test *splitData, tm epochMetrics, seed int64) error {
	names := make([]string, len(card.Classes))
	for i, c := range card.Classes {
		names[i] = c.Name
	}
	conf := confusion(len(names), test.Labels, tm)
	pc := perClass(names, conf)
	if err := writeConfusionCSV(filepath.Join(dir, "confusion.csv"), names, conf); err != nil {
		return err
	}
	if err := writePerClassCSV(filepath.Join(dir, "per_class.csv"), pc); err != nil {
		return err
	}
	curves, err := curvesFigure(hist, card.BestEpoch, strings.HasPrefix(card.StopReason, "early stop"))
	if err != nil {
		return err
	}
	if err := saveFigure(filepath.Join(dir, "curves.png"), curves); err != nil {
		return err
	}
	cf, err := confusionFigure(names, conf)
	if err != nil {
		return err
	}
	if err := saveFigure(filepath.Join(dir, "confusion.png"), cf); err != nil {
		return err
	}
	if err := saveFigure(filepath.Join(dir, "top_losses.png"), topLossesFigure(names, test, topLosses(test, tm, 9))); err != nil {
		return err
	}
	if err := predictionGrid(filepath.Join(dir, "predictions.png"), names, test, tm, seed, 16); err != nil {
		return err
	}
	return writeReportMD(manifests.RunReportPath(dir), card, hist, names, conf, pc)
}

func writeCSV(path string, recs [][]string) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.WriteAll(recs)
	if err := w.Error(); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, buf.Bytes(), 0o644)
}

func writeConfusionCSV(path string, names []string, c [][]int) error {
	recs := [][]string{append([]string{`true\predicted`}, names...)}
	for i, row := range c {
		rec := []string{names[i]}
		for _, v := range row {
			rec = append(rec, strconv.Itoa(v))
		}
		recs = append(recs, rec)
	}
	return writeCSV(path, recs)
}

func writePerClassCSV(path string, pc []ClassMetrics) error {
	recs := [][]string{{"class", "precision", "recall", "f1", "support"}}
	for _, m := range pc {
		recs = append(recs, []string{m.Class, fmt.Sprintf("%.4f", m.Precision), fmt.Sprintf("%.4f", m.Recall), fmt.Sprintf("%.4f", m.F1), strconv.Itoa(m.Support)})
	}
	return writeCSV(path, recs)
}

var curveColours = []color.Color{
	color.RGBA{31, 119, 180, 255},
	color.RGBA{255, 127, 14, 255},
	color.RGBA{44, 160, 44, 255},
}

// predictionGrid draws up to k random test images (seeded) with their true
// and predicted class; wrong ones get a red frame and red text.
func predictionGrid(path string, names []string, test *splitData, tm epochMetrics, seed int64, k int) error {
	pred := make(map[int]int, len(tm.Preds))
	prob := make(map[int]float64, len(tm.Preds))
	for j, i := range tm.Idx {
		pred[i] = tm.Preds[j]
		if j < len(tm.Probs) {
			prob[i] = tm.Probs[j][tm.Preds[j]]
		}
	}
	order := rand.New(rand.NewPCG(uint64(seed), 7)).Perm(test.N)
	if len(order) > k {
		order = order[:k]
	}
	cols := 4
	rows := (len(order) + cols - 1) / cols
	const textH, pad = 32, 6
	tw := max(test.W, 150) // room for the class names
	cw, ch := tw+2*pad, test.H+textH+2*pad
	img := image.NewRGBA(image.Rect(0, 0, cols*cw, max(1, rows)*ch))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	red, green := color.RGBA{200, 30, 30, 255}, color.RGBA{20, 120, 20, 255}
	for n, i := range order {
		tx, y0 := (n%cols)*cw+pad, (n/cols)*ch+pad
		x0 := tx + (tw-test.W)/2
		truth, p := int(test.Labels[i]), pred[i]
		col := green
		if truth != p {
			col = red
			draw.Draw(img, image.Rect(x0-3, y0-3, x0+test.W+3, y0+test.H+3), image.NewUniform(red), image.Point{}, draw.Src)
		}
		pix := test.image(i)
		plane := test.H * test.W
		for y := 0; y < test.H; y++ {
			for x := 0; x < test.W; x++ {
				o := y*test.W + x
				img.SetRGBA(x0+x, y0+y, color.RGBA{pix[o], pix[plane+o], pix[2*plane+o], 255})
			}
		}
		drawText(img, tx, y0+test.H+14, "true: "+names[truth], color.Black, tw)
		mark := "ok"
		if truth != p {
			mark = "WRONG"
		}
		// The probability first, so that a long name is what gets cut.
		drawText(img, tx, y0+test.H+28, fmt.Sprintf("%s %.0f%%: %s", mark, 100*prob[i], names[p]), col, tw)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, buf.Bytes(), 0o644)
}

func drawText(img draw.Image, x, y int, s string, c color.Color, maxW int) {
	face := basicfont.Face7x13
	if n := maxW / 7; len(s) > n && n > 1 {
		s = s[:n-1] + "~"
	}
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: face, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func writeReportMD(path string, card *manifests.RunCard, hist []EpochRow, names []string, conf [][]int, pc []ClassMetrics) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", card.Name)
	fmt.Fprintf(&b, "| | |\n| --- | --- |\n")
	in := card.Recipe.Input
	fmt.Fprintf(&b, "| model | %s (input %dx%d) |\n", card.Model, in.Height, in.Width)
	fmt.Fprintf(&b, "| model input | %s |\n", in.Describe(card.Recipe.Height, card.Recipe.Width))
	fmt.Fprintf(&b, "| preprocessing | %s |\n", card.Recipe.Describe())
	fmt.Fprintf(&b, "| dataset | %s (version %s, %d classes) |\n", card.Dataset, card.DatasetVersion, len(names))
	fmt.Fprintf(&b, "| epochs run | %d |\n", len(hist))
	fmt.Fprintf(&b, "| best epoch | %d (chosen by validation accuracy %.4f) |\n", card.BestEpoch, card.BestValAcc)
	fmt.Fprintf(&b, "| seed | %d |\n", card.Seed)
	if card.StopReason != "" {
		fmt.Fprintf(&b, "| stopped | %s |\n", card.StopReason)
	}
	var total float64
	for _, h := range hist {
		total += h.Seconds
	}
	fmt.Fprintf(&b, "| training time | %.0f s |\n\n", total)
	fmt.Fprintf(&b, "## Test set\n\nScored once, after training, on the restored best weights (epoch %d, chosen on the validation split): **accuracy %.4f**, loss %.4f.\n\n", card.BestEpoch, card.TestAcc, card.TestLoss)
	b.WriteString("## Per class (test, best weights)\n\n| class | precision | recall | F1 | support |\n| --- | ---: | ---: | ---: | ---: |\n")
	for _, m := range pc {
		fmt.Fprintf(&b, "| %s | %.3f | %.3f | %.3f | %d |\n", m.Class, m.Precision, m.Recall, m.F1, m.Support)
	}
	b.WriteString("\n## Confusion matrix (rows: true, columns: predicted)\n\n![confusion](confusion.png)\n\n| |")
	for _, n := range names {
		fmt.Fprintf(&b, " %s |", n)
	}
	b.WriteString("\n| --- |" + strings.Repeat(" ---: |", len(names)) + "\n")
	for i, row := range conf {
		fmt.Fprintf(&b, "| **%s** |", names[i])
		for _, v := range row {
			fmt.Fprintf(&b, " %d |", v)
		}
		b.WriteString("\n")
	}
	b.WriteString("\n## Most confused (test: true -> predicted)\n\n")
	if pairs := mostConfused(names, conf, 5); len(pairs) == 0 {
		b.WriteString("No test image was misclassified.\n")
	} else {
		b.WriteString("| true | predicted | images | share of the true class |\n| --- | --- | ---: | ---: |\n")
		for _, pr := range pairs {
			fmt.Fprintf(&b, "| %s | %s | %d | %.1f%% |\n", pr.True, pr.Pred, pr.Count, 100*pr.Share)
		}
	}
	b.WriteString("\n## Top losses\n\nThe most confidently wrong test images:\n\n![top losses](top_losses.png)\n")
	b.WriteString("\n## Example predictions\n\n![predictions](predictions.png)\n\n## Epochs (train and validation)\n\n![curves](curves.png)\n\n| epoch | loss | acc | val_loss | val_acc | lr | s |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, h := range hist {
		best := ""
		if h.Epoch == card.BestEpoch {
			best = " (best)"
		}
		fmt.Fprintf(&b, "| %d%s | %.4f | %.4f | %.4f | %.4f | %g | %.1f |\n", h.Epoch, best, h.TrainLoss, h.TrainAcc, h.ValLoss, h.ValAcc, h.LR, h.Seconds)
	}
	return atomicfile.WriteFile(path, []byte(b.String()), 0o644)
}
