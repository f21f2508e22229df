package torchrt

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"
)

// Tensors made on the torch thread (not the process's main thread) come
// from glibc's one main arena, as in a Python process, and a 64 MB tensor
// freed and made again is not a fresh mapping.
func TestMallocOneArenaOnTheTorchThread(t *testing.T) {
	if !MallocTuned() {
		t.Skip("the environment sets glibc malloc options")
	}
	th := NewThread(1)
	defer th.Close()
	err := th.Do(context.Background(), func() error {
		for i := 0; i < 3; i++ {
			x := ts.MustOnes([]int64{16 << 20}, gotch.Float, gotch.CPU)
			x.MustDrop()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := mallocHeaps(); n != 1 {
		t.Fatalf("%d malloc heaps after allocating on the torch thread, want 1 (main arena only)", n)
	}
	ReleaseMemory()
}

// A user's malloc settings are kept: with MALLOC_ARENA_MAX set, chara
// changes nothing.
func TestMallocEnvironmentWins(t *testing.T) {
	if os.Getenv("CHARA_MALLOC_CHILD") == "1" {
		if MallocTuned() {
			os.Exit(3)
		}
		os.Exit(0)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run", "^TestMallocEnvironmentWins$")
	cmd.Env = append(os.Environ(), "CHARA_MALLOC_CHILD=1", "MALLOC_ARENA_MAX=4")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child with MALLOC_ARENA_MAX=4 still tuned malloc: %v\n%s", err, strings.TrimSpace(string(out)))
	}
}
