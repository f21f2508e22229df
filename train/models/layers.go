package models

import (
	"fmt"
	"math"
	"runtime"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"github.com/chara-dev/chara/train/torchrt"
)

// Param is one named parameter (trainable weight or bias) of a model. Its
// Name is the VarStore name, which is also the PyTorch state_dict key.
type Param struct {
	Name   string
	Tensor *ts.Tensor
}

// registry builds parameters and buffers into a VarStore and remembers
// them in creation order (the VarStore itself only has a map), so that
// models can count, freeze and list them.
type registry struct {
	vs      *nn.VarStore
	params  []Param
	buffers []Param
	err     error // the first error; later calls do nothing
}

func newRegistry(device gotch.Device) *registry {
	return &registry{vs: nn.NewVarStore(device)}
}

func joinName(path []string, name string) string {
	return strings.Join(append(append([]string(nil), path...), name), nn.SEP)
}

// sub returns the nn.Path for a dotted prefix such as "features.1.0".
func (r *registry) sub(prefix string) *nn.Path {
	p := r.vs.Root()
	if prefix == "" {
		return p
	}
	for _, s := range strings.Split(prefix, ".") {
		p = p.Sub(s)
	}
	return p
}

// add stores x (dropped afterwards) under prefix.name.
func (r *registry) add(prefix, name string, x *ts.Tensor, param bool) *ts.Tensor {
	defer x.MustDrop()
	if r.err != nil {
		return nil
	}
	full := name
	if prefix != "" {
		full = prefix + "." + name
	}
	for _, p := range r.params {
		if p.Name == full {
			r.err = fmt.Errorf("model: duplicate parameter %s", full)
			return nil
		}
	}
	var opts []nn.AddOpt
	if !param {
		opts = append(opts, nn.WithVarType("buffer"))
	}
	t, err := r.sub(prefix).Add(name, x, param, opts...)
	if err != nil {
		r.err = fmt.Errorf("model: add %s: %w", full, err)
		return nil
	}
	if param {
		r.params = append(r.params, Param{full, t})
	} else {
		r.buffers = append(r.buffers, Param{full, t})
	}
	return t
}

func (r *registry) device() gotch.Device { return r.vs.Device() }

// uniform is U(-bound, bound).
func (r *registry) uniform(shape []int64, bound float64) *ts.Tensor {
	x := ts.MustZeros(shape, gotch.Float, r.device())
	x.MustUniform_(-bound, bound)
	return x
}

// normal is N(0, std^2).
func (r *registry) normal(shape []int64, std float64) *ts.Tensor {
	return ts.MustRandn(shape, gotch.Float, r.device()).MustMulScalar(ts.FloatScalar(std), true)
}

func (r *registry) constant(shape []int64, v float64) *ts.Tensor {
	x := ts.MustZeros(shape, gotch.Float, r.device())
	if v != 0 {
		x.MustFill_(ts.FloatScalar(v))
	}
	return x
}

// Initialisation schemes.
type initScheme int

const (
	// initPyTorch is PyTorch's layer default: weight and bias
	// U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
	initPyTorch initScheme = iota
	// initTorchvisionEffNet is torchvision's EfficientNet init: conv weight
	// kaiming_normal(fan_out), conv bias 0; linear U(-1/sqrt(out), ..), bias 0.
	initTorchvisionEffNet
)

// conv2d is nn.Conv2d with symmetric padding.
type conv2d struct {
	w, b                      *ts.Tensor // b is an undefined tensor without bias
	stride, padding, dilation []int64
	groups                    int64
}

func (r *registry) conv(prefix string, in, out, k, stride, padding, groups int64, bias bool, scheme initScheme) *conv2d {
	shape := []int64{out, in / groups, k, k}
	fanIn := in / groups * k * k
	var w, b *ts.Tensor
	switch scheme {
	case initTorchvisionEffNet:
		fanOut := out * k * k // torch's fan_out ignores groups
		w = r.normal(shape, math.Sqrt(2/float64(fanOut)))
		if bias {
			b = r.constant([]int64{out}, 0)
		}
	default:
		w = r.uniform(shape, 1/math.Sqrt(float64(fanIn)))
		if bias {
			b = r.uniform([]int64{out}, 1/math.Sqrt(float64(fanIn)))
		}
	}
	c := &conv2d{
		w:        r.add(prefix, "weight", w, true),
		stride:   []int64{stride, stride},
		padding:  []int64{padding, padding},
		dilation: []int64{1, 1},
		groups:   groups,
	}
	if bias {
		c.b = r.add(prefix, "bias", b, true)
	} else {
		c.b = ts.NewTensor()
	}
	return c
}

func (c *conv2d) forward(x *ts.Tensor) *ts.Tensor {
	return ts.MustConv2d(x, c.w, c.b, c.stride, c.padding, c.dilation, c.groups)
}

