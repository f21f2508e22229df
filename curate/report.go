package curate

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/manifests"
)

//go:embed templates
var templatesFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"short": func(s string) string {
		if len(s) > 10 {
			return s[:10]
		}
		return s
	},
}).ParseFS(templatesFS, "templates/*.html"))

// ReportPath is curated/report.html.
func ReportPath(workspace string) string { return manifests.CurateReportPath(workspace) }

// ClassReport counts one class's decisions.
type ClassReport struct {
	Class      string `json:"class"`
	Slug       string `json:"slug"`
	Raw        int    `json:"raw"`
	Invalid    int    `json:"invalid"`
	Duplicates int    `json:"duplicates"`
	Ambiguous  int    `json:"ambiguous"`
	Filtered   int    `json:"filtered"`
	Rejected   int    `json:"rejected"`
	Kept       int    `json:"kept"`
	// Reasons counts decision/reason pairs, e.g. "filtered/too-small".
	Reasons map[string]int `json:"reasons"`
	// GroupSizes counts the class's near-duplicate groups by size (a
	// picture found once is a group of 1).
	GroupSizes map[int]int `json:"group_sizes"`
}

// LargeGroup is a group that a person should look at: more than
// LargeGroupSize members, or at least 3 and more than LargeGroupShare of
// its class. Real near-duplicate groups are small (a picture and a few
// re-encodes); a large one is most often look-alikes taken for copies.
type LargeGroup struct {
	Class string  `json:"class"`
	Group string  `json:"group"` // the kept copy's sha256
	Size  int     `json:"size"`
	Share float64 `json:"share"` // of the class's raw images
}

// Large-group warning limits.
const (
	LargeGroupSize  = 20
	LargeGroupShare = 0.10
)

// Report is what Run did.
type Report struct {
	Classes        []ClassReport `json:"classes"`
	Hashed         int           `json:"hashed"`     // files validated and hashed in this run
	Cached         int           `json:"cached"`     // fingerprints taken from the cache
	NearPairs      int           `json:"near_pairs"` // pairs within the threshold (direct + mirrored)
	PHashThreshold int           `json:"phash_threshold"`
	CrossClass     string        `json:"cross_class"`
	ReportHTML     string        `json:"report_html"`
	// LargeGroups are the groups over the warning limits, largest first.
	LargeGroups []LargeGroup `json:"large_groups,omitempty"`
}

func (st *state) report(decs [][]manifests.Decision) *Report {
	rep := &Report{Hashed: st.hashed, Cached: st.cached, NearPairs: st.pairs,
		PHashThreshold: st.s.limits.PHash, CrossClass: string(st.s.crossClass), ReportHTML: ReportPath(st.workspace)}
	for ci, ds := range decs {
		cr := ClassReport{Class: st.classes[ci], Slug: st.slugs[ci], Raw: len(ds), Reasons: map[string]int{}, GroupSizes: map[int]int{}}
		sizes := map[string]int{}
		for _, d := range ds {
			if d.Group != "" {
				sizes[d.Group]++
			}
			switch d.Decision {
			case manifests.Keep:
				cr.Kept++
			case manifests.Invalid:
				cr.Invalid++
			case manifests.Duplicate:
				cr.Duplicates++
			case manifests.Ambiguous:
				cr.Ambiguous++
			case manifests.Filtered:
				cr.Filtered++
			case manifests.Rejected:
				cr.Rejected++
			}
			if d.Decision != manifests.Keep {
				r := d.Reason
				if i := strings.IndexByte(r, ':'); i >= 0 {
					r = r[:i]
				}
				cr.Reasons[string(d.Decision)+"/"+r]++
			}
		}
		for g, n := range sizes {
			cr.GroupSizes[n]++
			share := float64(n) / float64(len(ds))
			if n > LargeGroupSize || (n >= 3 && share > LargeGroupShare) {
				rep.LargeGroups = append(rep.LargeGroups, LargeGroup{Class: cr.Class, Group: g, Size: n, Share: share})
			}
		}
		rep.Classes = append(rep.Classes, cr)
	}
	sort.Slice(rep.LargeGroups, func(a, b int) bool {
		x, y := rep.LargeGroups[a], rep.LargeGroups[b]
		if x.Size != y.Size {
			return x.Size > y.Size
		}
		if x.Class != y.Class {
			return x.Class < y.Class
		}
		return x.Group < y.Group
	})
	return rep
}

