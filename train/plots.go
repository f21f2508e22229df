package train

import (
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/brewer"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/chara-dev/chara/internal/atomicfile"
)

// A figure is drawn onto any vg canvas: PNG for the run folder, SVG in the
// tests (which read its text back).
type figure struct {
	W, H vg.Length
	Draw func(vgdraw.Canvas)
}

// plotDPI is the resolution of the PNG files.
const plotDPI = 110

func saveFigure(path string, f figure) error {
	img := vgimg.NewWith(vgimg.UseWH(f.W, f.H), vgimg.UseDPI(plotDPI))
	f.Draw(vgdraw.New(img))
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		_, err := vgimg.PngCanvas{Canvas: img}.WriteTo(w)
		return err
	})
}

func textStyle(size vg.Length, c color.Color) vgdraw.TextStyle {
	return vgdraw.TextStyle{Color: c, Font: font.From(plot.DefaultFont, size), Handler: plot.DefaultTextHandler}
}

func clipName(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// blues is a sequential colour map from near white (0) to dark blue (1):
// ColorBrewer's Blues, interpolated in CIELAB at linear luminance.
func blues() palette.ColorMap {
	p, err := brewer.GetPalette(brewer.TypeSequential, "Blues", 9)
	if err != nil {
		panic(err) // a fixed, known palette
	}
	cs := p.Colors()
	rev := make([]color.Color, len(cs)) // dark to light: increasing luminance
	for i, c := range cs {
		rev[len(cs)-1-i] = c
	}
	m, err := moreland.NewLuminance(rev)
	if err != nil {
		panic(err)
	}
	m = palette.Reverse(m)
	m.SetMin(0)
	m.SetMax(1)
	return m
}

type fracGrid struct{ f [][]float64 }

func (g fracGrid) Dims() (c, r int)   { return len(g.f), len(g.f) }
func (g fracGrid) X(c int) float64    { return float64(c) }
func (g fracGrid) Y(r int) float64    { return float64(r) }
func (g fracGrid) Z(c, r int) float64 { return g.f[len(g.f)-1-r][c] } // true class 0 on top

// rowFractions divides each row of c by its sum (0 for an empty row).
func rowFractions(c [][]int) [][]float64 {
	f := make([][]float64, len(c))
	for i, row := range c {
		f[i] = make([]float64, len(row))
		sum := 0
		for _, v := range row {
			sum += v
		}
		for j, v := range row {
			if sum > 0 {
				f[i][j] = float64(v) / float64(sum)
			}
		}
	}
	return f
}

// confusionFigure is the test confusion matrix: cells coloured by the share
// of the true class (row-normalised, a sequential map with its colour bar),
// each with its count and percentage; class names in full up to 24
// characters, the canvas sized so that nothing is clipped.
func confusionFigure(names []string, c [][]int) (figure, error) {
	n := len(names)
	frac := rowFractions(c)
	cm := blues()
	p := plot.New()
	p.Title.Text = "confusion matrix (test): counts and % of the true class"
	p.X.Label.Text = "predicted class"
	p.Y.Label.Text = "true class"
	hm := plotter.NewHeatMap(fracGrid{frac}, cm.Palette(256))
	hm.Min, hm.Max = 0, 1
	p.Add(hm)
	var xys plotter.XYs
	var labels []string
	var dark []bool
	for r := 0; r < n; r++ {
		for col := 0; col < n; col++ {
			xys = append(xys, plotter.XY{X: float64(col), Y: float64(n - 1 - r)})
			labels = append(labels, fmt.Sprintf("%d\n%.0f%%", c[r][col], 100*frac[r][col]))
			dark = append(dark, frac[r][col] > 0.55)
		}
	}
	lb, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return figure{}, err
	}
	cell := vg.Length(0.75) * vg.Inch
	fontSize := vg.Points(10)
	if n > 12 {
		cell, fontSize = 0.6*vg.Inch, vg.Points(8)
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i] = textStyle(fontSize, color.Black)
		if dark[i] {
			lb.TextStyle[i].Color = color.White
		}
		lb.TextStyle[i].XAlign = vgdraw.XCenter
		lb.TextStyle[i].YAlign = vgdraw.YCenter
	}
	p.Add(lb)
	longest := 0
	xt, yt := make([]plot.Tick, n), make([]plot.Tick, n)
	for i, name := range names {
		name = clipName(name, 24)
		longest = max(longest, utf8.RuneCountInString(name))
		xt[i] = plot.Tick{Value: float64(i), Label: name}
		yt[n-1-i] = plot.Tick{Value: float64(n - 1 - i), Label: name}
	}
	p.X.Tick.Marker = plot.ConstantTicks(xt)
	p.Y.Tick.Marker = plot.ConstantTicks(yt)
	p.X.Tick.Label.Font = withSize(labelFont(names), p.X.Tick.Label.Font.Size)
	p.Y.Tick.Label.Font = withSize(labelFont(names), p.Y.Tick.Label.Font.Size)
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = vgdraw.XRight
	p.X.Tick.Label.YAlign = vgdraw.YTop
	p.X.Min, p.X.Max = -0.5, float64(n)-0.5
	p.Y.Min, p.Y.Max = -0.5, float64(n)-0.5

	bar := plot.New()
	bar.HideX()
	bar.Y.Label.Text = "share of the true class"
	bar.Y.Min, bar.Y.Max = 0, 1
	bar.Y.Tick.Marker = plot.ConstantTicks([]plot.Tick{{Value: 0, Label: "0%"}, {Value: 0.25, Label: "25%"},
		{Value: 0.5, Label: "50%"}, {Value: 0.75, Label: "75%"}, {Value: 1, Label: "100%"}})
	bar.Add(&plotter.ColorBar{ColorMap: cm, Vertical: true, Colors: 256})

	label := vg.Length(longest)*0.075*vg.Inch + 0.3*vg.Inch // rotated names: about 0.075 inch a character
	title := vg.Length(utf8.RuneCountInString(p.Title.Text)) * 0.085 * vg.Inch
	barW := 1.6 * vg.Inch
	side := vg.Length(n)*cell + label + 0.9*vg.Inch
	w := max(side+barW, title+barW+0.4*vg.Inch)
	h := side + 0.4*vg.Inch
	return figure{W: w, H: h, Draw: func(dc vgdraw.Canvas) {
		dc.FillPolygon(color.White, []vg.Point{dc.Min, {X: dc.Max.X, Y: dc.Min.Y}, dc.Max, {X: dc.Min.X, Y: dc.Max.Y}})
		main := vgdraw.Crop(dc, 0.1*vg.Inch, -(barW + (w - side - barW)), 0.1*vg.Inch, -0.1*vg.Inch)
		p.Draw(main)
		cb := vgdraw.Crop(dc, w-barW+0.25*vg.Inch, -0.35*vg.Inch, label+0.55*vg.Inch, -0.6*vg.Inch)
		bar.Draw(cb)
	}}, nil
}

