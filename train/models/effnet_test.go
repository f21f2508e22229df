package models

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/chara-dev/chara/internal/testutil"
	"github.com/chara-dev/chara/train/torchrt"
)

// torchvision's efficientnet_b0 has 5,288,548 parameters, of which its
// classifier (Linear 1280 -> 1000) holds 1,281,000.
const effNetBackboneParams = 5288548 - 1281000

func TestEffNetParameterCounts(t *testing.T) {
	lockThread(t)
	for _, n := range []int64{2, 15} {
		m := newModel(t, "effnet-b0", int(n), WithInputSize(64, 48)).(*EffNetB0)
		var backbone, head int64
		for _, p := range m.BackboneParameters() {
			backbone += int64(p.Tensor.Numel())
		}
		for _, p := range m.HeadParameters() {
			head += int64(p.Tensor.Numel())
		}
		if backbone != effNetBackboneParams {
			t.Errorf("backbone %d parameters, want %d", backbone, effNetBackboneParams)
		}
		if want := 163968 + 129*n; head != want {
			t.Errorf("N=%d: head %d parameters, want %d", n, head, want)
		}
		layers := Summary(m)
		total, trainable := Totals(layers)
		if total != backbone+head || trainable != total {
			t.Errorf("summary totals %d/%d, want %d", total, trainable, backbone+head)
		}
		byName := map[string]Layer{}
		for _, l := range layers {
			byName[l.Name] = l
		}
		// 64x48 -> stem /2 -> ... -> /32 = 2x2 before pooling.
		for name, want := range map[string][]int64{
			"features.0":   {32, 32, 24},
			"features.1.0": {16, 32, 24},
			"features.2.0": {24, 16, 12},
			"features.6.3": {192, 2, 2},
			"features.8":   {1280, 2, 2},
			"avgpool":      {1280},
			"classifier.1": {128},
			"classifier.4": {n},
		} {
			if got := byName[name].Output; !slices.Equal(got, want) {
				t.Errorf("%s output %v, want %v", name, got, want)
			}
		}
		if got := byName["classifier.1"].Params; got != 1280*128+128 {
			t.Errorf("classifier.1 params %d", got)
		}
		if got := byName["features.0"].Params; got != 32*27+64 {
			t.Errorf("stem params %d", got)
		}
		if len(layers) != 1+16+2+4 {
			t.Errorf("%d summary rows", len(layers))
		}
		runtime.KeepAlive(m)
	}
}

func TestEffNetFreezeAndDefaultSize(t *testing.T) {
	lockThread(t)
	m := newModel(t, "effnet-b0", 3).(*EffNetB0)
	if s := m.Spec(); s.Height != 300 || s.Width != 150 {
		t.Errorf("default input %dx%d", s.Height, s.Width)
	}
	if err := m.SetBackboneTrainable(false); err != nil {
		t.Fatal(err)
	}
	layers := Summary(m)
	total, trainable := Totals(layers)
	if trainable != 163968+129*3 || total != effNetBackboneParams+trainable {
		t.Errorf("frozen: %d trainable of %d", trainable, total)
	}
	if got := layers[len(layers)-1].Output; !slices.Equal(got, []int64{3}) {
		t.Errorf("logits %v", got)
	}
	// A step on the frozen model gives the backbone no gradient.
	torchrt.ManualSeed(3)
	x := ts.MustRandn([]int64{2, 3, 64, 48}, gotch.Float, gotch.CPU)
	y := m.ForwardT(x, true)
	loss := y.MustSum(gotch.Float, true)
	loss.MustBackward()
	loss.MustDrop()
	g := m.BackboneParameters()[0].Tensor.MustGrad(false)
	if g.MustDefined() {
		t.Error("frozen backbone got a gradient")
	}
	g.MustDrop()
	hg := m.HeadParameters()[0].Tensor.MustGrad(false)
	if !hg.MustDefined() {
		t.Error("head got no gradient")
	}
	hg.MustDrop()
	if err := m.SetBackboneTrainable(true); err != nil {
		t.Fatal(err)
	}
	if _, tr := Totals(Summary(m)); tr != total {
		t.Errorf("unfrozen: %d trainable of %d", tr, total)
	}
	// Features then HeadForwardT equals ForwardT in eval mode.
	var direct, split []float64
	torchrt.NoGrad(func() error {
		a := m.ForwardT(x, false)
		direct = a.Float64Values()
		a.MustDrop()
		f := m.Features(x, false)
		if got := f.MustSize(); !slices.Equal(got, []int64{2, 1280}) {
			t.Fatalf("features %v", got)
		}
		b := m.HeadForwardT(f, false)
		split = b.Float64Values()
		b.MustDrop()
		f.MustDrop()
		return nil
	})
	for i := range direct {
		if direct[i] != split[i] {
			t.Fatalf("ForwardT %v != HeadForwardT(Features) %v", direct, split)
		}
	}
	x.MustDrop()
	runtime.KeepAlive(m)
}

