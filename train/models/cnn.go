package models

import (
	"fmt"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// The reference CNNs take 100x75 (height x width) images; their dense
// layers are sized for it (no padding: 100x75 -> 98x73 -> 49x36 -> 47x34
// -> 23x17).
const (
	cnnHeight int64 = 100
	cnnWidth  int64 = 75
)

// cnnFlat is the flattened size after the two conv+pool stages.
func cnnFlat(channels int64) int64 {
	h := ((cnnHeight-2)/2 - 2) / 2
	w := ((cnnWidth-2)/2 - 2) / 2
	return channels * h * w
}

// CNN is the reference's first CNN: Conv 3->10 3x3, ReLU, MaxPool 2,
// Conv 10->10 3x3, ReLU, MaxPool 2, Flatten, Dense 50 + ReLU, Dense N.
// PyTorch names: conv1, conv2, fc1, fc2.
type CNN struct{ base }

func newCNN(classes int, device gotch.Device) (*CNN, error) {
	r := newRegistry(device)
	n := int64(classes)
	var conv1, conv2 *conv2d
	var fc1, fc2 *linear
	withNoGrad(func() {
		conv1 = r.conv("conv1", 3, 10, 3, 1, 0, 1, true, initPyTorch)
		conv2 = r.conv("conv2", 10, 10, 3, 1, 0, 1, true, initPyTorch)
		fc1 = r.linear("fc1", cnnFlat(10), 50, initPyTorch)
		fc2 = r.linear("fc2", 50, n, initPyTorch)
	})
	if r.err != nil {
		return nil, fmt.Errorf("cnn: %w", r.err)
	}
	m := &CNN{base{reg: r, spec: Spec{
		Name: "cnn", Classes: classes, Height: cnnHeight, Width: cnnWidth,
		Mean: ImageNetMean, Std: ImageNetStd,
	}}}
	m.layers = []layer{
		{"conv1", "Conv2d 3x3 + ReLU", func(x *ts.Tensor, _ bool) *ts.Tensor { return conv1.forward(x).MustRelu(true) }},
		{"pool1", "MaxPool2d 2", maxPool2T},
		{"conv2", "Conv2d 3x3 + ReLU", func(x *ts.Tensor, _ bool) *ts.Tensor { return conv2.forward(x).MustRelu(true) }},
		{"pool2", "MaxPool2d 2", maxPool2T},
		{"flatten", "Flatten", flattenT},
		{"fc1", "Linear + ReLU", func(x *ts.Tensor, _ bool) *ts.Tensor { return fc1.forward(x).MustRelu(true) }},
		{"fc2", "Linear", func(x *ts.Tensor, _ bool) *ts.Tensor { return fc2.forward(x) }},
	}
	return m, nil
}

// Regularized is a model whose loss carries a weight penalty. The training
// loop adds L2Penalty() to the data loss.
type Regularized interface {
	// L2Penalty is L2Coefficient() * the sum of squares of the weights
	// named by L2Params, a scalar tensor in the autograd graph (the caller
	// drops it).
	L2Penalty() *ts.Tensor
	// L2Coefficient is the penalty's factor (Keras's l2(...) argument).
	L2Coefficient() float64
	// L2Params names the penalised parameters.
	L2Params() []string
}

// CNN2 is the reference's improved CNN: Conv 3->15 3x3, ReLU, MaxPool 2,
// Dropout; Conv 15->15 3x3, ReLU, MaxPool 2, Dropout; Flatten; three Dense
// 50 + ReLU with an L2 penalty on their weights (Keras's
// kernel_regularizer); Dense N. PyTorch names: conv1, conv2, fc1, fc2, fc3,
// fc4.
type CNN2 struct {
	base
	l2      float64
	dropout float64
	l2w     []Param
}

// CNN2 defaults.
const (
	CNN2L2      = 1e-3 // Keras l2(0.001) on the hidden dense kernels
	CNN2Dropout = 0.25 // after each conv block
)

func newCNN2(classes int, device gotch.Device) (*CNN2, error) {
	r := newRegistry(device)
	n := int64(classes)
	var conv1, conv2 *conv2d
	var fc [3]*linear
	var out *linear
	withNoGrad(func() {
		conv1 = r.conv("conv1", 3, 15, 3, 1, 0, 1, true, initPyTorch)
		conv2 = r.conv("conv2", 15, 15, 3, 1, 0, 1, true, initPyTorch)
		fc[0] = r.linear("fc1", cnnFlat(15), 50, initPyTorch)
		fc[1] = r.linear("fc2", 50, 50, initPyTorch)
		fc[2] = r.linear("fc3", 50, 50, initPyTorch)
		out = r.linear("fc4", 50, n, initPyTorch)
	})
	if r.err != nil {
		return nil, fmt.Errorf("cnn2: %w", r.err)
	}
	m := &CNN2{base: base{reg: r, spec: Spec{
		Name: "cnn2", Classes: classes, Height: cnnHeight, Width: cnnWidth,
		Mean: ImageNetMean, Std: ImageNetStd,
	}}, l2: CNN2L2, dropout: CNN2Dropout}
	for i, l := range fc {
		m.l2w = append(m.l2w, Param{fmt.Sprintf("fc%d.weight", i+1), l.w})
	}
	dense := func(l *linear) func(*ts.Tensor, bool) *ts.Tensor {
		return func(x *ts.Tensor, _ bool) *ts.Tensor { return l.forward(x).MustRelu(true) }
	}
	m.layers = []layer{
		{"conv1", "Conv2d 3x3 + ReLU", func(x *ts.Tensor, _ bool) *ts.Tensor { return conv1.forward(x).MustRelu(true) }},
		{"pool1", "MaxPool2d 2", maxPool2T},
		{"drop1", fmt.Sprintf("Dropout %.2g", m.dropout), dropoutT(m.dropout)},
		{"conv2", "Conv2d 3x3 + ReLU", func(x *ts.Tensor, _ bool) *ts.Tensor { return conv2.forward(x).MustRelu(true) }},
		{"pool2", "MaxPool2d 2", maxPool2T},
		{"drop2", fmt.Sprintf("Dropout %.2g", m.dropout), dropoutT(m.dropout)},
		{"flatten", "Flatten", flattenT},
		{"fc1", "Linear + ReLU, L2", dense(fc[0])},
		{"fc2", "Linear + ReLU, L2", dense(fc[1])},
		{"fc3", "Linear + ReLU, L2", dense(fc[2])},
		{"fc4", "Linear", func(x *ts.Tensor, _ bool) *ts.Tensor { return out.forward(x) }},
	}
	return m, nil
}

// L2Penalty implements Regularized.
func (m *CNN2) L2Penalty() *ts.Tensor {
	var sum *ts.Tensor
	for _, p := range m.l2w {
		s := p.Tensor.MustSquare(false).MustSum(gotch.Float, true)
		if sum == nil {
			sum = s
		} else {
			sum = sum.MustAdd(s, true)
			s.MustDrop()
		}
	}
	return sum.MustMulScalar(ts.FloatScalar(m.l2), true)
}

// L2Coefficient implements Regularized.
func (m *CNN2) L2Coefficient() float64 { return m.l2 }

// L2Params implements Regularized.
func (m *CNN2) L2Params() []string {
	names := make([]string, len(m.l2w))
	for i, p := range m.l2w {
		names[i] = p.Name
	}
	return names
}
