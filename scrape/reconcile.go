package scrape

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/chara-dev/chara/manifests"
)

// reconcileDisk makes raw/<class>/ agree with its index before a class is
// scraped: a file named <sha256>.<ext> that the index does not list (a run
// killed between the file's rename and its index line) is removed. It is
// not adopted: its post, source and URL died with the killed run, the
// archive never recorded it, so the next run fetches it again with them
// and the class ends as an uninterrupted run leaves it. Files of other
// names are left alone.
func (r *run) reconcileDisk(ctx context.Context, c *classRun, recs []manifests.RawRecord) error {
	listed := map[string]bool{}
	for _, rec := range recs {
		listed[rec.File] = true
	}
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return fmt.Errorf("reconcile %s: %w", c.dir, err)
	}
	removed := 0
	for _, e := range ents {
		name := e.Name()
		stem, _, _ := strings.Cut(name, ".")
		if listed[name] || !e.Type().IsRegular() || !manifests.IsHexDigest(stem, 64) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := os.Remove(filepath.Join(c.dir, name)); err != nil {
			return fmt.Errorf("reconcile %s: %w", c.dir, err)
		}
		removed++
	}
	if removed > 0 {
		r.rep.Logf("%s: removed %d file(s) on disk but not in %s (left by an interrupted run; fetched again)", c.name, removed, filepath.Base(c.index))
	}
	return nil
}
