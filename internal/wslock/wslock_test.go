package wslock

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSecondWriterFailsNamingTheHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".chara", "lock")
	l, err := Acquire(path, "scrape")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Acquire(path, "curate")
	var he *HeldError
	if !errors.As(err, &he) || !errors.Is(err, ErrLocked) {
		t.Fatalf("second Acquire: %v, want a HeldError", err)
	}
	if time.Since(start) > time.Second {
		t.Errorf("second Acquire waited %v", time.Since(start))
	}
	if he.Holder.PID != os.Getpid() || he.Holder.Command != "scrape" ||
		!strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) || !strings.Contains(err.Error(), `"chara scrape"`) {
		t.Errorf("error %q, holder %+v", err, he.Holder)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	l2, err := Acquire(path, "curate")
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	defer l2.Release()
	if h, err := ReadHolder(path); err != nil || h.Command != "curate" {
		t.Errorf("holder after the second take: %+v %v", h, err)
	}
	// Another workspace is another lock.
	l3, err := Acquire(filepath.Join(t.TempDir(), ".chara", "lock"), "scrape")
	if err != nil {
		t.Fatalf("another workspace: %v", err)
	}
	l3.Release()
}

// TestHoldChild holds the lock named by WSLOCK_CHILD until killed.
func TestHoldChild(t *testing.T) {
	path := os.Getenv("WSLOCK_CHILD")
	if path == "" {
		t.Skip("run by TestKilledHolderReleases")
	}
	if _, err := Acquire(path, "train"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path+".ready", nil, 0o644)
	time.Sleep(time.Minute)
}

// A lock held by another process is refused with that process's PID, and
// is free again as soon as that process is killed.
func TestKilledHolderReleases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	c := exec.Command(os.Args[0], "-test.run=^TestHoldChild$")
	c.Env = append(os.Environ(), "WSLOCK_CHILD="+path)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		if _, err := os.Stat(path + ".ready"); err == nil {
			break
		}
		if i > 500 {
			c.Process.Kill()
			t.Fatal("child never took the lock")
		}
		time.Sleep(10 * time.Millisecond)
	}
	var he *HeldError
	if _, err := Acquire(path, "scrape"); !errors.As(err, &he) || he.Holder.PID != c.Process.Pid {
		t.Errorf("while the child holds it: %v, want the child's pid %d", err, c.Process.Pid)
	}
	c.Process.Kill()
	c.Wait()
	l, err := Acquire(path, "scrape")
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	l.Release()
}
