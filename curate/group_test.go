package curate

import (
	"context"
	"fmt"
	"testing"
)

// far, noFlip and other are 32 bits from 0 and from each other; noFlip is a
// mirrored hash that matches nothing.
const far, noFlip, other = 0xFFFF_FFFF_0000_0000, 0xAAAA_AAAA_AAAA_AAAA, 0x00FF_00FF_00FF_00FF

func fpOf(n int, p, flip, d uint64) Fingerprint {
	return Fingerprint{SHA256: fmt.Sprintf("%064x", n), PHash: p, PHashFlip: flip, DHash: d}
}

func grouped(t *testing.T, entries []entry) *state {
	t.Helper()
	s, err := newSettings([]Option{WithPHashThreshold(8)})
	if err != nil {
		t.Fatal(err)
	}
	st := &state{classes: []string{"A", "B"}, s: s, entries: entries}
	for i := range st.entries {
		st.entries[i].comp = -1
	}
	if err := st.group(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

// Across classes a pair must agree in dHash too; within a class pHash alone
// groups, directly or mirrored.
func TestGroupCrossClassNeedsDHash(t *testing.T) {
	st := grouped(t, []entry{
		{class: 0, fp: fpOf(1, 0x0, noFlip, 0x0)},      // 0: A original
		{class: 0, fp: fpOf(2, 0x3, noFlip, far)},      // 1: A, pHash 2 from #0, dHash far: same class, grouped
		{class: 1, fp: fpOf(3, 0xFF, noFlip, other)},   // 2: B, pHash 8 from #0, dHash far from all: another drawing
		{class: 1, fp: fpOf(4, 0x1_0000, noFlip, 0x7)}, // 3: B, pHash 1 from #0, dHash 3: a repost, grouped
		{class: 0, fp: fpOf(5, other, 0x3, far)},       // 4: A, mirrored pHash 2 from #0: same class, grouped
	})
	comp := func(i int) int { return st.entries[i].comp }
	for _, i := range []int{1, 3, 4} {
		if comp(i) != comp(0) {
			t.Errorf("entry %d not grouped with entry 0", i)
		}
	}
	if comp(2) == comp(0) {
		t.Error("a different drawing in another class (dHash far) grouped with entry 0")
	}
}

// The same file under two classes is one group (ambiguous), whatever the hashes.
func TestGroupSameFileTwoClasses(t *testing.T) {
	st := grouped(t, []entry{
		{class: 0, fp: fpOf(1, 0x0, noFlip, 0x0)},
		{class: 1, fp: fpOf(1, 0x0, noFlip, 0x0)},
	})
	if st.entries[0].comp != st.entries[1].comp {
		t.Error("one file under two classes is not one group")
	}
}

// A mirrored match is not taken across classes.
func TestGroupNoMirroredMatchAcrossClasses(t *testing.T) {
	st := grouped(t, []entry{
		{class: 0, fp: fpOf(1, 0x0, noFlip, 0x0)},
		{class: 1, fp: fpOf(2, far, 0x0, 0x0)},
	})
	if st.entries[0].comp == st.entries[1].comp {
		t.Error("mirrored pair across classes grouped")
	}
	st = grouped(t, []entry{
		{class: 1, fp: fpOf(1, 0x0, noFlip, 0x0)},
		{class: 1, fp: fpOf(2, far, 0x0, 0x0)},
	})
	if st.entries[0].comp != st.entries[1].comp {
		t.Error("mirrored pair within a class not grouped")
	}
}

// A chain a~b~c with a and c apart is not one group: b joins a (the better
// copy, more pixels), and c, which matches only b, keeps itself. The input
// order does not matter.
func TestGroupNoChains(t *testing.T) {
	mk := func(n int, p uint64, w int) entry {
		fp := fpOf(n, p, noFlip, 0)
		fp.Width, fp.Height = w, w
		return entry{class: 0, fp: fp}
	}
	a, b, c := mk(1, 0x0, 900), mk(2, 0x3F, 800), mk(3, 0xFFF, 700) // a-b 6, b-c 6, a-c 12 bits
	for k, order := range [][]entry{{a, b, c}, {c, b, a}, {b, c, a}} {
		st := grouped(t, order)
		by := map[uint64]*entry{}
		for i := range st.entries {
			by[st.entries[i].fp.PHash] = &st.entries[i]
		}
		ea, eb, ec := by[0x0], by[0x3F], by[0xFFF]
		if st.entries[eb.leader].fp.SHA256 != ea.fp.SHA256 {
			t.Errorf("order %d: b's kept copy is %.8s, want a", k, st.entries[eb.leader].fp.SHA256)
		}
		if st.entries[ec.leader].fp.SHA256 != ec.fp.SHA256 || ec.comp == ea.comp {
			t.Errorf("order %d: c joined a chain", k)
		}
	}
}
