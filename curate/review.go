package curate

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"image/jpeg"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/chara-dev/chara/internal/imageio"
	"github.com/chara-dev/chara/manifests"
)

//go:embed static
var staticFS embed.FS

// thumbSide is the longer side of the review page's thumbnails.
const thumbSide = 256

// reviewServer serves the review pages. Every click appends to the journal
// and rewrites the decisions of the classes it affects, at once.
type reviewServer struct {
	mu      sync.Mutex
	st      *state
	review  reviewState
	decs    [][]manifests.Decision
	bySlug  map[string]int
	files   map[string]map[string]int // slug -> file name -> entry index
	thumbMu sync.Mutex
	thumbs  map[string][]byte
	mux     *http.ServeMux
}

// NewReviewServer builds the review web application for the classes (names
// in config order). It reads the raw indexes and the journal, hashes any
// file the cache lacks (run curate first to avoid the wait) and writes the
// decisions files, so that they agree with the page from the start. Serve
// it on 127.0.0.1 only: it has no authentication.
func NewReviewServer(workspace string, classes []string, opts ...Option) (http.Handler, error) {
	s, err := newSettings(opts)
	if err != nil {
		return nil, err
	}
	st, err := build(context.Background(), workspace, classes, s)
	if err != nil {
		return nil, err
	}
	rv := &reviewServer{st: st, bySlug: map[string]int{}, files: map[string]map[string]int{}, thumbs: map[string][]byte{}}
	for ci, slug := range st.slugs {
		rv.bySlug[slug] = ci
		rv.files[slug] = map[string]int{}
	}
	for i := range st.entries {
		e := &st.entries[i]
		rv.files[st.slugs[e.class]][e.rec.File] = i
	}
	if rv.review, err = readReviewState(workspace); err != nil {
		return nil, err
	}
	rv.decs = st.decide(rv.review)
	if err := st.commitDecisions(rv.decs, nil); err != nil {
		return nil, err
	}
	static, _ := fs.Sub(staticFS, "static")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", rv.index)
	mux.HandleFunc("GET /class/{slug}", rv.classPage)
	mux.HandleFunc("GET /img/{slug}/{file}", rv.image)
	mux.HandleFunc("GET /thumb/{slug}/{file}", rv.thumb)
	mux.HandleFunc("POST /api/review", rv.act)
	mux.HandleFunc("GET /suspects", rv.suspectsPage) // review_suspects.go
	mux.HandleFunc("POST /api/move", rv.move)
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServer(http.FS(static))))
	rv.mux = mux
	return rv, nil
}

func (rv *reviewServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self'; script-src 'self'; style-src 'self'")
	rv.mux.ServeHTTP(w, r)
}

type indexRow struct {
	ClassReport
}

func (rv *reviewServer) index(w http.ResponseWriter, r *http.Request) {
	rv.mu.Lock()
	rep := rv.st.report(rv.decs)
	rv.mu.Unlock()
	rv.render(w, "review_index.html", map[string]any{"Classes": rep.Classes})
}

// card is one image on a page.
type card struct {
	manifests.Decision
	Slug  string
	Thumb string
	Full  string
}

type groupView struct {
	ID    string
	Cards []card
}

func (rv *reviewServer) cardOf(d manifests.Decision) card {
	slug, _ := manifests.Slug(d.Class)
	name := filepath.Base(d.File)
	return card{Decision: d, Slug: slug,
		Thumb: "/thumb/" + slug + "/" + url.PathEscape(name), Full: "/img/" + slug + "/" + url.PathEscape(name)}
}

