package curate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/internal/imageio"
	"github.com/chara-dev/chara/internal/plural"
	"github.com/chara-dev/chara/manifests"
)

// SourceLocal is the raw index source of imported files.
const SourceLocal = "local"

var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".jpe": true, ".png": true, ".gif": true,
	".webp": true, ".bmp": true, ".tif": true, ".tiff": true, ".avif": true, ".heic": true, ".jxl": true}

// Import copies the images under dir (walked recursively) into
// raw/<class-slug>/<sha256>.<ext> and appends them to the class's raw index
// with source "local", so that curation treats them like scraped files.
// Files already in the index (same bytes) are skipped; files that are
// neither sniffed as images nor named like one are ignored. Each file is
// written atomically before its index line is appended. It returns how many
// files were added.
func Import(ctx context.Context, workspace, class, dir string, opts ...Option) (n int, err error) {
	s, err := newSettings(opts)
	if err != nil {
		return 0, err
	}
	slug, err := manifests.Slug(class)
	if err != nil {
		return 0, err
	}
	st, err := os.Stat(dir)
	if err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	if !st.IsDir() {
		return 0, fmt.Errorf("import: %s is not a directory", dir)
	}
	indexPath := manifests.RawIndexPath(workspace, slug)
	recs, err := manifests.ReadRawIndex(indexPath)
	if err != nil {
		return 0, err
	}
	have := map[string]bool{}
	for _, r := range recs {
		have[r.SHA256] = true
	}
	rawDir := manifests.RawDir(workspace, slug)
	absRaw, _ := filepath.Abs(rawDir)
	// Temp files of an import or scrape a kill interrupted. (A file a kill
	// left without its index line is written again below: its sha256 is
	// not in the index.)
	if _, err := atomicfile.CleanTemp(rawDir); err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	task := s.reporter.Start("import "+class, 0)
	defer task.Done()
	skipped := 0
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, werr error) error {
		if werr != nil {
			return werr
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if abs, _ := filepath.Abs(path); abs == absRaw {
				return filepath.SkipDir // importing a workspace into itself
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("import: %w", err)
		}
		f := imageio.Sniff(b)
		ext := strings.ToLower(filepath.Ext(path))
		if f == "" && !imageExts[ext] {
			skipped++
			return nil
		}
		sum := sha256.Sum256(b)
		sha := hex.EncodeToString(sum[:])
		if have[sha] {
			skipped++
			return nil
		}
		if f != "" {
			ext = f.Ext()
		}
		name := sha + ext
		if err := atomicfile.WriteFile(filepath.Join(rawDir, name), b, 0o644); err != nil {
			return err
		}
		rec := manifests.RawRecord{SHA256: sha, File: name, Source: SourceLocal, FetchedAt: s.now().UTC()}
		if abs, err := filepath.Abs(path); err == nil {
			rec.URL = "file://" + filepath.ToSlash(abs)
		}
		if info, err := imageio.DecodeConfig(b, imageio.WithMaxPixels(1<<62)); err == nil {
			rec.Width, rec.Height = info.Width, info.Height
		}
		if err := manifests.AppendRawIndex(indexPath, rec); err != nil {
			return err
		}
		have[sha] = true
		n++
		task.Add(1)
		return nil
	})
	if skipped > 0 {
		s.reporter.Logf("import %s: %s skipped (already imported or not images)", class, plural.Of(skipped, "file", "files"))
	}
	return n, err
}