// Stochastic depth in train mode: block i's residual branch survives with
// probability 1 - 0.2*i/16, per sample; eval mode never drops it.
func TestStochasticDepthRow(t *testing.T) {
	lockThread(t)
	torchrt.ManualSeed(5)
	const n = 4000
	y := ts.MustOnes([]int64{n, 2, 1, 1}, gotch.Float, gotch.CPU)
	out := stochasticDepthRow(y, 0.2)
	v := out.Float64Values()
	out.MustDrop()
	kept := 0
	for i := 0; i < n; i++ {
		a, b := v[2*i], v[2*i+1]
		if a != b {
			t.Fatalf("row %d: not dropped as a whole (%g, %g)", i, a, b)
		}
		switch {
		case a == 0:
		case math.Abs(a-1/0.8) < 1e-6:
			kept++
		default:
			t.Fatalf("row %d: value %g", i, a)
		}
	}
	if f := float64(kept) / n; math.Abs(f-0.8) > 0.03 {
		t.Errorf("kept %.3f of rows, want 0.8", f)
	}
	m := newModel(t, "effnet-b0", 2, WithInputSize(32, 32)).(*EffNetB0)
	if len(m.blocks) != effNetTotalBlocks {
		t.Fatalf("%d blocks", len(m.blocks))
	}
	residual := 0
	for i, b := range m.blocks {
		if want := 0.2 * float64(i) / 16; math.Abs(b.sdProb-want) > 1e-12 {
			t.Errorf("block %d: drop rate %g, want %g", i, b.sdProb, want)
		}
		if b.residual {
			residual++
		}
	}
	if residual != 9 {
		t.Errorf("%d residual blocks, want 9", residual)
	}
	runtime.KeepAlive(m)
}

var (
	parityOnce sync.Once
	parityDir  string
	parityErr  error
)

// parityData runs testdata/effnet_parity.py once per test binary.
func parityData(t *testing.T) string {
	t.Helper()
	py := testutil.TorchPython()
	if py == "" {
		t.Skip("no python3 with torchvision (python3 -c 'import torchvision' fails; apt-get install python3-torchvision, or set CHARA_PYTHON)")
	}
	parityOnce.Do(func() {
		dir, err := os.MkdirTemp("", "chara-parity-")
		if err != nil {
			parityErr = err
			return
		}
		parityDir = dir
		out, err := exec.Command(py, filepath.Join("testdata", "effnet_parity.py"), dir).CombinedOutput()
		if err != nil {
			parityErr = errors.New(string(out) + err.Error())
		}
	})
	if parityErr != nil {
		t.Fatalf("effnet_parity.py: %v", parityErr)
	}
	return parityDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if parityDir != "" {
		os.RemoveAll(parityDir)
	}
	os.Exit(code)
}

func readF32(t *testing.T, path string, n int) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 4*n {
		t.Fatalf("%s: %d bytes, want %d", path, len(b), 4*n)
	}
	v := make([]float32, n)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

