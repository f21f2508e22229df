package models

import (
	"bytes"
	"errors"
	"math"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/chara-dev/chara/train/torchrt"
)

// lockThread keeps a test's libtorch work on one OS thread (grad mode is
// per thread).
func lockThread(t *testing.T) {
	runtime.LockOSThread()
	t.Cleanup(runtime.UnlockOSThread)
}

func paramCounts(layers []Layer) []int64 {
	var out []int64
	for _, l := range layers {
		if l.Params > 0 {
			out = append(out, l.Params)
		}
	}
	return out
}

func newModel(t *testing.T, name string, classes int, opts ...Option) Model {
	t.Helper()
	m, err := New(name, classes, gotch.CPU, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCNNParameterCounts(t *testing.T) {
	lockThread(t)
	for _, n := range []int{2, 15} {
		n64 := int64(n)
		for _, tc := range []struct {
			name string
			want []int64
		}{
			{"cnn", []int64{280, 910, 195550, 51 * n64}},
			{"cnn2", []int64{420, 2040, 293300, 2550, 2550, 51 * n64}},
		} {
			m := newModel(t, tc.name, n)
			layers := Summary(m)
			if got := paramCounts(layers); !slices.Equal(got, tc.want) {
				t.Errorf("%s N=%d: parameter counts %v, want %v", tc.name, n, got, tc.want)
			}
			var sum int64
			for _, v := range tc.want {
				sum += v
			}
			total, trainable := Totals(layers)
			if total != sum || trainable != sum {
				t.Errorf("%s: totals %d/%d, want %d", tc.name, total, trainable, sum)
			}
			// The VarStore holds exactly these parameters.
			var vsTotal int64
			for _, x := range m.VarStore().Variables() {
				vsTotal += int64(x.Numel())
			}
			if vsTotal != sum {
				t.Errorf("%s: VarStore holds %d values, want %d", tc.name, vsTotal, sum)
			}
			last := layers[len(layers)-1]
			if !slices.Equal(last.Output, []int64{n64}) {
				t.Errorf("%s: output shape %v", tc.name, last.Output)
			}
			for _, l := range layers {
				if l.Name == "flatten" {
					want := int64(10 * 23 * 17)
					if tc.name == "cnn2" {
						want = 15 * 23 * 17
					}
					if !slices.Equal(l.Output, []int64{want}) {
						t.Errorf("%s: flatten %v, want %d", tc.name, l.Output, want)
					}
				}
			}
		}
	}
}

func TestNewRejects(t *testing.T) {
	lockThread(t)
	if _, err := New("resnet", 3, gotch.CPU); !errors.Is(err, ErrUnknownModel) {
		t.Errorf("unknown model: %v", err)
	}
	if _, err := New("cnn", 1, gotch.CPU); err == nil {
		t.Error("1 class accepted")
	}
	if _, err := New("cnn", 3, gotch.CPU, WithInputSize(64, 64)); !errors.Is(err, ErrInputSize) {
		t.Errorf("cnn at 64x64: %v", err)
	}
	if _, err := New("cnn2", 3, gotch.CPU, WithInputSize(100, 75)); err != nil {
		t.Errorf("cnn2 at its own size: %v", err)
	}
}

func TestCNNForwardAndDropout(t *testing.T) {
	lockThread(t)
	torchrt.ManualSeed(1)
	for _, name := range []string{"cnn", "cnn2"} {
		m := newModel(t, name, 4)
		x := ts.MustRandn([]int64{3, 3, 100, 75}, gotch.Float, gotch.CPU)
		var evalA, evalB, trainA, trainB []float64
		torchrt.NoGrad(func() error {
			for _, dst := range []*[]float64{&evalA, &evalB} {
				y := m.ForwardT(x, false)
				if got := y.MustSize(); !slices.Equal(got, []int64{3, 4}) {
					t.Fatalf("%s: logits %v", name, got)
				}
				*dst = y.Float64Values()
				y.MustDrop()
			}
			for _, dst := range []*[]float64{&trainA, &trainB} {
				y := m.ForwardT(x, true)
				*dst = y.Float64Values()
				y.MustDrop()
			}
			return nil
		})
		for i := range evalA {
			if evalA[i] != evalB[i] {
				t.Fatalf("%s: eval mode not deterministic", name)
			}
		}
		same := true
		for i := range trainA {
			if trainA[i] != trainB[i] {
				same = false
			}
		}
		// cnn has no dropout: train and eval agree; cnn2's dropout makes
		// two train passes differ.
		if name == "cnn" {
			for i := range trainA {
				if math.Abs(trainA[i]-evalA[i]) > 1e-6 {
					t.Fatalf("cnn: train %v vs eval %v", trainA, evalA)
				}
			}
		} else if same {
			t.Errorf("cnn2: dropout had no effect in train mode")
		}
		x.MustDrop()
		runtime.KeepAlive(m)
	}
}

func TestCNN2L2Penalty(t *testing.T) {
	lockThread(t)
	m := newModel(t, "cnn2", 3)
	r, ok := m.(Regularized)
	if !ok {
		t.Fatal("cnn2 is not Regularized")
	}
	if _, ok := newModel(t, "cnn", 3).(Regularized); ok {
		t.Error("cnn claims an L2 penalty")
	}
	want := 0.0
	vars := m.VarStore().Variables()
	names := r.L2Params()
	if strings.Join(names, ",") != "fc1.weight,fc2.weight,fc3.weight" {
		t.Errorf("L2 params %v", names)
	}
	for _, n := range names {
		x, ok := vars[n]
		if !ok {
			t.Fatalf("no %s", n)
		}
		for _, v := range x.Float64Values() {
			want += v * v
		}
	}
	want *= r.L2Coefficient()
	p := r.L2Penalty()
	got := p.Float64Values()[0]
	if math.Abs(got-want) > 1e-5*want {
		t.Errorf("penalty %g, want %g", got, want)
	}
	// It is differentiable: its gradient reaches fc1's weight as 2*l2*w.
	p.MustBackward()
	p.MustDrop()
	w := vars["fc1.weight"]
	g := w.MustGrad(false)
	gv, wv := g.Float64Values(), w.Float64Values()
	for i := 0; i < 10; i++ {
		if math.Abs(gv[i]-2*r.L2Coefficient()*wv[i]) > 1e-7 {
			t.Fatalf("grad %g, want %g", gv[i], 2*r.L2Coefficient()*wv[i])
		}
	}
	g.MustDrop()
	runtime.KeepAlive(m)
}

func TestWriteSummary(t *testing.T) {
	lockThread(t)
	m := newModel(t, "cnn", 15)
	var b bytes.Buffer
	if err := WriteSummary(&b, "cnn", m.Spec(), Summary(m)); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"195,550", "(None, 10, 98, 73)", "(None, 3910)", "Total params: 197,505", "Non-trainable params: 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("summary lacks %q:\n%s", want, out)
		}
	}
	if commas(1234567) != "1,234,567" || commas(999) != "999" || commas(-1000) != "-1,000" {
		t.Errorf("commas: %s %s %s", commas(1234567), commas(999), commas(-1000))
	}
}
