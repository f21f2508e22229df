package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/wslock"
	"github.com/chara-dev/chara/manifests"
)

// While one writer holds the workspace, every other writing command fails
// at once naming its PID, and read-only commands run without waiting.
func TestOneWriterPerWorkspace(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "ws")
	if code, _, errs := charaIn(context.Background(), ws, "init"); code != 0 {
		t.Fatalf("init: exit %d: %s", code, errs)
	}
	l, err := wslock.Acquire(manifests.LockPath(ws), "scrape")
	if err != nil {
		t.Fatal(err)
	}
	pid := "pid " + strconv.Itoa(os.Getpid())
	for _, args := range []string{"scrape", "curate", "dataset build", "train --model cnn", "run", "classes add Someone", "init --force"} {
		start := time.Now()
		code, _, errs := charaIn(context.Background(), ws, strings.Fields(args)...)
		if code != 1 || !strings.Contains(errs, pid) || !strings.Contains(errs, `"chara scrape"`) {
			t.Errorf("%s while scrape holds the workspace: exit %d: %s", args, code, errs)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s waited %v", args, d)
		}
	}
	for _, args := range []string{"classes list", "doctor"} {
		if code, _, errs := charaIn(context.Background(), ws, strings.Fields(args)...); strings.Contains(errs, "in use") {
			t.Errorf("read-only %s refused: exit %d: %s", args, code, errs)
		}
	}
	l.Release()
	if code, _, errs := charaIn(context.Background(), ws, "classes", "add", "Someone Else"); code != 0 {
		t.Errorf("classes add after the lock was released: exit %d: %s", code, errs)
	}
}