func (rv *reviewServer) classPage(w http.ResponseWriter, r *http.Request) {
	ci, ok := rv.bySlug[r.PathValue("slug")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	rv.mu.Lock()
	defer rv.mu.Unlock()
	var kept, rejected, ambiguous []card
	groups := map[string][]card{} // group id -> members in any class
	for _, ds := range rv.decs {
		for _, d := range ds {
			if d.Group != "" {
				groups[d.Group] = append(groups[d.Group], rv.cardOf(d))
			}
		}
	}
	inClass := map[string]bool{}
	for _, d := range rv.decs[ci] {
		switch d.Decision {
		case manifests.Keep:
			kept = append(kept, rv.cardOf(d))
		case manifests.Rejected:
			rejected = append(rejected, rv.cardOf(d))
		case manifests.Ambiguous:
			ambiguous = append(ambiguous, rv.cardOf(d))
		}
		if d.Group != "" {
			inClass[d.Group] = true
		}
	}
	var dupGroups, ambGroups []groupView
	for id := range inClass {
		g := groups[id]
		if len(g) < 2 {
			continue
		}
		sort.Slice(g, func(a, b int) bool {
			if g[a].Class != g[b].Class {
				return g[a].Class < g[b].Class
			}
			return g[a].SHA256 < g[b].SHA256
		})
		cross := false
		for _, c := range g {
			if c.Class != rv.st.classes[ci] {
				cross = true
			}
		}
		if cross {
			ambGroups = append(ambGroups, groupView{ID: id, Cards: g})
		} else {
			dupGroups = append(dupGroups, groupView{ID: id, Cards: g})
		}
	}
	sort.Slice(dupGroups, func(a, b int) bool { return dupGroups[a].ID < dupGroups[b].ID })
	sort.Slice(ambGroups, func(a, b int) bool { return ambGroups[a].ID < ambGroups[b].ID })
	// Large classes are paged: kept and rejected images reviewPageSize at a
	// time; the groups are on the first page.
	pages := max(1, (max(len(kept), len(rejected))+reviewPageSize-1)/reviewPageSize)
	page := 1
	if v := r.URL.Query().Get("page"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= pages {
			page = n
		} else {
			http.Error(w, fmt.Sprintf("page %q: want 1..%d", v, pages), http.StatusNotFound)
			return
		}
	}
	window := func(cs []card) []card {
		lo := min(len(cs), (page-1)*reviewPageSize)
		return cs[lo:min(len(cs), lo+reviewPageSize)]
	}
	if page > 1 {
		dupGroups, ambGroups = nil, nil
	}
	pageURL := func(n int) string {
		if n < 1 || n > pages {
			return ""
		}
		return fmt.Sprintf("/class/%s?page=%d", rv.st.slugs[ci], n)
	}
	rv.render(w, "review_class.html", map[string]any{
		"Class": rv.st.classes[ci], "Slug": rv.st.slugs[ci], "Classes": rv.st.classes, "Slugs": rv.st.slugs,
		"Kept": window(kept), "Rejected": window(rejected), "Ambiguous": ambiguous, "DupGroups": dupGroups, "AmbGroups": ambGroups,
		"Counts": decisionCounts(rv.decs[ci]), "Page": page, "Pages": pages, "Prev": pageURL(page - 1), "Next": pageURL(page + 1),
		"PrevPage": page - 1, "NextPage": page + 1,
	})
}

// reviewPageSize is how many kept (and rejected) images a page shows (a
// variable for the tests).
var reviewPageSize = 120

// decisionCounts counts a class's decisions by kind (keep, rejected, ...).
func decisionCounts(ds []manifests.Decision) map[string]int {
	c := map[string]int{}
	for _, d := range ds {
		c[string(d.Decision)]++
	}
	return c
}

func (rv *reviewServer) render(w http.ResponseWriter, name string, data any) {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

// rawFile resolves /img/{slug}/{file} to a file listed in the class's raw
// index: names come from the index, never from the URL, so a request
// cannot reach anything else.
func (rv *reviewServer) rawFile(r *http.Request) (string, bool) {
	slug, file := r.PathValue("slug"), r.PathValue("file")
	idx, ok := rv.files[slug]
	if !ok {
		return "", false
	}
	i, ok := idx[file]
	if !ok {
		return "", false
	}
	return rv.st.rawPath(&rv.st.entries[i]), true
}

func (rv *reviewServer) image(w http.ResponseWriter, r *http.Request) {
	p, ok := rv.rawFile(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Cache-Control", "max-age=86400")
	http.ServeFile(w, r, p)
}

func (rv *reviewServer) thumb(w http.ResponseWriter, r *http.Request) {
	p, ok := rv.rawFile(r)
	if !ok {
		http.NotFound(w, r)
		return
	}
	rv.thumbMu.Lock()
	t, ok := rv.thumbs[p]
	rv.thumbMu.Unlock()
	if !ok {
		var err error
		if t, err = makeThumb(p, rv.st.s.maxPixels); err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		rv.thumbMu.Lock()
		if len(rv.thumbs) > 20000 {
			clear(rv.thumbs)
		}
		rv.thumbs[p] = t
		rv.thumbMu.Unlock()
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Cache-Control", "max-age=86400")
	w.Write(t)
}

func makeThumb(path string, maxPixels int64) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	info, err := imageio.DecodeConfig(b, imageio.WithMaxPixels(maxPixels))
	if err != nil {
		return nil, err
	}
	tw, th := imageio.FitSize(info.Width, info.Height, thumbSide)
	img, _, err := imageio.Thumbnail(b, tw, th, imageio.WithMaxPixels(maxPixels))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// actRequest is the body of POST /api/review.
type actRequest struct {
	SHA256 string `json:"sha256"`
	Class  string `json:"class"`
	Action string `json:"action"` // reject | restore
}

// actResponse lists the new decisions of every image whose decision the
// click changed (the clicked one and its group).
type actResponse struct {
	Changed []manifests.Decision `json:"changed"`
	// Counts: per class the click touched, its decisions by kind now.
	Counts map[string]map[string]int `json:"counts"`
}

// ErrForbiddenOrigin refuses a cross-site request to the review API.
var ErrForbiddenOrigin = errors.New("review: request from another origin")

// decodeWrite reads the JSON body of a write request into v, refusing
// (and answering) anything but same-origin JSON of at most 4 KB. A page
// elsewhere cannot send JSON here without a CORS preflight, which this
// server never answers; the Origin check refuses the rest.
func decodeWrite(w http.ResponseWriter, r *http.Request, v any) bool {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		http.Error(w, "want application/json", http.StatusUnsupportedMediaType)
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			http.Error(w, ErrForbiddenOrigin.Error(), http.StatusForbidden)
			return false
		}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		http.Error(w, "bad request: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

func (rv *reviewServer) act(w http.ResponseWriter, r *http.Request) {
	var req actRequest
	if !decodeWrite(w, r, &req) {
		return
	}
	changed, counts, err := rv.apply(req)
	if err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, ErrUnknownClass) || errors.Is(err, manifests.ErrMalformed) {
			code = http.StatusBadRequest
		}
		http.Error(w, err.Error(), code)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(actResponse{Changed: changed, Counts: counts})
}

// apply records one action in the journal, decides again and rewrites the
// decisions files that changed.
func (rv *reviewServer) apply(req actRequest) ([]manifests.Decision, map[string]map[string]int, error) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	ci := -1
	for i, c := range rv.st.classes {
		if c == req.Class {
			ci = i
		}
	}
	if ci < 0 {
		return nil, nil, fmt.Errorf("%w %q", ErrUnknownClass, req.Class)
	}
	found := false
	for _, d := range rv.decs[ci] {
		if d.SHA256 == req.SHA256 {
			found = true
		}
	}
	if !found {
		return nil, nil, fmt.Errorf("%w: %s is not an image of %s", manifests.ErrMalformed, req.SHA256, req.Class)
	}
	act := manifests.ReviewAction{SHA256: req.SHA256, Class: req.Class, Action: req.Action, At: rv.st.s.now().UTC()}
	if err := manifests.AppendReview(manifests.ReviewPath(rv.st.workspace), act); err != nil {
		return nil, nil, err
	}
	k := reviewKey{req.Class, req.SHA256}
	if req.Action == "reject" {
		rv.review[k] = true
	} else {
		delete(rv.review, k)
		delete(rv.review, reviewKey{"", req.SHA256})
	}
	newDecs := rv.st.decide(rv.review)
	var changed []manifests.Decision
	var dirty []int
	for c := range newDecs {
		d := false
		for i := range newDecs[c] {
			if newDecs[c][i] != rv.decs[c][i] {
				d = true
				changed = append(changed, newDecs[c][i])
			}
		}
		if d {
			dirty = append(dirty, c)
		}
	}
	if len(dirty) > 0 {
		if err := rv.st.commitDecisions(newDecs, dirty); err != nil {
			return nil, nil, err
		}
	}
	rv.decs = newDecs
	counts := map[string]map[string]int{rv.st.classes[ci]: decisionCounts(newDecs[ci])}
	for _, c := range dirty {
		counts[rv.st.classes[c]] = decisionCounts(newDecs[c])
	}
	return changed, counts, nil
}
