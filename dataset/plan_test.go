package dataset

import (
	"fmt"
	"math/rand"
	"testing"
)

// TestPlanProperties checks planClass on random classes: exactly n chosen,
// no group split across sides, exact counts whenever there is any slack,
// and the same plan for the same input.
func TestPlanProperties(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	f := toFractions(0.7, 0.15, 0.15)
	inexact := 0
	for trial := 0; trial < 300; trial++ {
		m := 5 + rng.Intn(80)
		var cands []candidate
		for i := 0; i < m; i++ {
			c := candidate{SHA256: fmt.Sprintf("%064x", rng.Uint64()), Index: i}
			if rng.Intn(3) == 0 {
				c.Group = fmt.Sprint("g", rng.Intn(m/3+1))
			}
			if rng.Intn(2) == 0 {
				c.PHash, c.HasPH = rng.Uint64()&0xffff, true // low bits only: many near pairs
			}
			cands = append(cands, c)
		}
		n := 1 + rng.Intn(m)
		p := planClass(int64(trial), "X", cands, n, 6, f)
		total := 0
		sideOf := map[int]int{}
		for s := range p.Sides {
			total += len(p.Sides[s])
			for _, i := range p.Sides[s] {
				if _, dup := sideOf[i]; dup {
					t.Fatalf("trial %d: candidate %d chosen twice", trial, i)
				}
				sideOf[i] = s
			}
		}
		if total != n {
			t.Fatalf("trial %d: chose %d of %d, want %d", trial, total, m, n)
		}
		groupSide := map[string]int{}
		for i, s := range sideOf {
			g := p.GroupOf[i]
			if prev, ok := groupSide[g]; ok && prev != s {
				t.Fatalf("trial %d: group %s on sides %d and %d", trial, g, prev, s)
			}
			groupSide[g] = s
		}
		// Every curation group and near pair among the chosen is in one group.
		for i := range sideOf {
			for j := range sideOf {
				a, b := cands[i], cands[j]
				near := a.HasPH && b.HasPH && popcount(a.PHash^b.PHash) <= 6
				if (a.Group != "" && a.Group == b.Group || near) && p.GroupOf[i] != p.GroupOf[j] {
					t.Fatalf("trial %d: linked candidates %d and %d in different groups", trial, i, j)
				}
			}
		}
		if p.Inexact {
			inexact++
		}
		singles := true
		for _, c := range cands {
			if c.Group != "" || c.HasPH {
				singles = false
			}
		}
		if singles && p.Inexact {
			t.Fatalf("trial %d: inexact counts without any group", trial)
		}
		// With a surplus of at least the largest group, a side can always be
		// topped up with part of a group: the counts must be exact.
		largest := 0
		for _, g := range makeGroups(int64(trial), "X", cands, 6, f) {
			largest = max(largest, len(g.Members))
		}
		if m-n >= largest && p.Inexact {
			t.Fatalf("trial %d: inexact with surplus %d >= largest group %d", trial, m-n, largest)
		}
		q := planClass(int64(trial), "X", cands, n, 6, f)
		if fmt.Sprint(q.Sides) != fmt.Sprint(p.Sides) {
			t.Fatalf("trial %d: not deterministic", trial)
		}
	}
	t.Logf("%d of 300 random plans could not meet the exact counts (groups too large for the slack)", inexact)
}

func popcount(x uint64) int {
	n := 0
	for ; x != 0; x &= x - 1 {
		n++
	}
	return n
}
