package train

import (
	"fmt"
	"math"
	"runtime"
	"sort"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"github.com/chara-dev/chara/train/torchrt"
)

// adam is torch.optim.Adam (the single-tensor algorithm of PyTorch 1.13 and
// libtorch's C++ Adam) kept in Go so that its state (step count and both
// moment estimates of every parameter) can be saved with a checkpoint and
// read back on --resume: gotch's optimizer keeps that state inside C++ and
// has no way to save it. Its arithmetic is the same as nn.AdamConfig's
// (betas, weight decay; eps 1e-8), checked against gotch's in the tests.
type adam struct {
	vs     *nn.VarStore // owns the parameters: kept alive with the optimizer
	cfg    *nn.AdamConfig
	lr     float64
	eps    float64
	step   int64
	params []adamParam
}

type adamParam struct {
	name string
	p    *ts.Tensor
	m, v *ts.Tensor
}

// namedParam is one trainable tensor of a VarStore. t is a copy of the
// VarStore's handle: valid only while the VarStore is reachable.
type namedParam struct {
	name string
	t    *ts.Tensor
}

// trainableParams lists the VarStore's tensors that require a gradient,
// sorted by name, keeping only those keep accepts (all when keep is nil).
// The tensors belong to the VarStore: keep it alive.
func trainableParams(vs *nn.VarStore, keep func(name string) bool) []namedParam {
	vars := vs.Variables()
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []namedParam
	for _, n := range names {
		if keep != nil && !keep(n) {
			continue
		}
		t := vars[n]
		if !t.MustRequiresGrad() {
			continue
		}
		tc := t
		out = append(out, namedParam{name: n, t: &tc})
	}
	return out
}

// newAdam builds Adam over params of vs with learning rate lr.
func newAdam(vs *nn.VarStore, cfg *nn.AdamConfig, lr float64, params []namedParam) (*adam, error) {
	a := &adam{vs: vs, cfg: cfg, lr: lr, eps: 1e-8}
	if err := a.add(params); err != nil {
		return nil, err
	}
	return a, nil
}

// add appends parameters (with fresh state) that are not there yet.
func (a *adam) add(params []namedParam) error {
	have := map[string]bool{}
	for _, p := range a.params {
		have[p.name] = true
	}
	for _, p := range params {
		if have[p.name] {
			continue
		}
		m, err := p.t.ZerosLike(false)
		if err != nil {
			return fmt.Errorf("adam state for %s: %w", p.name, err)
		}
		v, err := p.t.ZerosLike(false)
		if err != nil {
			m.MustDrop()
			return fmt.Errorf("adam state for %s: %w", p.name, err)
		}
		a.params = append(a.params, adamParam{name: p.name, p: p.t, m: m, v: v})
	}
	return nil
}

// zeroGrad zeroes the gradient of every parameter (also those outside the
// optimizer would keep theirs: only ours matter for the step).
func (a *adam) zeroGrad() error {
	for _, p := range a.params {
		g, err := p.p.Grad(false)
		if err != nil {
			return err
		}
		if ok, _ := g.Defined(); ok {
			if err := detachInPlace(g); err != nil {
				g.MustDrop()
				return err
			}
			if err := zeroInPlace(g); err != nil {
				g.MustDrop()
				return err
			}
		}
		g.MustDrop()
	}
	runtime.KeepAlive(a.vs)
	return nil
}

