package dataset

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/chara-dev/chara/manifests"
)

// ClassCount is one class's image count at each stage.
type ClassCount struct {
	Name      string
	Slug      string
	Raw       int                   // lines in raw/<slug>/index.jsonl
	Decided   int                   // decisions in curated/<slug>.jsonl
	Kept      int                   // of which keep
	InDataset manifests.SplitCounts // rows in datasets/<name>/
	Listed    bool                  // in the given class list (false: only in the dataset)
}

// ClassCounts counts each class's images per stage: raw, curated and kept,
// and in the dataset called dataset (if it exists). Classes the dataset
// holds that are not in names are listed after them with Listed false.
func ClassCounts(workspace, dataset string, names []string) ([]ClassCount, error) {
	var out []ClassCount
	index := map[string]int{}
	for _, n := range names {
		slug, err := manifests.Slug(n)
		if err != nil {
			return nil, err
		}
		c := ClassCount{Name: n, Slug: slug, Listed: true}
		raw, err := manifests.ReadRawIndex(manifests.RawIndexPath(workspace, slug))
		if err != nil {
			return nil, err
		}
		c.Raw = len(raw)
		decs, err := manifests.ReadDecisions(manifests.DecisionsPath(workspace, slug))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		c.Decided = len(decs)
		for _, d := range decs {
			if d.Decision == manifests.Keep {
				c.Kept++
			}
		}
		index[n] = len(out)
		out = append(out, c)
	}
	if dataset == "" {
		return out, nil
	}
	dir := manifests.DatasetDir(workspace, dataset)
	for _, s := range manifests.Splits {
		rows, err := manifests.ReadSplit(filepath.Join(dir, string(s)+".csv"), s)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			i, ok := index[r.Class]
			if !ok {
				slug, _ := manifests.Slug(r.Class)
				index[r.Class] = len(out)
				out = append(out, ClassCount{Name: r.Class, Slug: slug})
				i = len(out) - 1
			}
			switch s {
			case manifests.Train:
				out[i].InDataset.Train++
			case manifests.Val:
				out[i].InDataset.Val++
			case manifests.Test:
				out[i].InDataset.Test++
			}
		}
	}
	return out, nil
}

// PurgeClass deletes a class's scraped and curated data: raw/<slug>/ and
// curated/<slug>.jsonl. Datasets keep their copies until rebuilt. It
// returns the paths it removed.
func PurgeClass(workspace, name string) ([]string, error) {
	slug, err := manifests.Slug(name)
	if err != nil {
		return nil, err
	}
	if err := manifests.CheckPlainName(slug); err != nil {
		return nil, err // unreachable: Slug never makes a path
	}
	var removed []string
	for _, p := range []string{manifests.RawDir(workspace, slug), manifests.DecisionsPath(workspace, slug)} {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			return removed, fmt.Errorf("purge %s: %w", p, err)
		}
		removed = append(removed, p)
	}
	return removed, nil
}
