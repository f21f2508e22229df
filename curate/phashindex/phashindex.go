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
// A million hashes at radius 8: about 12 s on two cores, under 100 MB
// (BENCHMARKS.md, section curate).
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
		c := buildChunk(hashes, shift, w, radius/m)
		shift += w
		ix.chunks = append(ix.chunks, c)
	}
	return ix, nil
}

func buildChunk(hashes []uint64, shift, w uint, rad int) chunk {
	c := chunk{shift: shift, width: w, rad: rad}
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
	return c
}

// chooseChunks picks the number of chunks m for n hashes and radius r by a
// cost model of the blocked self-join: each pair of buckets within the chunk
// radius costs a fixed overhead plus one popcount per pair of entries.
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
		cost := 0.0
		for k := 0; k < m; k++ {
			w := base
			if k < extra {
				w++
			}
			ball := 0.0
			for i := 0; i <= q && i <= w; i++ {
				ball += binom(w, i)
			}
			buckets := float64(uint64(1) << uint(w))
			per := float64(n) / buckets
			cost += buckets*ball*(20+per*per)/2 + float64(n)
		}
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

// Query calls fn for every indexed id within the radius of q, each once.
func (ix *Index) Query(q uint64, fn func(id int, dist int)) {
	for k := range ix.chunks {
		c := &ix.chunks[k]
		visitBall(c.key(q), c.width, c.rad, func(b uint64) {
			for e := c.start[b]; e < c.start[b+1]; e++ {
				h := c.hash[e]
				d := bits.OnesCount64(h ^ q)
				if d <= ix.radius && !ix.foundEarlier(h, q, k) {
					fn(int(c.id[e]), d)
				}
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

// Pairs returns every pair of indexed hashes within the radius, I < J,
// sorted, using workers goroutines (0: GOMAXPROCS).
//
// The join is blocked: for each chunk, each bucket is compared with the
// buckets within the chunk radius of it, so both sides of every comparison
// are short contiguous runs that stay in cache.
func (ix *Index) Pairs(ctx context.Context, workers int) ([]Pair, error) {
	out, err := ix.join(ctx, ix, workers)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].I > out[i].J {
			out[i].I, out[i].J = out[i].J, out[i].I
		}
	}
	sortPairs(out)
	return out, nil
}

// Join returns, for every query hash, every indexed id within the radius
// (Pair.I is the query's position, Pair.J the id), sorted.
func (ix *Index) Join(ctx context.Context, queries []uint64, workers int) ([]Pair, error) {
	qx := &Index{hashes: queries, radius: ix.radius}
	for _, c := range ix.chunks {
		qx.chunks = append(qx.chunks, buildChunk(queries, c.shift, c.width, c.rad))
	}
	out, err := qx.join(ctx, ix, workers)
	if err != nil {
		return nil, err
	}
	sortPairs(out)
	return out, nil
}

func sortPairs(out []Pair) {
	sort.Slice(out, func(a, b int) bool {
		if out[a].I != out[b].I {
			return out[a].I < out[b].I
		}
		return out[a].J < out[b].J
	})
}

// join pairs every entry of a with every entry of b within the radius; when
// a == b each unordered pair of distinct entries is reported once.
func (a *Index) join(ctx context.Context, b *Index, workers int) ([]Pair, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	self := a == b
	r := a.radius
	var (
		mu  sync.Mutex
		out []Pair
	)
	for k := range a.chunks {
		ca, cb := &a.chunks[k], &b.chunks[k]
		nb := len(ca.start) - 1
		const batch = 256
		var next int
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var local []Pair
				emit := func(i, j uint32, ha, hb uint64) {
					d := bits.OnesCount64(ha ^ hb)
					if d <= r && !a.foundEarlier(ha, hb, k) {
						local = append(local, Pair{I: int32(i), J: int32(j), D: uint8(d)})
					}
				}
				for ctx.Err() == nil {
					mu.Lock()
					lo := next
					next += batch
					mu.Unlock()
					if lo >= nb {
						break
					}
					for bk := lo; bk < min(lo+batch, nb); bk++ {
						as, ae := ca.start[bk], ca.start[bk+1]
						if as == ae {
							continue
						}
						ha, ia := ca.hash[as:ae], ca.id[as:ae]
						visitBall(uint64(bk), ca.width, ca.rad, func(ob uint64) {
							if self && ob < uint64(bk) {
								return // visited from the other side
							}
							bs, be := cb.start[ob], cb.start[ob+1]
							hb, ib := cb.hash[bs:be], cb.id[bs:be]
							for x, hx := range ha {
								ys := 0
								if self && ob == uint64(bk) {
									ys = x + 1
								}
								for y := ys; y < len(hb); y++ {
									if bits.OnesCount64(hx^hb[y]) <= r {
										emit(ia[x], ib[y], hx, hb[y])
									}
								}
							}
						})
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
	}
	return out, nil
}
