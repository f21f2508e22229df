package dataset

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"math/bits"
	"sort"
	"strconv"

	"github.com/chara-dev/chara/manifests"
)

// This file is the pure part of a build: which images of a class enter the
// dataset and on which side of the split each lands. It touches no file.
//
// The rules, per class:
//
//  1. Groups: images of one curation duplicate group, and any two images
//     within the group threshold (pHash Hamming distance), are joined
//     (union-find). A group is the unit of the split: it never straddles
//     two splits. Its key is its smallest sha256.
//  2. Every group has a preferred side, from a keyed hash of (seed, class,
//     key) mapped to [0,1) and compared with the split fractions, and a
//     selection rank, from a second keyed hash. Both depend only on the
//     content, the class and the seed.
//  3. Each side takes its preferred groups in rank order until it holds its
//     exact count (largest-remainder rounding of the fractions). A group that
//     does not fit whole is skipped; the side is topped up with part of one
//     group only if the leftover members fit in the class's surplus (members
//     left out are not in the dataset, so nothing leaks).
//  4. A side that is still short borrows unused groups of the other sides,
//     those whose hash lies closest to its own interval first.
//  5. Only if groups make exact counts impossible (few images, big groups)
//     do the remaining groups go, whole, to the sides that lack the most; the
//     counts are then off by less than a group, and a note says so.
//
// So adding images, or a class, changes another image's side only when the
// borrowing of step 4 changes: a side that had to borrow no longer needs to
// (its borrowed images go home) or a side newly runs short.

// candidate is one kept image of a class.
type candidate struct {
	SHA256 string
	PHash  uint64
	HasPH  bool
	Group  string // curation group id ("" if none)
	Index  int    // position in the caller's slice
}

// fractions are the split fractions in millionths (integers, so that
// rounding is exact and portable).
type fractions [3]int64

func toFractions(train, val, test float64) fractions {
	r := func(f float64) int64 { return int64(f*1e6 + 0.5) }
	return fractions{r(train), r(val), r(test)}
}

// splitCounts divides n into three exact counts by largest remainder; ties
// go to the earlier split (train, val, test).
func splitCounts(n int, f fractions) [3]int {
	total := f[0] + f[1] + f[2]
	var out [3]int
	var rem [3]int64
	sum := 0
	for i := range f {
		q := int64(n) * f[i]
		out[i] = int(q / total)
		rem[i] = q % total
		sum += out[i]
	}
	order := []int{0, 1, 2}
	sort.SliceStable(order, func(a, b int) bool { return rem[order[a]] > rem[order[b]] })
	// The remainders add up to (n-sum)*total with each below total, so the
	// first n-sum splits in this order all have a positive remainder.
	for i := 0; sum < n; i++ {
		out[order[i]]++
		sum++
	}
	return out
}

// keyed is a keyed hash of the seed and the parts: HMAC-SHA256, first 8
// bytes.
func keyed(seed int64, parts ...string) uint64 {
	var key [8]byte
	binary.BigEndian.PutUint64(key[:], uint64(seed))
	m := hmac.New(sha256.New, key[:])
	for _, p := range parts {
		m.Write([]byte(strconv.Itoa(len(p))))
		m.Write([]byte{':'})
		m.Write([]byte(p))
	}
	return binary.BigEndian.Uint64(m.Sum(nil))
}

// unit maps a hash to [0,1) with 53 bits.
func unit(h uint64) float64 { return float64(h>>11) / (1 << 53) }

type unionFind struct{ parent []int }

func newUnionFind(n int) *unionFind {
	u := &unionFind{parent: make([]int, n)}
	for i := range u.parent {
		u.parent[i] = i
	}
	return u
}

func (u *unionFind) find(i int) int {
	for u.parent[i] != i {
		u.parent[i] = u.parent[u.parent[i]]
		i = u.parent[i]
	}
	return i
}

func (u *unionFind) union(a, b int) {
	ra, rb := u.find(a), u.find(b)
	if ra != rb {
		if ra < rb {
			u.parent[rb] = ra
		} else {
			u.parent[ra] = rb
		}
	}
}

// group is a set of candidates that must share a side.
type group struct {
	Key     string // smallest sha256
	Members []int  // indices into the candidate slice, in member-rank order
	Pref    int    // preferred side 0, 1, 2
	U       float64
	Rank    uint64
	used    bool
}

