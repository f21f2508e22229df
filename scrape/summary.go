package scrape

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// Summary is what a run did, per class and source. It marshals to JSON.
type Summary struct {
	DryRun  bool           `json:"dry_run"`
	Curated int            `json:"curated_marked"` // archive keys added from curated/
	Classes []ClassSummary `json:"classes"`
	Elapsed time.Duration  `json:"elapsed_ns"`
}

// ClassSummary is one class.
type ClassSummary struct {
	Class   string          `json:"class"`
	Slug    string          `json:"slug"`
	Target  int             `json:"target"`
	Before  int             `json:"before"` // files the class had
	After   int             `json:"after"`  // files it has now (would have, in a dry run)
	Shared  int             `json:"shared,omitempty" doc:"with scrape.redis: the class's files in every workspace of the job"`
	Sources []SourceSummary `json:"sources"`
}

// SourceSummary is one source's work for one class.
type SourceSummary struct {
	Source     string         `json:"source"`
	Query      string         `json:"query"`
	Pages      int            `json:"pages"`
	Found      int            `json:"found"`    // posts listed, skipped ones included
	Filtered   map[string]int `json:"filtered"` // by reason, before or after download
	Known      int            `json:"known"`    // already in the archive or being fetched elsewhere
	Downloaded int            `json:"downloaded"`
	Failed     int            `json:"failed"`
	Failures   map[string]int `json:"failures,omitempty"` // by reason
	Error      string         `json:"error,omitempty"`    // why the source stopped early
	Warnings   []string       `json:"warnings,omitempty"` // what the source could not check, once each
	Planned    []Planned      `json:"planned,omitempty"`  // dry run: what would be fetched
}

// Planned is one file a dry run would fetch.
type Planned struct {
	PostID string `json:"post_id"`
	URL    string `json:"url"`
}

// FilteredTotal sums the filtered counts.
func (s *SourceSummary) FilteredTotal() int {
	n := 0
	for _, v := range s.Filtered {
		n += v
	}
	return n
}

// Downloaded is the number of files fetched in all.
func (s *Summary) Downloaded() int {
	n := 0
	for _, c := range s.Classes {
		for _, src := range c.Sources {
			n += src.Downloaded
		}
	}
	return n
}

// Errors lists the sources that stopped early, as "class/source: error".
func (s *Summary) Errors() []string {
	var out []string
	for _, c := range s.Classes {
		for _, src := range c.Sources {
			if src.Error != "" {
				out = append(out, fmt.Sprintf("%s/%s: %s", c.Class, src.Source, src.Error))
			}
		}
	}
	return out
}

// WriteTable writes the summary as a table: one row per class and source.
func (s *Summary) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "CLASS\tSOURCE\tFOUND\tFILTERED\tKNOWN\tDOWNLOADED\tFAILED\tFILES\n"
	if s.DryRun {
		head = "CLASS\tSOURCE\tFOUND\tFILTERED\tKNOWN\tWOULD FETCH\tFAILED\tFILES\n"
	}
	fmt.Fprint(tw, head)
	for _, c := range s.Classes {
		files := fmt.Sprintf("%d/%d", c.After, c.Target)
		if c.Shared > 0 {
			files = fmt.Sprintf("%d here, %d/%d in the job", c.After, c.Shared, c.Target)
		}
		if len(c.Sources) == 0 {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t%s\n", c.Class, files)
			continue
		}
		for _, src := range c.Sources {
			n := src.Downloaded
			if s.DryRun {
				n = len(src.Planned)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\t%s\t%s\n", c.Class, src.Source, src.Found,
				reasons(src.FilteredTotal(), src.Filtered), src.Known, n, reasons(src.Failed, src.Failures), files)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range s.Errors() {
		if _, err := fmt.Fprintf(w, "error: %s\n", e); err != nil {
			return err
		}
	}
	for _, c := range s.Classes {
		for _, src := range c.Sources {
			for _, m := range src.Warnings {
				if _, err := fmt.Fprintf(w, "warning: %s/%s: %s\n", c.Class, src.Source, m); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// reasons renders "12 (rating 8, too_small 4)".
func reasons(total int, by map[string]int) string {
	if total == 0 || len(by) == 0 {
		return fmt.Sprint(total)
	}
	keys := make([]string, 0, len(by))
	for k := range by {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, by[k])
	}
	return fmt.Sprintf("%d (%s)", total, strings.Join(parts, ", "))
}
