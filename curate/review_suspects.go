package curate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

	"github.com/chara-dev/chara/manifests"
)

// The review page's suspects view: the ranking chara suspects wrote
// (curated/_suspects.json), most suspect first, each image with its given
// class, the probability of it, and the class it likely belongs to. x
// rejects (or restores) an image as on a class page; m moves it to the
// suggested class: the file is imported into that class (raw/, as chara
// import does) and rejected from its own, so that the next curation keeps
// it there (the cross-class group's rejected copy gives way) and chara run
// retrains.

// suspectCard is a card of the suspects view.
type suspectCard struct {
	card
	manifests.Suspect
	SuggestSlug string
}

// suspectsPageSize is how many suspects one page shows.
var suspectsPageSize = 60

func (rv *reviewServer) suspectsPage(w http.ResponseWriter, r *http.Request) {
	sus, err := manifests.ReadSuspects(manifests.SuspectsPath(rv.st.workspace))
	if errors.Is(err, os.ErrNotExist) {
		rv.render(w, "review_suspects.html", map[string]any{"Missing": true, "Classes": rv.st.classes, "Slugs": rv.st.slugs})
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	rv.mu.Lock()
	byKey := map[reviewKey]manifests.Decision{}
	for _, ds := range rv.decs {
		for _, d := range ds {
			byKey[reviewKey{d.Class, d.SHA256}] = d
		}
	}
	rv.mu.Unlock()
	var cards []suspectCard
	for _, s := range sus.Items {
		d, ok := byKey[reviewKey{s.Class, s.SHA256}]
		if !ok {
			continue // no longer among the curated images
		}
		sc := suspectCard{card: rv.cardOf(d), Suspect: s}
		if s.Suggest != "" {
			sc.SuggestSlug, _ = manifests.Slug(s.Suggest)
		}
		cards = append(cards, sc)
	}
	pages := max(1, (len(cards)+suspectsPageSize-1)/suspectsPageSize)
	page := 1
	if v := r.URL.Query().Get("page"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= pages {
			page = n
		} else {
			http.Error(w, fmt.Sprintf("page %q: want 1..%d", v, pages), http.StatusNotFound)
			return
		}
	}
	pageURL := func(n int) string {
		if n < 1 || n > pages {
			return ""
		}
		return fmt.Sprintf("/suspects?page=%d", n)
	}
	lo := (page - 1) * suspectsPageSize
	rv.render(w, "review_suspects.html", map[string]any{
		"Suspects": sus, "Cards": cards[lo:min(len(cards), lo+suspectsPageSize)], "Total": len(cards),
		"Classes": rv.st.classes, "Slugs": rv.st.slugs,
		"Page": page, "Pages": pages, "Prev": pageURL(page - 1), "Next": pageURL(page + 1), "PrevPage": page - 1, "NextPage": page + 1,
	})
}

// moveRequest is the body of POST /api/move.
type moveRequest struct {
	SHA256 string `json:"sha256"`
	Class  string `json:"class"` // where the image is now
	To     string `json:"to"`    // the class it belongs to
}

// moveResponse is actResponse and the class the image went to.
type moveResponse struct {
	actResponse
	MovedTo string `json:"moved_to"`
}

// move imports an image of one class into another and rejects it from the
// first.
func (rv *reviewServer) move(w http.ResponseWriter, r *http.Request) {
	var req moveRequest
	if !decodeWrite(w, r, &req) {
		return
	}
	if err := rv.importInto(r.Context(), req); err != nil {
		code := http.StatusInternalServerError
		if errors.Is(err, ErrUnknownClass) || errors.Is(err, manifests.ErrMalformed) {
			code = http.StatusBadRequest
		}
		http.Error(w, err.Error(), code)
		return
	}
	changed, counts, err := rv.apply(actRequest{SHA256: req.SHA256, Class: req.Class, Action: "reject"})
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(moveResponse{actResponse: actResponse{Changed: changed, Counts: counts}, MovedTo: req.To})
}

// importInto copies the image's raw file into req.To's raw folder and
// index (as chara import does).
func (rv *reviewServer) importInto(ctx context.Context, req moveRequest) error {
	rv.mu.Lock()
	var src string
	known := map[string]bool{}
	for _, c := range rv.st.classes {
		known[c] = true
	}
	for i := range rv.st.entries {
		e := &rv.st.entries[i]
		if rv.st.classes[e.class] == req.Class && e.rec.SHA256 == req.SHA256 {
			src = rv.st.rawPath(e)
		}
	}
	rv.mu.Unlock()
	switch {
	case !known[req.To]:
		return fmt.Errorf("%w %q", ErrUnknownClass, req.To)
	case req.To == req.Class:
		return fmt.Errorf("%w: %s is already in %s", manifests.ErrMalformed, req.SHA256, req.To)
	case src == "":
		return fmt.Errorf("%w: %s is not an image of %s", manifests.ErrMalformed, req.SHA256, req.Class)
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(manifests.CuratedDir(rv.st.workspace), ".move-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if err := os.WriteFile(filepath.Join(tmp, filepath.Base(src)), b, 0o644); err != nil {
		return err
	}
	_, err = Import(ctx, rv.st.workspace, req.To, tmp, WithMaxPixels(rv.st.s.maxPixels))
	return err
}
