package curate

import (
	"sort"
	"strings"

	"github.com/chara-dev/chara/internal/imageio"
	"github.com/chara-dev/chara/manifests"
)

// Reasons written by decide.
const (
	ReasonNearDuplicate       = "near-duplicate"
	ReasonReview              = "review"
	ReasonDuplicateOfRejected = "duplicate-of-rejected"
	ReasonAlsoIn              = "also-in:" // + the other class names, comma separated
	ReasonKeptIn              = "kept-in:" // + the class that keeps it (keep-first)
)

// reviewKey is a rejection of one image in one class; an action without a
// class applies to every class.
type reviewKey struct{ class, sha string }

type reviewState map[reviewKey]bool

func (r reviewState) rejected(class, sha string) bool {
	return r[reviewKey{class, sha}] || r[reviewKey{"", sha}]
}

// readReviewState replays the journal: the last action per (class, sha256)
// wins.
func readReviewState(workspace string) (reviewState, error) {
	acts, _, err := manifests.ReadReview(manifests.ReviewPath(workspace))
	if err != nil {
		return nil, err
	}
	st := reviewState{}
	for _, a := range acts {
		k := reviewKey{a.Class, a.SHA256}
		if a.Action == "reject" {
			st[k] = true
		} else {
			delete(st, k)
			if a.Class == "" {
				for k2 := range st {
					if k2.sha == a.SHA256 {
						delete(st, k2)
					}
				}
			}
		}
	}
	return st, nil
}

// better reports whether entry a is a better copy to keep than b: more
// pixels, then a better format, then less compressed (more bytes), then
// fetched earlier, then the smaller sha256 (so the choice never depends on
// input order).
func better(a, b *entry) bool {
	pa, pb := int64(a.fp.Width)*int64(a.fp.Height), int64(b.fp.Width)*int64(b.fp.Height)
	if pa != pb {
		return pa > pb
	}
	if ra, rb := imageio.Format(a.fp.Format).Rank(), imageio.Format(b.fp.Format).Rank(); ra != rb {
		return ra > rb
	}
	if a.fp.Bytes != b.fp.Bytes {
		return a.fp.Bytes > b.fp.Bytes
	}
	ta, tb := a.rec.FetchedAt, b.rec.FetchedAt
	if !ta.Equal(tb) {
		if ta.IsZero() || tb.IsZero() {
			return tb.IsZero()
		}
		return ta.Before(tb)
	}
	return a.fp.SHA256 < b.fp.SHA256
}

// decide turns the state and the review journal into one decision per
// entry, per class.
func (st *state) decide(review reviewState) [][]manifests.Decision {
	out := make([][]manifests.Decision, len(st.classes))
	verdict := make([]manifests.Decision, len(st.entries))
	for i := range st.entries {
		e := &st.entries[i]
		d := manifests.Decision{
			SHA256: e.rec.SHA256, File: "raw/" + st.slugs[e.class] + "/" + e.rec.File,
			Class: st.classes[e.class], Source: e.rec.Source, PostID: e.rec.PostID,
			Width: e.fp.Width, Height: e.fp.Height, Format: string(e.fp.Format),
			Decision: e.pre, Reason: e.reason,
		}
		if e.fp.Invalid == "" && e.fp.PHash|e.fp.DHash != 0 {
			d.PHash, d.DHash = hex16(e.fp.PHash), hex16(e.fp.DHash)
		}
		if e.pre == manifests.Filtered && review.rejected(d.Class, d.SHA256) {
			d.Decision, d.Reason = manifests.Rejected, ReasonReview
		}
		verdict[i] = d
	}
	for _, members := range st.groups {
		st.decideGroup(members, review, verdict)
	}
	for i := range st.entries {
		c := st.entries[i].class
		out[c] = append(out[c], verdict[i])
	}
	return out
}

// decideGroup decides one unit: the groups of one or more classes that
// hold the same picture. In each class group the kept copy (its leader) is
// kept and the others are its duplicates; a class group with a rejected
// member is rejected whole; when the picture is live in several classes the
// cross-class policy picks the classes that keep it.
func (st *state) decideGroup(members []int, review reviewState, verdict []manifests.Decision) {
	type classGroup struct {
		leader  int
		members []int
	}
	byClass := map[int][]*classGroup{}
	groups := map[int]*classGroup{} // leader -> group
	for _, i := range members {
		e := &st.entries[i]
		g, ok := groups[e.leader]
		if !ok {
			g = &classGroup{leader: e.leader}
			groups[e.leader] = g
			byClass[e.class] = append(byClass[e.class], g)
		}
		g.members = append(g.members, i)
		verdict[i].Group = st.entries[e.leader].fp.SHA256
	}
	var live []int // classes still claiming the picture, config order
	liveGroups := map[int][]*classGroup{}
	for c, gs := range byClass {
		for _, g := range gs {
			rejectedOne := false
			for _, i := range g.members {
				if review.rejected(st.classes[c], st.entries[i].fp.SHA256) {
					rejectedOne = true
				}
			}
			if !rejectedOne {
				liveGroups[c] = append(liveGroups[c], g)
				continue
			}
			for _, i := range g.members {
				verdict[i].Decision = manifests.Rejected
				verdict[i].Reason = ReasonReview
				if !review.rejected(st.classes[c], st.entries[i].fp.SHA256) {
					verdict[i].Reason = ReasonDuplicateOfRejected
					verdict[i].KeptSHA256 = ""
				}
			}
		}
		if len(liveGroups[c]) > 0 {
			live = append(live, c)
		}
	}
	sort.Ints(live)
	keepIn := live
	if len(live) > 1 {
		switch st.s.crossClass {
		case CrossExclude:
			keepIn = nil
		case CrossKeepFirst:
			keepIn = live[:1]
		}
	}
	keeps := map[int]bool{}
	for _, c := range keepIn {
		keeps[c] = true
	}
	for _, c := range live {
		if !keeps[c] {
			var reason string
			if len(keepIn) == 1 {
				reason = ReasonKeptIn + st.classes[keepIn[0]]
			} else {
				var others []string
				for _, o := range live {
					if o != c {
						others = append(others, st.classes[o])
					}
				}
				reason = ReasonAlsoIn + strings.Join(others, ",")
			}
			for _, g := range liveGroups[c] {
				for _, i := range g.members {
					verdict[i].Decision, verdict[i].Reason = manifests.Ambiguous, reason
				}
			}
			continue
		}
		for _, g := range liveGroups[c] {
			keptSHA := st.entries[g.leader].fp.SHA256
			for _, i := range g.members {
				if i == g.leader {
					verdict[i].Decision, verdict[i].Reason = manifests.Keep, ""
					continue
				}
				verdict[i].Decision, verdict[i].Reason = manifests.Duplicate, ReasonNearDuplicate
				verdict[i].KeptSHA256 = keptSHA
			}
		}
	}
}