// batchNorm2d is nn.BatchNorm2d (eps 1e-5, momentum 0.1, affine, tracking
// running statistics). PyTorch's num_batches_tracked buffer is not kept:
// with a fixed momentum it is never read.
type batchNorm2d struct {
	w, b, mean, variance *ts.Tensor
}

const (
	bnEps      = 1e-5
	bnMomentum = 0.1
)

func (r *registry) bn(prefix string, c int64) *batchNorm2d {
	return &batchNorm2d{
		w:        r.add(prefix, "weight", r.constant([]int64{c}, 1), true),
		b:        r.add(prefix, "bias", r.constant([]int64{c}, 0), true),
		mean:     r.add(prefix, "running_mean", r.constant([]int64{c}, 0), false),
		variance: r.add(prefix, "running_var", r.constant([]int64{c}, 1), false),
	}
}

func (n *batchNorm2d) forward(x *ts.Tensor, train bool) *ts.Tensor {
	return ts.MustBatchNorm(x, n.w, n.b, n.mean, n.variance, train, bnMomentum, bnEps, true)
}

// linear is nn.Linear (weight [out, in]).
type linear struct {
	w, b *ts.Tensor
}

func (r *registry) linear(prefix string, in, out int64, scheme initScheme) *linear {
	var w, b *ts.Tensor
	switch scheme {
	case initTorchvisionEffNet:
		w = r.uniform([]int64{out, in}, 1/math.Sqrt(float64(out)))
		b = r.constant([]int64{out}, 0)
	default:
		w = r.uniform([]int64{out, in}, 1/math.Sqrt(float64(in)))
		b = r.uniform([]int64{out}, 1/math.Sqrt(float64(in)))
	}
	return &linear{w: r.add(prefix, "weight", w, true), b: r.add(prefix, "bias", b, true)}
}

func (l *linear) forward(x *ts.Tensor) *ts.Tensor { return ts.MustLinear(x, l.w, l.b) }

// layer is one row of a model's summary and one step of its forward pass.
// Its parameters are those whose names start with name + ".".
type layer struct {
	name string
	kind string
	// fwd must not drop its input; the runner drops intermediates.
	fwd func(x *ts.Tensor, train bool) *ts.Tensor
}

// run applies layers in order. x is the caller's and is never dropped;
// every intermediate result is.
func run(layers []layer, x *ts.Tensor, train bool, each func(l layer, y *ts.Tensor)) *ts.Tensor {
	cur := x
	for _, l := range layers {
		y := l.fwd(cur, train)
		if cur != x {
			cur.MustDrop()
		}
		if each != nil {
			each(l, y)
		}
		cur = y
	}
	if cur == x {
		// Never hand the caller's own tensor back as a fresh result.
		cur = x.MustShallowClone()
	}
	return cur
}

// base holds what every model shares.
type base struct {
	reg    *registry
	spec   Spec
	layers []layer
}

func (m *base) VarStore() *nn.VarStore { return m.reg.vs }
func (m *base) Spec() Spec             { return m.spec }

// Parameters lists every parameter in creation order (torchvision's
// state_dict order for effnet-b0).
func (m *base) Parameters() []Param { return append([]Param(nil), m.reg.params...) }

// Buffers lists the non-trainable state (batch-norm running statistics).
func (m *base) Buffers() []Param { return append([]Param(nil), m.reg.buffers...) }

// ForwardT runs the whole model.
func (m *base) ForwardT(x *ts.Tensor, train bool) *ts.Tensor {
	y := run(m.layers, x, train, nil)
	runtime.KeepAlive(m.reg)
	return y
}

func (m *base) summaryLayers() []layer { return m.layers }

// Embedder is a model that exposes its penultimate layer: the activations
// its last layer (the classifier's final Linear) reads.
type Embedder interface {
	Model
	// Embed returns the penultimate activations [N, D] of a normalised
	// batch, in evaluation mode.
	Embed(x *ts.Tensor) *ts.Tensor
}

// Embed implements Embedder: every layer but the last.
func (m *base) Embed(x *ts.Tensor) *ts.Tensor {
	y := run(m.layers[:len(m.layers)-1], x, false, nil)
	runtime.KeepAlive(m.reg)
	return y
}

// relu and friends as layer functions.
func reluT(x *ts.Tensor, _ bool) *ts.Tensor { return x.MustRelu(false) }

func flattenT(x *ts.Tensor, _ bool) *ts.Tensor { return x.MustFlatten(1, -1, false) }

func maxPool2T(x *ts.Tensor, _ bool) *ts.Tensor {
	return x.MustMaxPool2d([]int64{2, 2}, []int64{2, 2}, []int64{0, 0}, []int64{1, 1}, false, false)
}

func dropoutT(p float64) func(*ts.Tensor, bool) *ts.Tensor {
	return func(x *ts.Tensor, train bool) *ts.Tensor { return ts.MustDropout(x, p, train) }
}

// withNoGrad runs f with gradients off on the calling goroutine's OS
// thread.
func withNoGrad(f func()) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	_ = torchrt.NoGrad(func() error { f(); return nil })
}
