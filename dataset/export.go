package dataset

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/internal/progress"
	"github.com/chara-dev/chara/manifests"
)

// LayoutImageFolder is OUT/<split>/<class slug>/<file>, the layout of
// Keras image_dataset_from_directory and torchvision ImageFolder. Both
// number classes by sorted folder name, which may differ from
// classes.json's labels; classes.json is copied to OUT for the mapping.
const LayoutImageFolder = "imagefolder"

// Errors of Export.
var (
	ErrLayout    = errors.New("unknown export layout (want imagefolder)")
	ErrOutExists = errors.New("export folder exists and is not empty")
)

// ExportOption configures Export.
type ExportOption func(*exportOptions)

type exportOptions struct {
	layout   string
	link     bool
	reporter progress.Reporter
}

// ExportLayout sets the layout (default LayoutImageFolder).
func ExportLayout(l string) ExportOption { return func(o *exportOptions) { o.layout = l } }

// ExportLink makes symbolic links to the dataset's images instead of copies.
func ExportLink(link bool) ExportOption { return func(o *exportOptions) { o.link = link } }

// ExportReporter reports progress.
func ExportReporter(r progress.Reporter) ExportOption {
	return func(o *exportOptions) {
		if r != nil {
			o.reporter = r
		}
	}
}

// Export writes the dataset in dir to out (which must not exist or be
// empty) in the layout, and returns how many files it wrote. The dataset
// is read with manifests.ReadDataset, so an inconsistent one is refused.
func Export(ctx context.Context, dir, out string, opts ...ExportOption) (int, error) {
	o := exportOptions{layout: LayoutImageFolder, reporter: progress.Nop()}
	for _, f := range opts {
		f(&o)
	}
	if o.layout != LayoutImageFolder {
		return 0, fmt.Errorf("%q: %w", o.layout, ErrLayout)
	}
	ds, err := manifests.ReadDataset(dir)
	if err != nil {
		return 0, err
	}
	if entries, err := os.ReadDir(out); err == nil && len(entries) > 0 {
		return 0, fmt.Errorf("%s: %w", out, ErrOutExists)
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return 0, err
	}
	total := 0
	for _, s := range manifests.Splits {
		total += len(ds.Rows[s])
	}
	task := o.reporter.Start("export", int64(total))
	defer task.Done()
	n := 0
	for _, s := range manifests.Splits {
		for _, r := range ds.Rows[s] {
			if err := ctx.Err(); err != nil {
				return n, err
			}
			slug := ds.Classes[r.Label].Slug
			src := filepath.Join(absDir, filepath.FromSlash(r.Path))
			dst := filepath.Join(out, string(s), slug, filepath.Base(r.Path))
			if o.link {
				if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
					return n, err
				}
				if err := os.Symlink(src, dst); err != nil {
					return n, err
				}
			} else if err := copyFile(src, dst); err != nil {
				return n, err
			}
			n++
			task.Add(1)
		}
	}
	b, err := os.ReadFile(manifests.ClassesPath(dir))
	if err != nil {
		return n, err
	}
	return n, atomicfile.WriteFile(manifests.ClassesPath(out), b, 0o644)
}

func copyFile(src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	return atomicfile.Write(dst, 0o644, func(w io.Writer) error {
		_, err := io.Copy(w, f)
		return err
	})
}