// epochTicks puts a tick on every epoch, or every 2, 5, 10 ... so that
// there are at most about 15.
type epochTicks struct{}

func (epochTicks) Ticks(min, max float64) []plot.Tick {
	step := 1.0
	for _, s := range []float64{1, 2, 5, 10, 20, 25, 50, 100, 200, 500} {
		step = s
		if (max-min)/s <= 15 {
			break
		}
	}
	var ts []plot.Tick
	for v := math.Ceil(min/step) * step; v <= max+1e-9; v += step {
		ts = append(ts, plot.Tick{Value: v, Label: strconv.Itoa(int(v))})
	}
	return ts
}

// niceTicks puts about n major ticks at round steps (1, 2, 2.5 or 5 times
// a power of ten), each labelled with the digits the step needs.
type niceTicks struct{ n int }

func (t niceTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) {
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	raw := (max - min) / float64(t.n)
	pow := math.Pow(10, math.Floor(math.Log10(raw)))
	step := pow
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*pow >= raw {
			step = m * pow
			break
		}
	}
	digits := max0(0, -int(math.Floor(math.Log10(step)+1e-9)))
	if step/math.Pow(10, math.Floor(math.Log10(step)+1e-9)) == 2.5 {
		digits++
	}
	var ts []plot.Tick
	for k := math.Ceil(min/step - 1e-9); k*step <= max+step*1e-9; k++ {
		v := k * step
		if k == 0 {
			v = 0 // not -0
		}
		ts = append(ts, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', digits, 64)})
	}
	return ts
}

