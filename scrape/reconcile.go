package scrape

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chara-dev/chara/manifests"
)

// SourceRecovered is the source of a raw file found on disk but not in the
// index (a run killed between the file's rename and its index line) and
// adopted by the next run.
const SourceRecovered = "recovered"

// reconcileDisk makes raw/<class>/ agree with its index before a class is
// scraped: a file named <sha256>.<ext> that the index does not list is
// hashed; if its content matches its name, is an image and the class has
// room, it is adopted (appended to the index, then known to the archive by
// the caller's reconcile); otherwise it is removed. Files of other names
// are left alone. It returns the index with the adopted records.
func (r *run) reconcileDisk(ctx context.Context, c *classRun, recs []manifests.RawRecord) ([]manifests.RawRecord, error) {
	listed := map[string]bool{}
	for _, rec := range recs {
		listed[rec.File] = true
	}
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		if os.IsNotExist(err) {
			return recs, nil
		}
		return recs, fmt.Errorf("reconcile %s: %w", c.dir, err)
	}
	adopted, removed := 0, 0
	for _, e := range ents {
		name := e.Name()
		stem, _, _ := strings.Cut(name, ".")
		if listed[name] || !e.Type().IsRegular() || !manifests.IsHexDigest(stem, 64) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return recs, err
		}
		path := filepath.Join(c.dir, name)
		rec, ok := adoptable(path, stem)
		if ok && !c.shas[stem] && len(c.shas) < c.target {
			if err := manifests.AppendRawIndex(c.index, rec); err != nil {
				return recs, fmt.Errorf("%s: %w", c.index, err)
			}
			if err := r.st.addFetched(ctx, c.slug); err != nil {
				return recs, err
			}
			c.shas[stem] = true
			recs = append(recs, rec)
			adopted++
			continue
		}
		if err := os.Remove(path); err != nil {
			return recs, fmt.Errorf("reconcile %s: %w", c.dir, err)
		}
		removed++
	}
	if adopted+removed > 0 {
		r.rep.Logf("%s: %d file(s) on disk but not in %s: %d adopted, %d removed", c.name, adopted+removed, filepath.Base(c.index), adopted, removed)
	}
	return recs, nil
}

// adoptable hashes the file at path and returns its index record when its
// SHA-256 is sha and its header is an image's.
func adoptable(path, sha string) (manifests.RawRecord, bool) {
	f, err := os.Open(path)
	if err != nil {
		return manifests.RawRecord{}, false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return manifests.RawRecord{}, false
	}
	h256, h5 := sha256.New(), md5.New()
	if _, err := io.Copy(io.MultiWriter(h256, h5), f); err != nil || hex.EncodeToString(h256.Sum(nil)) != sha {
		return manifests.RawRecord{}, false
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return manifests.RawRecord{}, false
	}
	cfg, _, err := image.DecodeConfig(f)
	if err != nil {
		return manifests.RawRecord{}, false
	}
	return manifests.RawRecord{SHA256: sha, File: filepath.Base(path), Source: SourceRecovered,
		MD5: hex.EncodeToString(h5.Sum(nil)), Width: cfg.Width, Height: cfg.Height,
		FetchedAt: st.ModTime().UTC().Truncate(time.Second)}, true
}
