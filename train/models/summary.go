package models

import (
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// Layer is one row of a model summary, like a row of Keras's
// model.summary().
type Layer struct {
	Name      string  // PyTorch module path, the prefix of its parameter names
	Kind      string  // what it does
	Output    []int64 // output shape without the batch dimension
	Params    int64   // parameters (weights and biases; not batch-norm statistics)
	Trainable int64   // of which currently trainable
}

// summarized is implemented by chara's models.
type summarized interface {
	summaryLayers() []layer
	Parameters() []Param
}

// Summary lists m's layers with their output shapes for the model's input
// size (Spec().Height x Spec().Width), found by running one zero image
// through the model in eval mode, and their parameter counts. It returns
// nil for a Model that is not one of chara's. Call it on the libtorch
// thread.
func Summary(m Model) []Layer {
	s, ok := m.(summarized)
	if !ok {
		return nil
	}
	spec := m.Spec()
	layers := s.summaryLayers()
	params := s.Parameters()
	out := make([]Layer, 0, len(layers))
	withNoGrad(func() {
		x := ts.MustZeros([]int64{1, 3, spec.Height, spec.Width}, gotch.Float, m.VarStore().Device())
		y := run(layers, x, false, func(l layer, y *ts.Tensor) {
			row := Layer{Name: l.name, Kind: l.kind, Output: y.MustSize()[1:]}
			for _, p := range params {
				if strings.HasPrefix(p.Name, l.name+".") {
					n := int64(p.Tensor.Numel())
					row.Params += n
					if p.Tensor.MustRequiresGrad() {
						row.Trainable += n
					}
				}
			}
			out = append(out, row)
		})
		y.MustDrop()
		x.MustDrop()
	})
	runtime.KeepAlive(m)
	return out
}

// Totals sums a summary's parameters.
func Totals(layers []Layer) (params, trainable int64) {
	for _, l := range layers {
		params += l.Params
		trainable += l.Trainable
	}
	return params, trainable
}

// WriteSummary prints a Keras-like table of layers for the model named
// name, with totals.
func WriteSummary(w io.Writer, name string, spec Spec, layers []Layer) error {
	shape := func(s []int64) string {
		parts := make([]string, 0, len(s)+1)
		parts = append(parts, "None")
		for _, d := range s {
			parts = append(parts, fmt.Sprint(d))
		}
		return "(" + strings.Join(parts, ", ") + ")"
	}
	rows := [][3]string{{"Layer (type)", "Output Shape", "Param #"}}
	for _, l := range layers {
		rows = append(rows, [3]string{l.Name + " (" + l.Kind + ")", shape(l.Output), commas(l.Params)})
	}
	var width [3]int
	for _, r := range rows {
		for i, c := range r {
			if len(c) > width[i] {
				width[i] = len(c)
			}
		}
	}
	total := width[0] + width[1] + width[2] + 4
	var b strings.Builder
	fmt.Fprintf(&b, "Model: %q  input %dx%d (H x W)  classes %d\n", name, spec.Height, spec.Width, spec.Classes)
	line := func(c byte) { b.WriteString(strings.Repeat(string(c), total) + "\n") }
	line('=')
	for i, r := range rows {
		fmt.Fprintf(&b, "%-*s  %-*s  %*s\n", width[0], r[0], width[1], r[1], width[2], r[2])
		if i == 0 {
			line('=')
		}
	}
	line('=')
	p, t := Totals(layers)
	fmt.Fprintf(&b, "Total params: %s\nTrainable params: %s\nNon-trainable params: %s\n", commas(p), commas(t), commas(p-t))
	line('_')
	_, err := io.WriteString(w, b.String())
	return err
}

// commas writes n with thousands separators.
func commas(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
