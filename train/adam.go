package train

import (
	"fmt"
	"runtime"
	"sort"

	"github.com/sugarme/gotch/nn"
	"github.com/sugarme/gotch/ts"

	"github.com/chara-dev/chara/train/torchrt"
)

// adam is torch.optim.Adam (its multi-tensor form, foreach=True) with its
// state (step count and both moment estimates of every parameter) held in
// Go, so that it can be saved with a checkpoint and read back on --resume:
// gotch's optimizer keeps that state inside C++ and has no way to save it.
// Its arithmetic is the same as nn.AdamConfig's (betas, weight decay; eps
// 1e-8), checked against gotch's in the tests.
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

// zeroGrad drops the gradient of every parameter of the optimizer
// (zero_grad(set_to_none=True), PyTorch's default): the next backward pass
// writes fresh gradients instead of adding to zeroed ones.
func (a *adam) zeroGrad() error {
	ps := make([]*ts.Tensor, len(a.params))
	for i, p := range a.params {
		ps[i] = p.p
	}
	err := torchrt.GradSetNone(ps)
	runtime.KeepAlive(a.vs)
	return err
}

// stepOnce applies one Adam update from the current gradients (PyTorch's
// multi-tensor Adam, see torchrt.AdamStep). Call it on the torch thread.
func (a *adam) stepOnce() error {
	a.step++
	n := len(a.params)
	ps, ms, vs := make([]*ts.Tensor, n), make([]*ts.Tensor, n), make([]*ts.Tensor, n)
	for i, p := range a.params {
		ps[i], ms[i], vs[i] = p.p, p.m, p.v
	}
	err := torchrt.AdamStep(ps, ms, vs, torchrt.AdamConfig{
		LR: a.lr, Beta1: a.cfg.Beta1, Beta2: a.cfg.Beta2, Eps: a.eps, WeightDecay: a.cfg.Wd,
	}, a.step)
	runtime.KeepAlive(a.vs)
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
