package scrape

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/manifests"
)

// CollectSummary is what Collect did.
type CollectSummary struct {
	Workspaces int            `json:"workspaces" doc:"workspaces read (this one left out)"`
	Added      int            `json:"added" doc:"files copied in"`
	Duplicates int            `json:"duplicates" doc:"files this workspace had already (same sha256)"`
	Corrupt    []string       `json:"corrupt,omitempty" doc:"files skipped: content not matching their sha256"`
	PerClass   map[string]int `json:"per_class" doc:"files added per class slug"`
	Archive    int            `json:"archive" doc:"other archive entries merged"`
}

// Collect merges the raw files of workspaces from (the workers of a shared
// crawl) into the workspace into: every file whose content matches its
// sha256 is copied into raw/<slug>/, its index record (source, post id,
// url, md5, size, rating, tags, fetch time) appended, and its post, md5 and
// sha256 recorded in into's archive; the other archive entries of each
// workspace (duplicates, filtered files, curation verdicts) are merged too,
// existing entries winning. A file already in into (same sha256) is not
// copied again, so Collect can be rerun. A file whose content does not
// match its name is skipped and reported. Each file lands before its index
// line and its archive entry, as a scrape writes them.
func Collect(ctx context.Context, into string, from []string) (*CollectSummary, error) {
	sum := &CollectSummary{PerClass: map[string]int{}}
	if err := os.MkdirAll(into, 0o755); err != nil {
		return sum, fmt.Errorf("workspace %s: %w", into, err)
	}
	arc, err := OpenArchive(ArchivePath(into))
	if err != nil {
		return sum, err
	}
	defer arc.Close()
	self, _ := filepath.Abs(into)
	have := map[string]map[string]bool{} // slug -> sha256 in into
	for _, ws := range from {
		if abs, _ := filepath.Abs(ws); abs == self {
			continue
		}
		if _, err := os.Stat(ws); err != nil {
			return sum, fmt.Errorf("workspace %s: %w", ws, err)
		}
		sum.Workspaces++
		slugs, err := rawSlugs(ws)
		if err != nil {
			return sum, err
		}
		for _, slug := range slugs {
			if err := ctx.Err(); err != nil {
				return sum, err
			}
			if have[slug] == nil {
				recs, err := manifests.ReadRawIndex(manifests.RawIndexPath(into, slug))
				if err != nil {
					return sum, err
				}
				have[slug] = map[string]bool{}
				for _, r := range recs {
					have[slug][r.SHA256] = true
				}
			}
			if err := collectClass(ctx, arc, into, ws, slug, have[slug], sum); err != nil {
				return sum, err
			}
		}
		if err := mergeArchive(ctx, arc, ws, sum); err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// rawSlugs lists the classes with an index in ws's raw/.
func rawSlugs(ws string) ([]string, error) {
	root := filepath.Dir(manifests.RawDir(ws, "x"))
	ents, err := os.ReadDir(root)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", ws, err)
	}
	var out []string
	for _, e := range ents {
		if !e.IsDir() || manifests.CheckSlugs([]string{e.Name()}) != nil {
			continue
		}
		if _, err := os.Stat(manifests.RawIndexPath(ws, e.Name())); err == nil {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

func collectClass(ctx context.Context, arc *Archive, into, ws, slug string, have map[string]bool, sum *CollectSummary) error {
	recs, err := manifests.ReadRawIndex(manifests.RawIndexPath(ws, slug))
	if err != nil {
		return err
	}
	dst := manifests.RawDir(into, slug)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return fmt.Errorf("%s: %w", dst, err)
	}
	for _, r := range recs {
		keys := []string{SHA256Key(r.SHA256)}
		if r.PostID != "" {
			keys = append(keys, PostKey(r.Source, r.PostID))
		}
		if r.MD5 != "" {
			keys = append(keys, MD5Key(strings.ToLower(r.MD5)))
		}
		if have[r.SHA256] {
			sum.Duplicates++
			// The other copy's post still names this content.
			if err := arc.Put(ctx, Entry{Status: StatusDownloaded, Class: slug, SHA256: r.SHA256}, false, keys...); err != nil {
				return err
			}
			continue
		}
		src := filepath.Join(manifests.RawDir(ws, slug), r.File)
		ok, err := copyVerified(src, filepath.Join(dst, r.File), r.SHA256)
		if err != nil {
			return err
		}
		if !ok {
			sum.Corrupt = append(sum.Corrupt, src)
			continue
		}
		if err := manifests.AppendRawIndex(manifests.RawIndexPath(into, slug), r); err != nil {
			return err
		}
		if err := arc.Put(ctx, Entry{Status: StatusDownloaded, Class: slug, SHA256: r.SHA256}, false, keys...); err != nil {
			return err
		}
		have[r.SHA256] = true
		sum.Added++
		sum.PerClass[slug]++
	}
	return nil
}

// copyVerified copies src to dst atomically if src's content has the
// sha256 want; false when it has not (or src is missing).
func copyVerified(src, dst, want string) (bool, error) {
	if filepath.Base(dst) != filepath.Base(src) || !strings.HasPrefix(filepath.Base(src), want+".") {
		return false, nil
	}
	f, err := os.Open(src)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, fmt.Errorf("%s: %w", src, err)
	}
	if hex.EncodeToString(h.Sum(nil)) != want {
		return false, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return false, err
	}
	bad := false
	err = atomicfile.Write(dst, 0o644, func(w io.Writer) error {
		h := sha256.New()
		if _, err := io.Copy(io.MultiWriter(w, h), f); err != nil {
			return fmt.Errorf("%s: %w", src, err)
		}
		if hex.EncodeToString(h.Sum(nil)) != want {
			bad = true // changed while copied
			return errors.New("changed while copied")
		}
		return nil
	})
	if bad {
		return false, nil
	}
	return err == nil, err
}

// mergeArchive adds ws's archive entries that into lacks.
func mergeArchive(ctx context.Context, arc *Archive, ws string, sum *CollectSummary) error {
	if _, err := os.Stat(ArchivePath(ws)); err != nil {
		return nil
	}
	src, err := OpenArchive(ArchivePath(ws))
	if err != nil {
		return err
	}
	defer src.Close()
	rows, err := src.db.QueryContext(ctx, `SELECT key, status, class, sha256 FROM archive`)
	if err != nil {
		return fmt.Errorf("archive %s: %w", src.path, err)
	}
	type row struct{ key, status, class, sha string }
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.key, &r.status, &r.class, &r.sha); err != nil {
			rows.Close()
			return fmt.Errorf("archive %s: %w", src.path, err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("archive %s: %w", src.path, err)
	}
	for _, r := range all {
		if has, err := arc.Has(ctx, r.key); err != nil || has {
			if err != nil {
				return err
			}
			continue
		}
		if err := arc.Put(ctx, Entry{Status: r.status, Class: r.class, SHA256: r.sha}, false, r.key); err != nil {
			return err
		}
		sum.Archive++
	}
	return nil
}
