package dataset

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/chara-dev/chara/internal/plural"
)

// WriteSummary writes a table of the build, one line per class: kept
// images, per-split counts, oversampled repeats, and the changes since the
// previous build; then the notes.
func (r *Result) WriteSummary(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "label\tclass\tkept\ttrain\tval\ttest\trepeats\tadded\tdropped\tmoved\t")
	var tot ClassStats
	for _, s := range r.Stats {
		fmt.Fprintf(tw, "%d\t%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", s.Label, s.Class, s.Kept,
			s.Counts.Train, s.Counts.Val, s.Counts.Test, s.Repeats, s.Added, s.Dropped, s.Moved)
		tot.Kept += s.Kept
		tot.Counts.Train += s.Counts.Train
		tot.Counts.Val += s.Counts.Val
		tot.Counts.Test += s.Counts.Test
		tot.Repeats += s.Repeats
		tot.Added += s.Added
		tot.Dropped += s.Dropped
		tot.Moved += s.Moved
	}
	fmt.Fprintf(tw, "\ttotal\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", tot.Kept,
		tot.Counts.Train, tot.Counts.Val, tot.Counts.Test, tot.Repeats, tot.Added, tot.Dropped, tot.Moved)
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "dataset %s, version %s: %d per class, %s resized, %d reused, %d moved to another split\n",
		r.Dir, r.Version, r.PerClass, plural.Of(r.Processed, "image", "images"), r.Reused, r.Moved)
	if r.Pruned > 0 {
		fmt.Fprintf(w, "%s made with other settings deleted\n", plural.Of(r.Pruned, "processed image", "processed images"))
	}
	for _, n := range r.Notes {
		if _, err := fmt.Fprintf(w, "note: %s\n", n); err != nil {
			return err
		}
	}
	return nil
}