func TestTorchvisionParity(t *testing.T) {
	dir := parityData(t)
	lockThread(t)
	var meta struct{ Input, Features []int64 }
	b, err := os.ReadFile(filepath.Join(dir, "meta.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		t.Fatal(err)
	}
	prod := func(s []int64) int {
		n := 1
		for _, d := range s {
			n *= int(d)
		}
		return n
	}
	in := readF32(t, filepath.Join(dir, "input.f32"), prod(meta.Input))
	want := readF32(t, filepath.Join(dir, "features.f32"), prod(meta.Features))

	m := newModel(t, "effnet-b0", 5, WithInputSize(int(meta.Input[2]), int(meta.Input[3]))).(*EffNetB0)
	headBefore := m.HeadParameters()[0].Tensor.Float64Values()
	if err := LoadTorchvisionWeights(m, filepath.Join(dir, "effnet_b0.pth")); err != nil {
		t.Fatal(err)
	}
	x := ts.MustOfSlice(in).MustView(meta.Input, true)
	defer x.MustDrop()
	var got []float64
	torchrt.NoGrad(func() error {
		f := m.Features(x, false)
		if s := f.MustSize(); !slices.Equal(s, meta.Features) {
			t.Fatalf("features %v, want %v", s, meta.Features)
		}
		got = f.Float64Values()
		f.MustDrop()
		return nil
	})
	maxDiff := 0.0
	for i := range want {
		if d := math.Abs(got[i] - float64(want[i])); d > maxDiff || math.IsNaN(d) {
			maxDiff = d
		}
	}
	t.Logf("max abs diff vs torchvision: %.3g", maxDiff)
	if !(maxDiff <= 1e-4) {
		t.Errorf("features differ from torchvision by %.3g (> 1e-4)", maxDiff)
	}
	// The head kept its own initialisation.
	headAfter := m.HeadParameters()[0].Tensor.Float64Values()
	for i := range headBefore {
		if headBefore[i] != headAfter[i] {
			t.Fatal("loading torchvision weights changed the head")
		}
	}
	runtime.KeepAlive(m)
}

func TestLoadTorchvisionWeightsRejects(t *testing.T) {
	dir := parityData(t)
	lockThread(t)
	m := newModel(t, "effnet-b0", 3, WithInputSize(32, 32)).(*EffNetB0)
	stem := m.BackboneParameters()[0].Tensor
	before := stem.Float64Values()
	for file, want := range map[string]string{
		"bad_missing.pth":    "1 missing: features.3.1.block.2.fc1.bias",
		"bad_unexpected.pth": "1 unexpected: features.9.0.weight",
		"bad_shape.pth":      "1 misshapen: features.0.0.weight: file [32 3 5 5], model [32 3 3 3]",
	} {
		path := filepath.Join(dir, file)
		err := LoadTorchvisionWeights(m, path)
		var we *WeightsError
		if !errors.As(err, &we) || !errors.Is(err, ErrWeights) {
			t.Fatalf("%s: %v", file, err)
		}
		if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: error %q lacks %q", file, err, want)
		}
	}
	after := stem.Float64Values()
	for i := range before {
		if before[i] != after[i] {
			t.Fatal("a rejected file changed the model")
		}
	}
	// Not a checkpoint at all; a missing file; the wrong model.
	junk := filepath.Join(t.TempDir(), "junk.pth")
	os.WriteFile(junk, []byte("not a checkpoint"), 0o644)
	if err := LoadTorchvisionWeights(m, junk); err == nil || !strings.Contains(err.Error(), junk) {
		t.Errorf("junk file: %v", err)
	}
	if err := LoadTorchvisionWeights(m, filepath.Join(dir, "nope.pth")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	cnn := newModel(t, "cnn", 3)
	if err := LoadTorchvisionWeights(cnn, filepath.Join(dir, "effnet_b0.pth")); !errors.Is(err, ErrWeights) {
		t.Errorf("cnn: %v", err)
	}
	runtime.KeepAlive(m)
}

// A train-mode step through the whole network (batch-norm batch
// statistics, stochastic depth, in-place residual adds) gives every
// parameter a finite gradient and moves the running statistics.
func TestEffNetTrainBackward(t *testing.T) {
	lockThread(t)
	torchrt.ManualSeed(11)
	m := newModel(t, "effnet-b0", 3, WithInputSize(64, 48)).(*EffNetB0)
	mean := m.Buffers()[0]
	if !strings.HasSuffix(mean.Name, "running_mean") {
		t.Fatalf("first buffer %s", mean.Name)
	}
	x := ts.MustRandn([]int64{4, 3, 64, 48}, gotch.Float, gotch.CPU)
	y := m.ForwardT(x, true)
	loss := y.MustSum(gotch.Float, true)
	loss.MustBackward()
	loss.MustDrop()
	x.MustDrop()
	for _, p := range m.Parameters() {
		g := p.Tensor.MustGrad(false)
		if !g.MustDefined() {
			t.Fatalf("%s: no gradient", p.Name)
		}
		s := g.MustAbs(false).MustSum(gotch.Float, true)
		v := s.Float64Values()[0]
		s.MustDrop()
		g.MustDrop()
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("%s: gradient %g", p.Name, v)
		}
	}
	moved := false
	for _, v := range mean.Tensor.Float64Values() {
		if v != 0 {
			moved = true
		}
	}
	if !moved {
		t.Error("train mode left running_mean at 0")
	}
	runtime.KeepAlive(m)
}
