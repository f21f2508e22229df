package phashindex

import (
	"context"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// planted returns n random hashes where every tenth is a copy of an earlier
// one with 0..12 bits flipped.
func planted(n int, seed uint64) []uint64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	hs := make([]uint64, n)
	for i := range hs {
		if i > 0 && i%10 == 0 {
			h := hs[rng.IntN(i)]
			for k := rng.IntN(13); k > 0; k-- {
				h ^= 1 << rng.IntN(64)
			}
			hs[i] = h
			continue
		}
		hs[i] = rng.Uint64()
	}
	return hs
}

func brute(hs []uint64, r int) map[[2]int32]int {
	out := map[[2]int32]int{}
	for i := range hs {
		for j := i + 1; j < len(hs); j++ {
			if d := bits.OnesCount64(hs[i] ^ hs[j]); d <= r {
				out[[2]int32{int32(i), int32(j)}] = d
			}
		}
	}
	return out
}

func TestPairsMatchBruteForce(t *testing.T) {
	hs := planted(6000, 7)
	// a few exact duplicates and a cluster
	hs = append(hs, hs[3], hs[3], hs[5]^0xff)
	for _, r := range []int{0, 1, 3, 8, 12, 20} {
		ix, err := New(hs, r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ix.Pairs(context.Background(), 2)
		if err != nil {
			t.Fatal(err)
		}
		want := brute(hs, r)
		seen := map[[2]int32]bool{}
		for _, p := range got {
			k := [2]int32{p.I, p.J}
			if seen[k] {
				t.Fatalf("r=%d: pair %v reported twice", r, k)
			}
			seen[k] = true
			if d, ok := want[k]; !ok || d != int(p.D) {
				t.Fatalf("r=%d: unexpected pair %+v (brute force distance %d, ok %v)", r, p, d, ok)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("r=%d: %d pairs, brute force %d (chunks %d)", r, len(got), len(want), len(ix.chunks))
		}
		if r >= 8 && len(want) < 100 {
			t.Fatalf("r=%d: only %d planted pairs found by brute force; test is too weak", r, len(want))
		}
	}
}

func TestQueryAndJoin(t *testing.T) {
	hs := planted(3000, 9)
	ix, _ := New(hs, 6)
	q := hs[100] ^ 0b1011
	n := 0
	ix.Query(q, func(id, d int) {
		n++
		if bits.OnesCount64(hs[id]^q) != d || d > 6 {
			t.Fatalf("bad result %d %d", id, d)
		}
	})
	if n == 0 {
		t.Fatal("query missed the planted neighbour")
	}
	pairs, err := ix.Join(context.Background(), []uint64{q, ^q}, 1)
	if err != nil || len(pairs) != n {
		t.Fatalf("join: %d pairs, query found %d, err %v", len(pairs), n, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Pairs(ctx, 1); err == nil {
		t.Fatal("cancelled context ignored")
	}
	if _, err := New(hs, 65); err != ErrRadius {
		t.Fatal("radius 65 accepted")
	}
}

// BenchmarkMillion is the scale benchmark: 1,000,000 hashes with planted
// near pairs, every pair within distance 8.
func BenchmarkMillion(b *testing.B) {
	hs := planted(1_000_000, 42)
	for b.Loop() {
		ix, err := New(hs, 8)
		if err != nil {
			b.Fatal(err)
		}
		pairs, err := ix.Pairs(context.Background(), 0)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(pairs)), "pairs")
		b.ReportMetric(float64(len(ix.chunks)), "chunks")
	}
}
