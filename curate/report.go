package curate

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
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
func ReportPath(workspace string) string { return filepath.Join(workspace, "curated", "report.html") }

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
}

// Report is what Run did.
type Report struct {
	Classes        []ClassReport `json:"classes"`
	Hashed         int           `json:"hashed"`     // files validated and hashed in this run
	Cached         int           `json:"cached"`     // fingerprints taken from the cache
	NearPairs      int           `json:"near_pairs"` // pairs within the threshold (direct + mirrored)
	PHashThreshold int           `json:"phash_threshold"`
	CrossClass     string        `json:"cross_class"`
	ReportHTML     string        `json:"report_html"`
}

func (st *state) report(decs [][]manifests.Decision) *Report {
	rep := &Report{Hashed: st.hashed, Cached: st.cached, NearPairs: st.pairs,
		PHashThreshold: st.s.limits.PHash, CrossClass: string(st.s.crossClass), ReportHTML: ReportPath(st.workspace)}
	for ci, ds := range decs {
		cr := ClassReport{Class: st.classes[ci], Slug: st.slugs[ci], Raw: len(ds), Reasons: map[string]int{}}
		for _, d := range ds {
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
		rep.Classes = append(rep.Classes, cr)
	}
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
}

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
		page = append(page, rc)
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		return templates.ExecuteTemplate(w, "report.html", map[string]any{"Report": rep, "Classes": page})
	})
}
