package scrape

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/chara-dev/chara/manifests"
)

// RememberCurated records in the workspace's archive every image that
// curation decided against (rejected, duplicate, invalid, filtered,
// ambiguous, in curated/<slug>.jsonl) and every image rejected in review
// (curated/_review.jsonl), by sha256 and, where the raw index knows them, by
// source:post_id and md5, so that no scrape downloads them again. Run calls
// it at its start; curation may call it too. It returns the number of keys
// added.
func RememberCurated(ctx context.Context, workspace string) (int, error) {
	arc, err := OpenArchive(ArchivePath(workspace))
	if err != nil {
		return 0, err
	}
	defer arc.Close()
	return markCurated(ctx, workspace, newLocalStore(arc))
}

func markCurated(ctx context.Context, workspace string, st store) (int, error) {
	files, err := manifests.DecisionFiles(workspace)
	if err != nil {
		return 0, err
	}
	raw := map[string]manifests.RawRecord{} // sha256 -> record, loaded on demand
	rawLoaded := false
	lookup := func(sha string) (manifests.RawRecord, bool, error) {
		if !rawLoaded {
			rawLoaded = true
			idx, err := filepath.Glob(manifests.RawIndexPath(workspace, "*"))
			if err != nil {
				return manifests.RawRecord{}, false, err
			}
			for _, p := range idx {
				recs, err := manifests.ReadRawIndex(p)
				if err != nil {
					return manifests.RawRecord{}, false, err
				}
				for _, r := range recs {
					raw[r.SHA256] = r
				}
			}
		}
		r, ok := raw[sha]
		return r, ok, nil
	}
	byStatus := map[string][]string{}
	bySHA := map[string]string{}
	add := func(status, sha, source, postID, md5 string) error {
		bySHA[sha] = status
		keys := []string{SHA256Key(sha)}
		if source == "" || postID == "" || md5 == "" {
			if r, ok, err := lookup(sha); err != nil {
				return err
			} else if ok {
				source, postID, md5 = firstNonEmpty(source, r.Source), firstNonEmpty(postID, r.PostID), firstNonEmpty(md5, r.MD5)
			}
		}
		if source != "" && postID != "" {
			keys = append(keys, PostKey(source, postID))
		}
		if md5 != "" {
			keys = append(keys, MD5Key(strings.ToLower(md5)))
		}
		byStatus[status] = append(byStatus[status], keys...)
		return nil
	}
	reviewPath := manifests.ReviewPath(workspace)
	for _, f := range files {
		decs, err := manifests.ReadDecisions(f)
		if err != nil {
			return 0, err
		}
		for _, d := range decs {
			if d.Decision == manifests.Keep {
				continue
			}
			if err := add("curated:"+string(d.Decision), d.SHA256, d.Source, d.PostID, ""); err != nil {
				return 0, err
			}
		}
	}
	if _, err := os.Stat(reviewPath); err == nil {
		_, rejected, err := manifests.ReadReview(reviewPath)
		if err != nil {
			return 0, err
		}
		for sha := range rejected {
			if err := add("curated:rejected", sha, "", "", ""); err != nil {
				return 0, err
			}
		}
	}
	n := 0
	for status, keys := range byStatus {
		if err := st.put(ctx, Entry{Status: status}, true, keys...); err != nil {
			return n, fmt.Errorf("remember curated decisions: %w", err)
		}
		n += len(keys)
	}
	// Post and md5 keys the archive links to these contents, even where
	// the raw index no longer has them.
	for sha, status := range bySHA {
		if err := st.markSHA(ctx, sha, status); err != nil {
			return n, fmt.Errorf("remember curated decisions: %w", err)
		}
	}
	return n, nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