// WriteTable writes the per-class counts as an aligned table.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "class\traw\tinvalid\tduplicates\tambiguous\tfiltered\trejected\tkept\t")
	var t ClassReport
	for _, c := range r.Classes {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", c.Class, c.Raw, c.Invalid, c.Duplicates, c.Ambiguous, c.Filtered, c.Rejected, c.Kept)
		t.Raw += c.Raw
		t.Invalid += c.Invalid
		t.Duplicates += c.Duplicates
		t.Ambiguous += c.Ambiguous
		t.Filtered += c.Filtered
		t.Rejected += c.Rejected
		t.Kept += c.Kept
	}
	if len(r.Classes) > 1 {
		fmt.Fprintf(tw, "total\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t\n", t.Raw, t.Invalid, t.Duplicates, t.Ambiguous, t.Filtered, t.Rejected, t.Kept)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var reasons []string
	for _, c := range r.Classes {
		keys := make([]string, 0, len(c.Reasons))
		for k := range c.Reasons {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			reasons = append(reasons, fmt.Sprintf("%s %s=%d", c.Class, k, c.Reasons[k]))
		}
	}
	if len(reasons) > 0 {
		if _, err := fmt.Fprintf(w, "reasons: %s\n", strings.Join(reasons, "; ")); err != nil {
			return err
		}
	}
	for _, g := range r.LargeGroups {
		if _, err := fmt.Fprintf(w, "warning: %s: a group of %d images (%.0f %% of the class), kept copy %.12s: look-alikes taken for copies? see the report\n",
			g.Class, g.Size, 100*g.Share, g.Group); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintf(w, "hashed %d new files (%d from cache), %d near pairs at pHash distance <= %d; report: %s\n",
		r.Hashed, r.Cached, r.NearPairs, r.PHashThreshold, r.ReportHTML)
	return err
}

// removedGroup is one decision kind on the report page.
type removedGroup struct {
	Title string
	Items []reportItem
}

type reportItem struct {
	manifests.Decision
	Src     string // image URL relative to the page
	KeptSrc string
}

type reportClass struct {
	ClassReport
	Groups []removedGroup
	Sizes  []sizeCount // GroupSizes, by size
}

type sizeCount struct{ Size, Count int }

// sheetGroup is one group of the contact sheet: its members, the kept copy
// first.
type sheetGroup struct {
	Class string
	Group string
	Large bool
	Items []reportItem
}

// sheetGroups is how many of the largest groups the contact sheet shows.
const sheetGroups = 12

func writeReportHTML(path string, st *state, decs [][]manifests.Decision, rep *Report) error {
	// sha -> file of a kept copy, to show next to its duplicates
	keptFile := map[string]string{}
	for _, ds := range decs {
		for _, d := range ds {
			if d.Decision == manifests.Keep {
				keptFile[d.SHA256] = d.File
			}
		}
	}
	var page []reportClass
	for ci, ds := range decs {
		rc := reportClass{ClassReport: rep.Classes[ci]}
		for _, v := range []manifests.Verdict{manifests.Invalid, manifests.Duplicate, manifests.Ambiguous, manifests.Filtered, manifests.Rejected} {
			g := removedGroup{Title: string(v)}
			for _, d := range ds {
				if d.Decision != v {
					continue
				}
				it := reportItem{Decision: d, Src: "../" + d.File}
				if f, ok := keptFile[d.KeptSHA256]; ok {
					it.KeptSrc = "../" + f
				}
				g.Items = append(g.Items, it)
			}
			sort.SliceStable(g.Items, func(a, b int) bool { return g.Items[a].Reason < g.Items[b].Reason })
			if len(g.Items) > 0 {
				rc.Groups = append(rc.Groups, g)
			}
		}
		for n, c := range rc.GroupSizes {
			rc.Sizes = append(rc.Sizes, sizeCount{n, c})
		}
		sort.Slice(rc.Sizes, func(a, b int) bool { return rc.Sizes[a].Size < rc.Sizes[b].Size })
		page = append(page, rc)
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		return templates.ExecuteTemplate(w, "report.html", map[string]any{"Report": rep, "Classes": page, "Sheet": contactSheet(decs, rep)})
	})
}

// contactSheet is the sheetGroups largest groups of two or more members
// (largest first, then by class and kept copy).
func contactSheet(decs [][]manifests.Decision, rep *Report) []sheetGroup {
	large := map[[2]string]bool{}
	for _, g := range rep.LargeGroups {
		large[[2]string{g.Class, g.Group}] = true
	}
	var out []sheetGroup
	for _, ds := range decs {
		byGroup := map[string][]manifests.Decision{}
		for _, d := range ds {
			if d.Group != "" {
				byGroup[d.Group] = append(byGroup[d.Group], d)
			}
		}
		for g, members := range byGroup {
			if len(members) < 2 {
				continue
			}
			sort.Slice(members, func(a, b int) bool {
				ka, kb := members[a].SHA256 == g, members[b].SHA256 == g
				if ka != kb {
					return ka
				}
				return members[a].SHA256 < members[b].SHA256
			})
			sg := sheetGroup{Class: members[0].Class, Group: g, Large: large[[2]string{members[0].Class, g}]}
			for _, d := range members {
				sg.Items = append(sg.Items, reportItem{Decision: d, Src: "../" + d.File})
			}
			out = append(out, sg)
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if len(out[a].Items) != len(out[b].Items) {
			return len(out[a].Items) > len(out[b].Items)
		}
		if out[a].Class != out[b].Class {
			return out[a].Class < out[b].Class
		}
		return out[a].Group < out[b].Group
	})
	return out[:min(len(out), sheetGroups)]
}
