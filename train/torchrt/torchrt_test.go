package torchrt

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

func TestRuntimeFacts(t *testing.T) {
	lockThread(t)
	v := RuntimeVersion()
	if v == "" {
		t.Fatalf("no TORCH_VERSION in libtorch's config:\n%s", Config())
	}
	cv := CompiledVersion()
	if !strings.HasPrefix(v, cv[:strings.LastIndexByte(cv, '.')]) {
		t.Errorf("runtime libtorch %s, headers %s", v, cv)
	}
	if NumThreads() < 1 {
		t.Errorf("threads %d", NumThreads())
	}
	if !CUDAAvailable() && CUDADeviceCount() != 0 {
		t.Errorf("no CUDA but %d devices", CUDADeviceCount())
	}
}

func TestManualSeedRepeats(t *testing.T) {
	lockThread(t)
	draw := func() []float64 {
		ManualSeed(7)
		x := ts.MustRandn([]int64{5}, gotch.Float, gotch.CPU)
		defer x.MustDrop()
		return x.Float64Values()
	}
	a, b := draw(), draw()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("same seed, different draws: %v vs %v", a, b)
		}
	}
	ManualSeed(8)
	c := ts.MustRandn([]int64{5}, gotch.Float, gotch.CPU)
	defer c.MustDrop()
	if c.Float64Values()[0] == a[0] {
		t.Fatal("different seeds, same draw")
	}
}

func TestThreadRunsOnOneOSThreadAndRecoversPanics(t *testing.T) {
	th := NewThread(1)
	defer th.Close()
	ctx := context.Background()
	var n int
	if err := th.Do(ctx, func() error { n = NumThreads(); return nil }); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("threads on the locked thread: %d, want 1", n)
	}
	err := th.Do(ctx, func() error { panic("boom") })
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "boom" {
		t.Fatalf("err %v", err)
	}
	// The thread survives a panic.
	if err := th.Do(ctx, func() error { return nil }); err != nil {
		t.Fatal(err)
	}
	th.Close()
	if err := th.Do(ctx, func() error { return nil }); !errors.Is(err, ErrThreadClosed) {
		t.Fatalf("after close: %v", err)
	}
}

func TestNoGradRestoresAfterPanic(t *testing.T) {
	// Grad mode is per OS thread in libtorch.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	SetGradEnabled(true)
	func() {
		defer func() { recover() }()
		NoGrad(func() error { panic("x") })
	}()
	if !SetGradEnabled(true) {
		t.Fatal("gradients left disabled after a panic inside NoGrad")
	}
}

// The CPU build must not depend on any CUDA library: gotch's lib.go links
// CUDA names that our stub archives satisfy.
func TestCPUBinaryNeedsNoCUDA(t *testing.T) {
	if CUDAAvailable() {
		t.Skip("a CUDA build")
	}
	if _, err := exec.LookPath("readelf"); err != nil {
		t.Skip("readelf not installed")
	}
	out, err := exec.Command("readelf", "-d", os.Args[0]).CombinedOutput()
	if err != nil {
		t.Fatalf("readelf: %v\n%s", err, out)
	}
	needed := 0
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.Contains(line, "(NEEDED)") {
			continue
		}
		needed++
		low := strings.ToLower(line)
		for _, bad := range []string{"cuda", "cudnn", "cublas", "nvrtc", "nvtoolsext"} {
			if strings.Contains(low, bad) {
				t.Errorf("CPU binary needs a CUDA library: %s", strings.TrimSpace(line))
			}
		}
	}
	if needed == 0 || !strings.Contains(string(out), "libtorch_cpu") {
		t.Errorf("unexpected dynamic section (no libtorch_cpu?):\n%s", out)
	}
	if runtime.GOOS != "linux" {
		t.Skip("linux only")
	}
}

func TestAutocastBF16RestoresState(t *testing.T) {
	lockThread(t)
	if AutocastEnabled() {
		t.Fatal("autocast on before the test")
	}
	var inside bool
	if err := AutocastBF16(func() error { inside = AutocastEnabled(); return nil }); err != nil {
		t.Fatal(err)
	}
	if !inside {
		t.Error("autocast off inside AutocastBF16")
	}
	if AutocastEnabled() {
		t.Error("autocast left on after AutocastBF16")
	}
	func() {
		defer func() { recover() }()
		AutocastBF16(func() error { panic("x") })
	}()
	if AutocastEnabled() {
		t.Error("autocast left on after a panic")
	}
}
