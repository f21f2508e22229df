package dataset

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chara-dev/chara/internal/wspath"
	"github.com/chara-dev/chara/manifests"
)

// dataset build reads every kept image's raw file inside the workspace
// only and checks it against its decision's sha256: a file replaced after
// curation (also one already processed), a decision with a made-up sha256
// and a raw file that is a symbolic link to a file elsewhere are refused,
// naming the file.
func TestBuildVerifiesEverySourceFile(t *testing.T) {
	classes := []string{"Nakano Miku", "Nakano Nino"}
	setup := func(t *testing.T) *ws {
		w := newWS(t)
		w.add(classes[0], 10, "", 0)
		w.add(classes[1], 10, "", 0)
		return w
	}
	build := func(w *ws) error {
		_, err := Build(context.Background(), w.dir, "d", classes, WithWorkers(2), WithSize(60, 30), WithPerClass(8))
		return err
	}
	t.Run("replaced after a build", func(t *testing.T) {
		w := setup(t)
		if err := build(w); err != nil {
			t.Fatal(err)
		}
		d := w.decs[classes[0]][3]
		if err := os.WriteFile(filepath.Join(w.dir, d.File), w.tinyPNG(), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := build(w); !errors.Is(err, ErrSourceChanged) || !strings.Contains(err.Error(), d.File) {
			t.Errorf("replaced raw file: %v, want ErrSourceChanged naming %s", err, d.File)
		}
	})
	t.Run("made-up sha256", func(t *testing.T) {
		w := setup(t)
		d := &w.decs[classes[1]][0]
		d.SHA256 = strings.Repeat("ab", 32)
		w.flush(classes[1])
		if err := build(w); !errors.Is(err, ErrSourceChanged) {
			t.Errorf("made-up sha256: %v, want ErrSourceChanged", err)
		}
	})
	t.Run("symbolic link", func(t *testing.T) {
		w := setup(t)
		d := w.decs[classes[0]][0]
		p := filepath.Join(w.dir, d.File)
		outside := filepath.Join(t.TempDir(), "elsewhere.png")
		b, _ := os.ReadFile(p)
		os.WriteFile(outside, b, 0o644) // the same bytes: only the link is wrong
		os.Remove(p)
		if err := os.Symlink(outside, p); err != nil {
			t.Fatal(err)
		}
		if err := build(w); !errors.Is(err, wspath.ErrOutside) {
			t.Errorf("symlinked raw file: %v, want wspath.ErrOutside", err)
		}
		if _, err := os.Stat(manifests.DatasetDir(w.dir, "d")); err == nil {
			if _, err := manifests.ReadDataset(manifests.DatasetDir(w.dir, "d")); err == nil {
				t.Error("a dataset was written")
			}
		}
	})
}

// A rebuild removes the temp files that a killed build left in the
// dataset folder and its images/.
func TestBuildRemovesStaleTempFiles(t *testing.T) {
	w := newWS(t)
	w.add("Nakano Miku", 10, "", 0)
	w.add("Nakano Nino", 10, "", 0)
	w.build("d", []string{"Nakano Miku", "Nakano Nino"}, WithPerClass(8))
	dir := manifests.DatasetDir(w.dir, "d")
	stale := []string{filepath.Join(dir, ".train.csv.tmp-123"), filepath.Join(dir, "images", ".named.tmp-456")}
	for _, p := range stale {
		if err := os.WriteFile(p, []byte("partial"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w.build("d", []string{"Nakano Miku", "Nakano Nino"}, WithPerClass(8))
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s left: %v", p, err)
		}
	}
}
