package train

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

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
	Class     string
	Precision float64
	Recall    float64
	F1        float64
	Support   int
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
	if err := plotCurves(filepath.Join(dir, "curves.png"), hist); err != nil {
		return err
	}
	if err := plotConfusion(filepath.Join(dir, "confusion.png"), names, conf); err != nil {
		return err
	}
	if err := predictionGrid(filepath.Join(dir, "predictions.png"), names, test, tm, seed, 16); err != nil {
		return err
	}
	return writeReportMD(filepath.Join(dir, "report.md"), card, hist, names, conf, pc)
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

func savePNG(path string, w, h vg.Length, draw func(c vgdraw.Canvas)) error {
	img := vgimg.New(w, h)
	dc := vgdraw.New(img)
	draw(dc)
	return atomicfile.Write(path, 0o644, func(wr io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(wr)
		return err
	})
}

// plotCurves draws loss and accuracy of train and val per epoch (the test
// split is scored once, after training, and reported apart).
func plotCurves(path string, hist []EpochRow) error {
	mk := func(title, y string, top bool, get func(EpochRow) [2]float64) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "epoch"
		p.Y.Label.Text = y
		p.Legend.Top = top // away from the curves: loss falls, accuracy rises
		for k, name := range []string{"train", "val"} {
			pts := make(plotter.XYs, len(hist))
			for i, r := range hist {
				pts[i].X = float64(r.Epoch)
				pts[i].Y = get(r)[k]
			}
			l, s, err := plotter.NewLinePoints(pts)
			if err != nil {
				return nil, err
			}
			col := curveColours[k]
			l.Color, s.Color = col, col
			s.Shape = vgdraw.CircleGlyph{}
			s.Radius = vg.Points(2)
			p.Add(l, s)
			p.Legend.Add(name, l, s)
		}
		return p, nil
	}
	loss, err := mk("loss", "cross-entropy", true, func(r EpochRow) [2]float64 { return [2]float64{r.TrainLoss, r.ValLoss} })
	if err != nil {
		return err
	}
	acc, err := mk("accuracy", "accuracy", false, func(r EpochRow) [2]float64 { return [2]float64{r.TrainAcc, r.ValAcc} })
	if err != nil {
		return err
	}
	return savePNG(path, 12*vg.Inch, 4.5*vg.Inch, func(dc vgdraw.Canvas) {
		tiles := vgdraw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2}
		cs := plot.Align([][]*plot.Plot{{loss, acc}}, tiles, dc)
		loss.Draw(cs[0][0])
		acc.Draw(cs[0][1])
	})
}

var curveColours = []color.Color{
	color.RGBA{31, 119, 180, 255},
	color.RGBA{255, 127, 14, 255},
	color.RGBA{44, 160, 44, 255},
}

type confGrid struct{ c [][]int }

func (g confGrid) Dims() (c, r int)   { return len(g.c), len(g.c) }
func (g confGrid) X(c int) float64    { return float64(c) }
func (g confGrid) Y(r int) float64    { return float64(r) }
func (g confGrid) Z(c, r int) float64 { return float64(g.c[len(g.c)-1-r][c]) } // true class 0 on top

// plotConfusion draws the test confusion matrix as a heat map with counts.
func plotConfusion(path string, names []string, c [][]int) error {
	n := len(names)
	p := plot.New()
	p.Title.Text = "confusion matrix (test)"
	p.X.Label.Text = "predicted"
	p.Y.Label.Text = "true"
	pal := moreland.SmoothBlueRed().Palette(255)
	hm := plotter.NewHeatMap(confGrid{c}, pal)
	maxv := 1.0
	for _, row := range c {
		for _, v := range row {
			maxv = max(maxv, float64(v))
		}
	}
	hm.Min, hm.Max = 0, maxv
	p.Add(hm)
	var xys plotter.XYs
	var labels []string
	for r := 0; r < n; r++ {
		for col := 0; col < n; col++ {
			xys = append(xys, plotter.XY{X: float64(col), Y: float64(n - 1 - r)})
			labels = append(labels, strconv.Itoa(c[r][col]))
		}
	}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].XAlign = vgdraw.XCenter
		lb.TextStyle[i].YAlign = vgdraw.YCenter
	}
	p.Add(lb)
	xt, yt := make([]plot.Tick, n), make([]plot.Tick, n)
	for i, name := range names {
		if len(name) > 14 {
			name = name[:13] + "…"
		}
		xt[i] = plot.Tick{Value: float64(i), Label: name}
		yt[n-1-i] = plot.Tick{Value: float64(n - 1 - i), Label: name}
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	p.X.Tick.Label.Rotation = 0.6
	p.X.Tick.Label.XAlign = vgdraw.XRight
	side := vg.Length(2+0.45*float64(n)) * vg.Inch
	return savePNG(path, side+vg.Inch, side, func(dc vgdraw.Canvas) { p.Draw(dc) })
}

// predictionGrid draws up to k random test images (seeded) with their true
// and predicted class; wrong ones get a red frame and red text.
func predictionGrid(path string, names []string, test *splitData, tm epochMetrics, seed int64, k int) error {
	pred := make(map[int]int, len(tm.Preds))
	for j, i := range tm.Idx {
		pred[i] = tm.Preds[j]
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
		drawText(img, tx, y0+test.H+28, fmt.Sprintf("pred: %s (%s)", names[p], mark), col, tw)
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