// stepOnce applies one Adam update from the current gradients. Call it on
// the torch thread.
func (a *adam) stepOnce() error {
	a.step++
	b1, b2 := a.cfg.Beta1, a.cfg.Beta2
	bc1 := 1 - math.Pow(b1, float64(a.step))
	bc2 := 1 - math.Pow(b2, float64(a.step))
	w1 := ts.FloatScalar(1 - b1)
	w2 := ts.FloatScalar(1 - b2)
	sq := ts.FloatScalar(math.Sqrt(bc2))
	eps := ts.FloatScalar(a.eps)
	size := ts.FloatScalar(a.lr / bc1)
	var wd *ts.Scalar
	if a.cfg.Wd != 0 {
		wd = ts.FloatScalar(a.cfg.Wd)
	}
	defer runtime.KeepAlive(a.vs)
	return torchrt.NoGrad(func() error {
		for i := range a.params {
			p := &a.params[i]
			if err := a.update(p, w1, w2, sq, eps, size, wd); err != nil {
				return fmt.Errorf("adam step, %s: %w", p.name, err)
			}
		}
		// The scalars' finalizers free their C memory: keep them until
		// every call that reads them has returned.
		runtime.KeepAlive([]*ts.Scalar{w1, w2, sq, eps, size, wd})
		return nil
	})
}

func (a *adam) update(p *adamParam, w1, w2, sq, eps, size, wd *ts.Scalar) error {
	g, err := p.p.Grad(false)
	if err != nil {
		return err
	}
	defer g.MustDrop()
	if ok, _ := g.Defined(); !ok {
		return nil // not used in this forward pass
	}
	if wd != nil {
		d, err := p.p.MulScalar(wd, false)
		if err != nil {
			return err
		}
		g2, err := d.Add(g, true)
		if err != nil {
			return err
		}
		defer g2.MustDrop()
		g = g2
	}
	// m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2. The new moments replace
	// the old tensors (no in-place op: see inplace.go).
	m, err := p.m.Lerp(g, w1, false)
	if err != nil {
		return err
	}
	p.m.MustDrop()
	p.m = m
	g2, err := g.Square(false)
	if err != nil {
		return err
	}
	v, err := p.v.Lerp(g2, w2, false)
	g2.MustDrop()
	if err != nil {
		return err
	}
	p.v.MustDrop()
	p.v = v
	// p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)
	den, err := v.Sqrt(false)
	if err != nil {
		return err
	}
	if den, err = den.DivScalar(sq, true); err != nil {
		return err
	}
	if den, err = den.AddScalar(eps, true); err != nil {
		return err
	}
	u, err := m.Div(den, false)
	den.MustDrop()
	if err != nil {
		return err
	}
	if u, err = u.MulScalar(size, true); err != nil {
		return err
	}
	err = subInPlace(p.p, u)
	u.MustDrop()
	return err
}

// state returns the moment tensors to save, named m.<param> and v.<param>.
func (a *adam) state() []ts.NamedTensor {
	out := make([]ts.NamedTensor, 0, 2*len(a.params))
	for _, p := range a.params {
		out = append(out, ts.NamedTensor{Name: "m." + p.name, Tensor: p.m}, ts.NamedTensor{Name: "v." + p.name, Tensor: p.v})
	}
	return out
}

// load copies saved moments into the state of the parameters present in
// both; every parameter of the optimizer must be in the file.
func (a *adam) load(named []ts.NamedTensor, step int64) error {
	byName := map[string]*ts.Tensor{}
	for _, n := range named {
		byName[n.Name] = n.Tensor
	}
	err := torchrt.NoGrad(func() error {
		for _, p := range a.params {
			for _, k := range []struct {
				key string
				dst *ts.Tensor
			}{{"m." + p.name, p.m}, {"v." + p.name, p.v}} {
				src, ok := byName[k.key]
				if !ok {
					return fmt.Errorf("optimizer state: missing %s", k.key)
				}
				if fmt.Sprint(src.MustSize()) != fmt.Sprint(k.dst.MustSize()) {
					return fmt.Errorf("optimizer state: %s has shape %v, want %v", k.key, src.MustSize(), k.dst.MustSize())
				}
				k.dst.Copy_(src)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	a.step = step
	return nil
}

// setLR changes the learning rate for later steps.
func (a *adam) setLR(lr float64) { a.lr = lr }

// drop frees the optimizer state.
func (a *adam) drop() {
	for _, p := range a.params {
		p.m.MustDrop()
		p.v.MustDrop()
	}
	a.params = nil
}