// makeGroups joins candidates by curation group and by pHash distance
// (<= threshold; a negative threshold disables it). Candidates without a
// pHash join only through their curation group.
func makeGroups(seed int64, class string, cands []candidate, threshold int, f fractions) []*group {
	n := len(cands)
	uf := newUnionFind(n)
	byGroup := map[string]int{}
	for i, c := range cands {
		if c.Group == "" {
			continue
		}
		if j, ok := byGroup[c.Group]; ok {
			uf.union(i, j)
		} else {
			byGroup[c.Group] = i
		}
	}
	if threshold >= 0 {
		// O(n^2) popcounts: about 2 ms for 2,000 images of a class.
		for i := 0; i < n; i++ {
			if !cands[i].HasPH {
				continue
			}
			pi := cands[i].PHash
			for j := i + 1; j < n; j++ {
				if cands[j].HasPH && bits.OnesCount64(pi^cands[j].PHash) <= threshold {
					uf.union(i, j)
				}
			}
		}
	}
	roots := map[int]*group{}
	var groups []*group
	for i := range cands {
		r := uf.find(i)
		g, ok := roots[r]
		if !ok {
			g = &group{Key: cands[i].SHA256}
			roots[r] = g
			groups = append(groups, g)
		}
		g.Members = append(g.Members, i)
		if cands[i].SHA256 < g.Key {
			g.Key = cands[i].SHA256
		}
	}
	total := float64(f[0] + f[1] + f[2])
	c0, c1 := float64(f[0])/total, float64(f[0]+f[1])/total
	for _, g := range groups {
		g.U = unit(keyed(seed, "side", class, g.Key))
		switch {
		case g.U < c0:
			g.Pref = 0
		case g.U < c1:
			g.Pref = 1
		default:
			g.Pref = 2
		}
		g.Rank = keyed(seed, "select", class, g.Key)
		mr := func(i int) uint64 { return keyed(seed, "member", class, cands[i].SHA256) }
		sort.Slice(g.Members, func(a, b int) bool {
			ra, rb := mr(g.Members[a]), mr(g.Members[b])
			if ra != rb {
				return ra < rb
			}
			return cands[g.Members[a]].SHA256 < cands[g.Members[b]].SHA256
		})
	}
	sort.Slice(groups, func(a, b int) bool { return groups[a].Key < groups[b].Key })
	return groups
}

// classPlan is the outcome for one class.
type classPlan struct {
	Sides    [3][]int // candidate indices per side, sorted by sha256
	GroupOf  map[int]string
	Target   [3]int
	Borrowed int // images placed off their preferred side
	Inexact  bool
}

// planClass chooses exactly n candidates (n <= len(cands)) and splits them
// by the targets splitCounts(n, f).
func planClass(seed int64, class string, cands []candidate, n int, threshold int, f fractions) *classPlan {
	groups := makeGroups(seed, class, cands, threshold, f)
	p := &classPlan{GroupOf: map[int]string{}, Target: splitCounts(n, f)}
	var rem [3]int
	copy(rem[:], p.Target[:])
	budget := len(cands) - n // members we may leave out
	take := func(side int, g *group, k int) {
		g.used = true
		for _, m := range g.Members[:k] {
			p.Sides[side] = append(p.Sides[side], m)
			p.GroupOf[m] = g.Key
		}
		if side != g.Pref {
			p.Borrowed += k
		}
		rem[side] -= k
		budget -= len(g.Members) - k
	}
	// fill takes from pool in order: whole groups that fit, then part of one
	// group if the surplus allows.
	fill := func(side int, pool []*group) {
		for _, g := range pool {
			if rem[side] == 0 {
				return
			}
			if !g.used && len(g.Members) <= rem[side] {
				take(side, g, len(g.Members))
			}
		}
		if rem[side] == 0 {
			return
		}
		for _, g := range pool {
			if !g.used && len(g.Members)-rem[side] <= budget {
				take(side, g, rem[side])
				return
			}
		}
	}
	byRank := func(gs []*group) {
		sort.Slice(gs, func(a, b int) bool {
			if gs[a].Rank != gs[b].Rank {
				return gs[a].Rank < gs[b].Rank
			}
			return gs[a].Key < gs[b].Key
		})
	}
	// Step 3: preferred groups.
	for side := 0; side < 3; side++ {
		var pool []*group
		for _, g := range groups {
			if g.Pref == side {
				pool = append(pool, g)
			}
		}
		byRank(pool)
		fill(side, pool)
	}
	// Step 4: borrow the nearest unused groups.
	total := float64(f[0] + f[1] + f[2])
	lo := [3]float64{0, float64(f[0]) / total, float64(f[0]+f[1]) / total}
	hi := [3]float64{lo[1], lo[2], 1}
	for side := 0; side < 3; side++ {
		if rem[side] == 0 {
			continue
		}
		var pool []*group
		for _, g := range groups {
			if !g.used {
				pool = append(pool, g)
			}
		}
		dist := func(g *group) float64 {
			switch {
			case g.U < lo[side]:
				return lo[side] - g.U
			case g.U >= hi[side]:
				return g.U - hi[side]
			}
			return 0
		}
		sort.Slice(pool, func(a, b int) bool {
			da, db := dist(pool[a]), dist(pool[b])
			if da != db {
				return da < db
			}
			if pool[a].Rank != pool[b].Rank {
				return pool[a].Rank < pool[b].Rank
			}
			return pool[a].Key < pool[b].Key
		})
		fill(side, pool)
	}
	// Step 5: groups make exact counts impossible; place whole groups where
	// they are lacking most.
	short := rem[0] + rem[1] + rem[2]
	if short > 0 {
		var pool []*group
		for _, g := range groups {
			if !g.used {
				pool = append(pool, g)
			}
		}
		byRank(pool)
		for _, g := range pool {
			if short <= 0 {
				break
			}
			side := 0
			for s := 1; s < 3; s++ {
				if rem[s] > rem[side] {
					side = s
				}
			}
			k := min(len(g.Members), short)
			take(side, g, k)
			short -= k
		}
	}
	for side := range p.Sides {
		s := p.Sides[side]
		sort.Slice(s, func(a, b int) bool { return cands[s[a]].SHA256 < cands[s[b]].SHA256 })
		if len(s) != p.Target[side] {
			p.Inexact = true
		}
	}
	return p
}

// splitOf is the index of a split in manifests.Splits.
func splitOf(s manifests.Split) int {
	for i, x := range manifests.Splits {
		if x == s {
			return i
		}
	}
	return -1
}