func max0(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// curvesFigure draws loss and accuracy of train and val per epoch (the test
// split is scored once, after training),
// with the best epoch (the weights kept) and an early stop marked.
func curvesFigure(hist []EpochRow, bestEpoch int, earlyStop bool) (figure, error) {
	mk := func(title, y string, top bool, get func(EpochRow) [2]float64) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = title
		p.X.Label.Text = "epoch"
		p.Y.Label.Text = y
		p.X.Tick.Marker = epochTicks{}
		p.Y.Tick.Marker = niceTicks{n: 10}
		p.Legend.Top = top // away from the curves: loss falls, accuracy rises
		p.Add(plotter.NewGrid())
		lo, hi := math.Inf(1), math.Inf(-1)
		for k, name := range []string{"train", "val"} {
			pts := make(plotter.XYs, len(hist))
			for i, r := range hist {
				pts[i].X = float64(r.Epoch)
				pts[i].Y = get(r)[k]
				lo, hi = math.Min(lo, pts[i].Y), math.Max(hi, pts[i].Y)
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
		if len(hist) == 0 {
			return p, nil
		}
		mark := func(epoch int, text string, col color.Color, dashes []vg.Length) error {
			line, err := plotter.NewLine(plotter.XYs{{X: float64(epoch), Y: lo}, {X: float64(epoch), Y: hi}})
			if err != nil {
				return err
			}
			line.Color, line.Dashes, line.Width = col, dashes, vg.Points(1.5)
			at, align := hi, vgdraw.YTop // the label goes to the side the legend is not on
			if top {
				at, align = lo, vgdraw.YBottom
			}
			lb, err := plotter.NewLabels(plotter.XYLabels{XYs: plotter.XYs{{X: float64(epoch), Y: at}}, Labels: []string{text}})
			if err != nil {
				return err
			}
			lb.TextStyle[0] = textStyle(vg.Points(9), col)
			lb.TextStyle[0].XAlign = vgdraw.XRight
			lb.TextStyle[0].YAlign = align
			lb.Offset = vg.Point{X: -vg.Points(3)}
			p.Add(line, lb)
			return nil
		}
		if bestEpoch > 0 {
			if err := mark(bestEpoch, fmt.Sprintf("best epoch %d", bestEpoch), color.RGBA{110, 60, 170, 255}, []vg.Length{vg.Points(5), vg.Points(3)}); err != nil {
				return nil, err
			}
		}
		if earlyStop {
			last := hist[len(hist)-1].Epoch
			text := "early stop"
			if last == bestEpoch {
				text = ""
			}
			if err := mark(last, text, color.RGBA{200, 30, 30, 255}, []vg.Length{vg.Points(1.5), vg.Points(2)}); err != nil {
				return nil, err
			}
		}
		return p, nil
	}
	loss, err := mk("loss", "cross-entropy", true, func(r EpochRow) [2]float64 { return [2]float64{r.TrainLoss, r.ValLoss} })
	if err != nil {
		return figure{}, err
	}
	acc, err := mk("accuracy", "accuracy", false, func(r EpochRow) [2]float64 { return [2]float64{r.TrainAcc, r.ValAcc} })
	if err != nil {
		return figure{}, err
	}
	return figure{W: 12 * vg.Inch, H: 4.5 * vg.Inch, Draw: func(dc vgdraw.Canvas) {
		dc.FillPolygon(color.White, []vg.Point{dc.Min, {X: dc.Max.X, Y: dc.Min.Y}, dc.Max, {X: dc.Min.X, Y: dc.Max.Y}})
		tiles := vgdraw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 6, PadY: vg.Millimeter * 2, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 4, PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3}
		cs := plot.Align([][]*plot.Plot{{loss, acc}}, tiles, dc)
		loss.Draw(cs[0][0])
		acc.Draw(cs[0][1])
	}}, nil
}

// topLoss is one misclassified test image.
type topLoss struct {
	Index       int // in the split
	True, Pred  int
	PredProb    float64
	TrueProb    float64
	Loss        float64 // -log p(true)
	Path        string
	Image       image.Image
	Description string
}

// topLosses returns the k most confidently wrong test predictions, the
// largest loss first (as fastai's plot_top_losses).
func topLosses(test *splitData, tm epochMetrics, k int) []topLoss {
	var out []topLoss
	for j, i := range tm.Idx {
		if j >= len(tm.Probs) {
			break
		}
		truth, pred := int(test.Labels[i]), tm.Preds[j]
		if truth == pred {
			continue
		}
		pt := tm.Probs[j][truth]
		out = append(out, topLoss{Index: i, True: truth, Pred: pred, PredProb: tm.Probs[j][pred], TrueProb: pt,
			Loss: -math.Log(math.Max(pt, 1e-12))})
	}
	sort.SliceStable(out, func(a, b int) bool { return out[a].Loss > out[b].Loss })
	if len(out) > k {
		out = out[:k]
	}
	return out
}

func splitImage(test *splitData, i int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, test.W, test.H))
	pix := test.image(i)
	plane := test.H * test.W
	for y := 0; y < test.H; y++ {
		for x := 0; x < test.W; x++ {
			o := y*test.W + x
			img.SetRGBA(x, y, color.RGBA{pix[o], pix[plane+o], pix[2*plane+o], 255})
		}
	}
	return img
}

