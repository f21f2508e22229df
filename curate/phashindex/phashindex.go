// Package phashindex finds every pair of 64-bit perceptual hashes within a
// Hamming radius without comparing all pairs: multi-index hashing (Norouzi,
// Punjani and Fleet, 2012). The 64 bits are cut into m chunks; by the
// pigeonhole principle two hashes at distance <= r agree to within
// floor(r/m) bits on at least one chunk, so each query probes, in each
// chunk's table, every chunk value within that small radius and verifies
// the candidates found there with a full popcount. The number of chunks is
// chosen from a cost model for the given size and radius. Each bucket holds
// the full hashes next to their ids, so verifying is a sequential scan.
//
// A million hashes at radius 8 take a few seconds and well under 200 MB.
package phashindex

import (
	"context"
	"errors"
	"math/bits"
	"runtime"
	"sort"
	"sync"
)

// ErrRadius is returned for a radius outside 0..64.
var ErrRadius = errors.New("phashindex: radius must be 0..64")

type chunk struct {
	shift uint
	width uint     // bits in this chunk
	rad   int      // probe radius within the chunk
	start []uint32 // bucket b is entries[start[b]:start[b+1]]
	hash  []uint64 // full hashes, grouped by bucket, ids ascending within a bucket
	id    []uint32
}

func (c *chunk) key(h uint64) uint64 { return (h >> c.shift) & (1<<c.width - 1) }

// Index is an immutable multi-index over a list of hashes; ids are positions
// in that list. Safe for concurrent queries.
type Index struct {
	hashes []uint64
	radius int
	chunks []chunk
}

// Pair is two ids (I < J for Pairs; query index and id for Join) at
// Hamming distance D.
type Pair struct {
	I, J int32
	D    uint8
}

// New builds an index over hashes for queries of the given radius.
func New(hashes []uint64, radius int) (*Index, error) {
	if radius < 0 || radius > 64 {
		return nil, ErrRadius
	}
	ix := &Index{hashes: hashes, radius: radius}
	m := chooseChunks(len(hashes), radius)
	base, extra := 64/m, 64%m
	shift := uint(0)
	for k := 0; k < m; k++ {
		w := uint(base)
		if k < extra {
			w++
		}
		c := chunk{shift: shift, width: w, rad: radius / m}
		shift += w
		nb := 1 << w
		c.start = make([]uint32, nb+1)
		for _, h := range hashes {
			c.start[c.key(h)+1]++
		}
		for b := 1; b <= nb; b++ {
			c.start[b] += c.start[b-1]
		}
		c.hash = make([]uint64, len(hashes))
		c.id = make([]uint32, len(hashes))
		fill := append([]uint32(nil), c.start[:nb]...)
		for i, h := range hashes {
			b := c.key(h)
			c.hash[fill[b]] = h
			c.id[fill[b]] = uint32(i)
			fill[b]++
		}
		ix.chunks = append(ix.chunks, c)
	}
	return ix, nil
}

// chooseChunks picks the number of chunks that minimises probes (random
// table reads) plus candidates (sequential popcounts) for n hashes.
func chooseChunks(n, r int) int {
	best, bestCost := 1, -1.0
	for m := 1; m <= 32; m++ {
		base, extra := 64/m, 64%m
		widest := base
		if extra > 0 {
			widest++
		}
		if widest > 24 { // tables of at most 2^24 buckets
			continue
		}
		q := r / m
		var probes, cands float64
		for k := 0; k < m; k++ {
			w := base
			if k < extra {
				w++
			}
			p := 0.0
			for i := 0; i <= q && i <= w; i++ {
				p += binom(w, i)
			}
			probes += p
			cands += p * float64(n) / float64(uint64(1)<<uint(w))
		}
		cost := 6*probes + cands
		if bestCost < 0 || cost < bestCost {
			best, bestCost = m, cost
		}
	}
	return best
}

func binom(n, k int) float64 {
	r := 1.0
	for i := 0; i < k; i++ {
		r = r * float64(n-i) / float64(i+1)
	}
	return r
}

// Len is the number of indexed hashes.
func (ix *Index) Len() int { return len(ix.hashes) }

// Radius is the radius the index was built for.
func (ix *Index) Radius() int { return ix.radius }

// query calls fn for every id > after within the radius of q, each once.
func (ix *Index) query(q uint64, after int, fn func(id int, d int)) {
	for k := range ix.chunks {
		c := &ix.chunks[k]
		ck := c.key(q)
		visitBall(ck, c.width, c.rad, func(b uint64) {
			lo, hi := int(c.start[b]), int(c.start[b+1])
			for e := hi - 1; e >= lo; e-- {
				id := int(c.id[e])
				if id <= after {
					break // ids ascend within a bucket
				}
				h := c.hash[e]
				d := bits.OnesCount64(h ^ q)
				if d > ix.radius {
					continue
				}
				if ix.foundEarlier(h, q, k) {
					continue
				}
				fn(id, d)
			}
		})
	}
}

// foundEarlier reports whether a chunk before k already finds h for q, so
// each match is reported by exactly one chunk.
func (ix *Index) foundEarlier(h, q uint64, k int) bool {
	for j := 0; j < k; j++ {
		c := &ix.chunks[j]
		if bits.OnesCount64(c.key(h)^c.key(q)) <= c.rad {
			return true
		}
	}
	return false
}

// visitBall calls fn for every width-bit value within Hamming distance rad
// of center.
func visitBall(center uint64, width uint, rad int, fn func(uint64)) {
	fn(center)
	var rec func(v uint64, from uint, left int)
	rec = func(v uint64, from uint, left int) {
		for b := from; b < width; b++ {
			w := v ^ (1 << b)
			fn(w)
			if left > 1 {
				rec(w, b+1, left-1)
			}
		}
	}
	if rad > 0 {
		rec(center, 0, rad)
	}
}

// Query calls fn for every indexed id within the radius of q, each once.
func (ix *Index) Query(q uint64, fn func(id int, dist int)) { ix.query(q, -1, fn) }

// Pairs returns every pair of indexed hashes within the radius, I < J,
// sorted, using workers goroutines (0: GOMAXPROCS).
func (ix *Index) Pairs(ctx context.Context, workers int) ([]Pair, error) {
	return ix.run(ctx, workers, len(ix.hashes), func(i int, emit func(int, int)) {
		ix.query(ix.hashes[i], i, emit)
	})
}

// Join returns, for every query hash, every indexed id within the radius
// (Pair.I is the query's position), sorted.
func (ix *Index) Join(ctx context.Context, queries []uint64, workers int) ([]Pair, error) {
	return ix.run(ctx, workers, len(queries), func(i int, emit func(int, int)) {
		ix.query(queries[i], -1, emit)
	})
}

func (ix *Index) run(ctx context.Context, workers, n int, one func(i int, emit func(j, d int))) ([]Pair, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	const batch = 4096
	var (
		mu   sync.Mutex
		next int
		out  []Pair
		wg   sync.WaitGroup
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var local []Pair
			for {
				if ctx.Err() != nil {
					break
				}
				mu.Lock()
				lo := next
				next += batch
				mu.Unlock()
				if lo >= n {
					break
				}
				for i := lo; i < min(lo+batch, n); i++ {
					one(i, func(j, d int) { local = append(local, Pair{I: int32(i), J: int32(j), D: uint8(d)}) })
				}
			}
			mu.Lock()
			out = append(out, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].I != out[b].I {
			return out[a].I < out[b].I
		}
		return out[a].J < out[b].J
	})
	return out, nil
}
