package models

import (
	"fmt"
	"runtime"
	"strings"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// EfficientNet-B0 as torchvision builds it (torchvision/models/
// efficientnet.py, width and depth multipliers 1.0): same modules, same
// parameter names, symmetric padding (k-1)/2, batch-norm eps 1e-5 and
// momentum 0.1, SiLU, squeeze-excitation (SiLU then sigmoid, squeeze
// channels max(1, block input channels / 4)), stochastic depth in row mode
// with a rate rising linearly from 0 to 0.2 over the 16 blocks. The
// torchvision classifier is replaced by chara's head.

// EffNet defaults.
const (
	EffNetHeight           = 300
	EffNetWidth            = 150
	EffNetFeatures         = 1280 // pooled backbone features
	EffNetHidden           = 128  // head's hidden layer
	EffNetDropout          = 0.2
	EffNetStochasticDepth  = 0.2
	effNetTotalBlocks      = 16
	effNetClassifierPrefix = "classifier"
	effNetFeaturesPrefix   = "features"
)

// mbConfig is one torchvision bneck_conf row.
type mbConfig struct {
	expand, kernel, stride, in, out, layers int64
}

var effNetB0Stages = []mbConfig{
	{1, 3, 1, 32, 16, 1},
	{6, 3, 2, 16, 24, 2},
	{6, 5, 2, 24, 40, 2},
	{6, 3, 2, 40, 80, 3},
	{6, 5, 1, 80, 112, 3},
	{6, 5, 2, 112, 192, 4},
	{6, 3, 1, 192, 320, 1},
}

// makeDivisible is torchvision's _make_divisible(v, 8).
func makeDivisible(v float64, divisor int64) int64 {
	nv := int64(v+float64(divisor)/2) / divisor * divisor
	if nv < divisor {
		nv = divisor
	}
	if float64(nv) < 0.9*v {
		nv += divisor
	}
	return nv
}

// convBNAct is torchvision's Conv2dNormActivation: prefix.0 conv (no
// bias), prefix.1 batch norm, then SiLU unless act is false.
type convBNAct struct {
	conv *conv2d
	bn   *batchNorm2d
	act  bool
}

func (r *registry) convBNAct(prefix string, in, out, k, stride, groups int64, act bool) *convBNAct {
	return &convBNAct{
		conv: r.conv(prefix+".0", in, out, k, stride, (k-1)/2, groups, false, initTorchvisionEffNet),
		bn:   r.bn(prefix+".1", out),
		act:  act,
	}
}

// forward does not drop x; autograd keeps the intermediates it needs after
// our handles are dropped.
func (c *convBNAct) forward(x *ts.Tensor, train bool) *ts.Tensor {
	y := c.conv.forward(x)
	z := c.bn.forward(y, train)
	y.MustDrop()
	if c.act {
		return z.MustSilu(true)
	}
	return z
}

// squeezeExcitation is torchvision.ops.SqueezeExcitation: fc1, fc2 are 1x1
// convs with bias.
type squeezeExcitation struct {
	fc1, fc2 *conv2d
}

func (s *squeezeExcitation) forward(x *ts.Tensor) *ts.Tensor {
	p := x.MustAdaptiveAvgPool2d([]int64{1, 1}, false)
	a := s.fc1.forward(p)
	p.MustDrop()
	a = a.MustSilu(true)
	b := s.fc2.forward(a)
	a.MustDrop()
	b = b.MustSigmoid(true)
	out := x.MustMul(b, false)
	b.MustDrop()
	return out
}

// mbConv is torchvision's MBConv block.
type mbConv struct {
	expand    *convBNAct // nil when the expand ratio is 1
	depthwise *convBNAct
	se        *squeezeExcitation
	project   *convBNAct
	residual  bool
	sdProb    float64
}

func (r *registry) mbConv(prefix string, c mbConfig, sdProb float64) *mbConv {
	b := &mbConv{residual: c.stride == 1 && c.in == c.out, sdProb: sdProb}
	expanded := makeDivisible(float64(c.in*c.expand), 8)
	i := 0
	name := func() string { s := fmt.Sprintf("%s.block.%d", prefix, i); i++; return s }
	if expanded != c.in {
		b.expand = r.convBNAct(name(), c.in, expanded, 1, 1, 1, true)
	}
	b.depthwise = r.convBNAct(name(), expanded, expanded, c.kernel, c.stride, expanded, true)
	squeeze := c.in / 4
	if squeeze < 1 {
		squeeze = 1
	}
	se := name()
	b.se = &squeezeExcitation{
		fc1: r.conv(se+".fc1", expanded, squeeze, 1, 1, 0, 1, true, initTorchvisionEffNet),
		fc2: r.conv(se+".fc2", squeeze, expanded, 1, 1, 0, 1, true, initTorchvisionEffNet),
	}
	b.project = r.convBNAct(name(), expanded, c.out, 1, 1, 1, false)
	return b
}

func (b *mbConv) forward(x *ts.Tensor, train bool) *ts.Tensor {
	h := x
	if b.expand != nil {
		h = b.expand.forward(x, train)
	}
	d := b.depthwise.forward(h, train)
	if h != x {
		h.MustDrop()
	}
	s := b.se.forward(d)
	d.MustDrop()
	y := b.project.forward(s, train)
	s.MustDrop()
	if !b.residual {
		return y
	}
	if train && b.sdProb > 0 {
		y = stochasticDepthRow(y, b.sdProb)
	}
	y.MustAdd_(x)
	return y
}

// stochasticDepthRow is torchvision.ops.stochastic_depth(mode="row") in
// train mode: each sample's residual branch is kept with probability 1-p
// and scaled by 1/(1-p). It consumes y.
func stochasticDepthRow(y *ts.Tensor, p float64) *ts.Tensor {
	survival := 1 - p
	shape := y.MustSize()
	size := make([]int64, len(shape))
	for i := range size {
		size[i] = 1
	}
	size[0] = shape[0]
	noise := ts.MustEmpty(size, y.DType(), y.MustDevice())
	noise.MustBernoulliFloat_(survival)
	if survival > 0 {
		noise.MustDivScalar_(ts.FloatScalar(survival))
	}
	out := y.MustMul(noise, true)
	noise.MustDrop()
	return out
}

// EffNetB0 is torchvision's EfficientNet-B0 backbone ("features.*") with
// chara's head ("classifier.*", the PyTorch equivalent being
// nn.Sequential(Dropout(0.2), Linear(1280, 128), ReLU(), Dropout(0.2),
// Linear(128, N))).
type EffNetB0 struct {
	base
	backbone []layer // features.0 .. features.8 (per block), then pooling
	head     []layer
	blocks   []*mbConv
}

// newEffNetB0 builds EfficientNet-B0 for an input of h x w.
func newEffNetB0(classes int, device gotch.Device, h, w int64) (*EffNetB0, error) {
	r := newRegistry(device)
	m := &EffNetB0{base: base{reg: r, spec: Spec{
		Name: "effnet-b0", Classes: classes, Height: h, Width: w,
		Mean: ImageNetMean, Std: ImageNetStd,
	}}}
	withNoGrad(func() {
		f := effNetFeaturesPrefix
		stem := r.convBNAct(f+".0", 3, effNetB0Stages[0].in, 3, 2, 1, true)
		m.backbone = append(m.backbone, layer{f + ".0", "Conv2d 3x3/2 + BN + SiLU", stem.forward})
		blockID := 0
		for si, st := range effNetB0Stages {
			for j := int64(0); j < st.layers; j++ {
				c := st
				if j > 0 {
					c.in, c.stride = c.out, 1
				}
				sd := EffNetStochasticDepth * float64(blockID) / effNetTotalBlocks
				prefix := fmt.Sprintf("%s.%d.%d", f, si+1, j)
				b := r.mbConv(prefix, c, sd)
				m.blocks = append(m.blocks, b)
				kind := fmt.Sprintf("MBConv%d %dx%d/%d", c.expand, c.kernel, c.kernel, c.stride)
				m.backbone = append(m.backbone, layer{prefix, kind, b.forward})
				blockID++
			}
		}
		last := effNetB0Stages[len(effNetB0Stages)-1].out
		top := r.convBNAct(fmt.Sprintf("%s.%d", f, len(effNetB0Stages)+1), last, 4*last, 1, 1, 1, true)
		m.backbone = append(m.backbone,
			layer{fmt.Sprintf("%s.%d", f, len(effNetB0Stages)+1), "Conv2d 1x1 + BN + SiLU", top.forward},
			layer{"avgpool", "AdaptiveAvgPool2d 1 + Flatten", func(x *ts.Tensor, _ bool) *ts.Tensor {
				return x.MustAdaptiveAvgPool2d([]int64{1, 1}, false).MustFlatten(1, -1, true)
			}},
		)
		c := effNetClassifierPrefix
		fc1 := r.linear(c+".1", EffNetFeatures, EffNetHidden, initPyTorch)
		fc2 := r.linear(c+".4", EffNetHidden, int64(classes), initPyTorch)
		m.head = []layer{
			{c + ".0", "Dropout 0.2", dropoutT(EffNetDropout)},
			{c + ".1", "Linear + ReLU", func(x *ts.Tensor, _ bool) *ts.Tensor { return fc1.forward(x).MustRelu(true) }},
			{c + ".3", "Dropout 0.2", dropoutT(EffNetDropout)},
			{c + ".4", "Linear", func(x *ts.Tensor, _ bool) *ts.Tensor { return fc2.forward(x) }},
		}
	})
	if r.err != nil {
		return nil, fmt.Errorf("effnet-b0: %w", r.err)
	}
	m.layers = append(append([]layer(nil), m.backbone...), m.head...)
	return m, nil
}

// Backboned is a model with a pretrainable backbone and a small head, for
// training the head alone on cached features.
type Backboned interface {
	Model
	// Features returns the backbone's pooled features [N, FeatureSize()].
	Features(x *ts.Tensor, train bool) *ts.Tensor
	// HeadForwardT maps features to logits.
	HeadForwardT(features *ts.Tensor, train bool) *ts.Tensor
	// FeatureSize is the width of Features' output.
	FeatureSize() int64
	// SetBackboneTrainable turns gradient tracking of the backbone's
	// parameters on or off (the head always trains).
	SetBackboneTrainable(on bool) error
	// BackboneParameters and HeadParameters split Parameters().
	BackboneParameters() []Param
	HeadParameters() []Param
}

var _ Backboned = (*EffNetB0)(nil)

// Features implements Backboned.
func (m *EffNetB0) Features(x *ts.Tensor, train bool) *ts.Tensor {
	y := run(m.backbone, x, train, nil)
	runtime.KeepAlive(m.reg)
	return y
}

// HeadForwardT implements Backboned.
func (m *EffNetB0) HeadForwardT(features *ts.Tensor, train bool) *ts.Tensor {
	y := run(m.head, features, train, nil)
	runtime.KeepAlive(m.reg)
	return y
}

// FeatureSize implements Backboned.
func (m *EffNetB0) FeatureSize() int64 { return EffNetFeatures }

func (m *EffNetB0) isHead(name string) bool {
	return strings.HasPrefix(name, effNetClassifierPrefix+".")
}

// BackboneParameters implements Backboned.
func (m *EffNetB0) BackboneParameters() []Param {
	var out []Param
	for _, p := range m.reg.params {
		if !m.isHead(p.Name) {
			out = append(out, p)
		}
	}
	return out
}

// HeadParameters implements Backboned.
func (m *EffNetB0) HeadParameters() []Param {
	var out []Param
	for _, p := range m.reg.params {
		if m.isHead(p.Name) {
			out = append(out, p)
		}
	}
	return out
}

// SetBackboneTrainable implements Backboned. Adam skips parameters whose
// gradient is undefined, so an optimizer built over the whole VarStore
// leaves a backbone frozen from the start untouched, and trains it once
// unfrozen. Re-freezing after backbone steps is different: libtorch 1.13's
// zero_grad zeroes gradients instead of unsetting them, so Adam would keep
// moving the backbone with its stale moments; build a new optimizer then.
// In frozen mode also run the backbone with train=false so that its
// batch-norm statistics stay fixed.
func (m *EffNetB0) SetBackboneTrainable(on bool) error {
	for _, p := range m.BackboneParameters() {
		if err := p.Tensor.RequiresGrad_(on); err != nil {
			return fmt.Errorf("effnet-b0: set requires_grad of %s: %w", p.Name, err)
		}
	}
	return nil
}