// topLossesFigure draws the most confidently wrong test images, each with
// its true class, predicted class with its probability, and loss.
func topLossesFigure(names []string, test *splitData, tls []topLoss) figure {
	cols := 3
	rows := max(1, (len(tls)+cols-1)/cols)
	imgH := 2.2 * vg.Inch
	iw, ih := 1, 1
	if test != nil {
		iw, ih = test.W, test.H
	} else if len(tls) > 0 && tls[0].Image != nil {
		iw, ih = tls[0].Image.Bounds().Dx(), tls[0].Image.Bounds().Dy()
	}
	imgW := imgH * vg.Length(iw) / vg.Length(max(1, ih))
	cellW := max(imgW, 2.4*vg.Inch) + 0.2*vg.Inch
	textH := 0.75 * vg.Inch
	cellH := imgH + textH
	titleH := 0.45 * vg.Inch
	w, h := vg.Length(cols)*cellW, vg.Length(rows)*cellH+titleH
	return figure{W: w, H: h, Draw: func(dc vgdraw.Canvas) {
		dc.FillPolygon(color.White, []vg.Point{dc.Min, {X: dc.Max.X, Y: dc.Min.Y}, dc.Max, {X: dc.Min.X, Y: dc.Max.Y}})
		title := textStyle(vg.Points(14), color.Black)
		title.XAlign = vgdraw.XCenter
		title.YAlign = vgdraw.YTop
		dc.FillText(title, vg.Point{X: w / 2, Y: h - 0.1*vg.Inch}, "top losses (test): true / predicted / probability / loss")
		if len(tls) == 0 {
			msg := textStyle(vg.Points(12), color.Black)
			msg.XAlign, msg.YAlign = vgdraw.XCenter, vgdraw.YCenter
			dc.FillText(msg, vg.Point{X: w / 2, Y: (h - titleH) / 2}, "no misclassified test images")
			return
		}
		txt := textStyle(vg.Points(10), color.Black)
		txt.XAlign = vgdraw.XCenter
		red := textStyle(vg.Points(10), color.RGBA{190, 20, 20, 255})
		red.XAlign = vgdraw.XCenter
		txt.Font = withSize(labelFont(names), txt.Font.Size)
		red.Font = withSize(labelFont(names), red.Font.Size)
		for n, tl := range tls {
			col, row := n%cols, n/cols
			x0 := vg.Length(col) * cellW
			top := h - titleH - vg.Length(row)*cellH
			cx := x0 + cellW/2
			rect := vg.Rectangle{Min: vg.Point{X: cx - imgW/2, Y: top - imgH}, Max: vg.Point{X: cx + imgW/2, Y: top}}
			img := tl.Image
			if img == nil {
				img = splitImage(test, tl.Index)
			}
			dc.DrawImage(rect, img)
			dc.FillText(txt, vg.Point{X: cx, Y: top - imgH - 0.2*vg.Inch}, "true: "+clipName(names[tl.True], 28))
			dc.FillText(red, vg.Point{X: cx, Y: top - imgH - 0.4*vg.Inch}, fmt.Sprintf("pred: %s (p=%.2f)", clipName(names[tl.Pred], 22), tl.PredProb))
			dc.FillText(txt, vg.Point{X: cx, Y: top - imgH - 0.6*vg.Inch}, fmt.Sprintf("loss %.2f, p(true)=%.2f", tl.Loss, tl.TrueProb))
		}
	}}
}

// ConfusedPair is an off-diagonal cell of the confusion matrix.
type ConfusedPair struct {
	True  string  `json:"true"`
	Pred  string  `json:"predicted"`
	Count int     `json:"count"`
	Share float64 `json:"share" doc:"of the true class's images"`
}

// mostConfused returns the k largest off-diagonal cells, largest first.
func mostConfused(names []string, c [][]int, k int) []ConfusedPair {
	frac := rowFractions(c)
	var out []ConfusedPair
	for i, row := range c {
		for j, v := range row {
			if i != j && v > 0 {
				out = append(out, ConfusedPair{True: names[i], Pred: names[j], Count: v, Share: frac[i][j]})
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Count != out[b].Count {
			return out[a].Count > out[b].Count
		}
		return out[a].Share > out[b].Share
	})
	if len(out) > k {
		out = out[:k]
	}
	return out
}
