package train

import (
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
)

// batch is one prepared batch: raw uint8 CHW images (or float features),
// labels, and the split indices they came from. The torch thread turns it
// into tensors (normalising and moving it to the device) and hands the
// buffers back with loader.release.
type batch struct {
	n   int
	x   []uint8   // n * 3 * H * W, image mode
	f   []float32 // n * F, feature mode
	y   []int64
	idx []int
}

// source is what a loader reads: a decoded split or cached features.
type source interface {
	len() int
	label(i int) int32
	// fill copies sample i into slot k of b; rng is the sample's own.
	fill(b *batch, k, i int, rng *rand.Rand)
	newBatch(size int) *batch
}

// loader assembles batches on its own goroutine, ahead of the model, in a
// seeded order: the same (seed, epoch) always gives the same batches with
// the same augmentation, however the goroutines are scheduled.
type loader struct {
	out     chan *batch
	free    chan *batch
	batches int
	stop    context.CancelFunc
	done    chan struct{}
}

const prefetch = 3

// numBatches is how many batches one pass over n samples gives; in training
// a last batch of a single sample is dropped (batch norm needs two).
func numBatches(n, size int, train bool) int {
	b := (n + size - 1) / size
	if train && n%size == 1 && b > 1 {
		b--
	}
	return b
}

// newLoader starts the goroutine. shuffle permutes the samples with a
// generator seeded by seed; each sample gets its own generator seeded by
// (seed, position) for augmentation.
func newLoader(ctx context.Context, src source, size int, shuffle, train bool, seed uint64) *loader {
	ctx, cancel := context.WithCancel(ctx)
	n := src.len()
	l := &loader{out: make(chan *batch, prefetch), free: make(chan *batch, prefetch+2), batches: numBatches(n, size, train), stop: cancel, done: make(chan struct{})}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	if shuffle {
		r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
		r.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
	}
	workers := runtime.GOMAXPROCS(0)
	go func() {
		defer close(l.done)
		defer close(l.out)
		for k := 0; k < l.batches; k++ {
			lo, hi := k*size, min((k+1)*size, n)
			var b *batch
			select {
			case b = <-l.free:
			default:
				b = src.newBatch(size)
			}
			b.n = hi - lo
			fillParallel(b, src, order, lo, hi, seed, workers)
			select {
			case l.out <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	return l
}

// next returns the next batch, or nil at the end.
// fillParallel fills samples lo..hi of order into b on up to workers
// goroutines. Sample j draws from its own generator, seeded by (seed, j), so
// the batch is the same whatever the number of workers.
func fillParallel(b *batch, src source, order []int, lo, hi int, seed uint64, workers int) {
	one := func(j int) {
		i := order[j]
		rng := rand.New(rand.NewPCG(seed, uint64(j)+1))
		src.fill(b, j-lo, i, rng)
		b.y[j-lo] = int64(src.label(i))
		b.idx[j-lo] = i
	}
	workers = min(workers, hi-lo)
	if workers <= 1 {
		for j := lo; j < hi; j++ {
			one(j)
		}
		return
	}
	var wg sync.WaitGroup
	next := make(chan int, hi-lo)
	for j := lo; j < hi; j++ {
		next <- j
	}
	close(next)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range next {
				one(j)
			}
		}()
	}
	wg.Wait()
}

func (l *loader) next(ctx context.Context) (*batch, error) {
	select {
	case b, ok := <-l.out:
		if !ok {
			return nil, ctx.Err()
		}
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// release hands a batch's buffers back for reuse.
func (l *loader) release(b *batch) {
	select {
	case l.free <- b:
	default:
	}
}

// close stops the goroutine and waits for it.
func (l *loader) close() {
	l.stop()
	for range l.out {
	}
	<-l.done
}

// imageSource reads a decoded split, optionally augmenting.
type imageSource struct {
	d       *splitData
	augment bool
}

func (s *imageSource) len() int          { return s.d.N }
func (s *imageSource) label(i int) int32 { return s.d.Labels[i] }
func (s *imageSource) newBatch(size int) *batch {
	return &batch{x: make([]uint8, size*s.d.imageSize()), y: make([]int64, size), idx: make([]int, size)}
}
func (s *imageSource) fill(b *batch, k, i int, rng *rand.Rand) {
	sz := s.d.imageSize()
	dst := b.x[k*sz : (k+1)*sz]
	if !s.augment {
		copy(dst, s.d.image(i))
		return
	}
	augmentInto(dst, s.d.image(i), s.d.H, s.d.W, rng)
}

// Augmentation strengths: a random resized crop keeping 80-100% of the
// area with aspect changes of +-10%, a horizontal flip half the time, and
// brightness, contrast and saturation jitter of +-20%.
const (
	augMinArea   = 0.80
	augMaxAspect = 1.10
	augJitter    = 0.20
)

// augmentInto writes an augmented copy of the CHW image src (h x w) to dst.
func augmentInto(dst, src []uint8, h, w int, rng *rand.Rand) {
	area := augMinArea + (1-augMinArea)*rng.Float64()
	logR := math.Log(augMaxAspect)
	ratio := math.Exp((2*rng.Float64() - 1) * logR)
	cw := math.Min(float64(w), float64(w)*math.Sqrt(area*ratio))
	ch := math.Min(float64(h), float64(h)*math.Sqrt(area/ratio))
	x0 := rng.Float64() * (float64(w) - cw)
	y0 := rng.Float64() * (float64(h) - ch)
	flip := rng.IntN(2) == 1
	bright := 1 + augJitter*(2*rng.Float64()-1)
	contrast := 1 + augJitter*(2*rng.Float64()-1)
	sat := 1 + augJitter*(2*rng.Float64()-1)

	plane := h * w
	sx := cw / float64(w)
	sy := ch / float64(h)
	// Bilinear resample of the crop, with brightness applied.
	tmp := make([]float32, 3*plane)
	var sum float64
	for y := 0; y < h; y++ {
		fy := y0 + (float64(y)+0.5)*sy - 0.5
		iy := int(math.Floor(fy))
		ty := float32(fy - float64(iy))
		y1, y2 := clampInt(iy, 0, h-1), clampInt(iy+1, 0, h-1)
		for x := 0; x < w; x++ {
			xx := x
			if flip {
				xx = w - 1 - x
			}
			fx := x0 + (float64(xx)+0.5)*sx - 0.5
			ix := int(math.Floor(fx))
			tx := float32(fx - float64(ix))
			x1, x2 := clampInt(ix, 0, w-1), clampInt(ix+1, 0, w-1)
			for c := 0; c < 3; c++ {
				p := src[c*plane:]
				a := float32(p[y1*w+x1])*(1-tx) + float32(p[y1*w+x2])*tx
				b := float32(p[y2*w+x1])*(1-tx) + float32(p[y2*w+x2])*tx
				v := (a*(1-ty) + b*ty) * float32(bright)
				tmp[c*plane+y*w+x] = v
			}
		}
	}
	for o := 0; o < plane; o++ {
		sum += float64(0.299*tmp[o] + 0.587*tmp[plane+o] + 0.114*tmp[2*plane+o])
	}
	mean := float32(sum / float64(plane))
	con, s := float32(contrast), float32(sat)
	for o := 0; o < plane; o++ {
		r, g, b := tmp[o], tmp[plane+o], tmp[2*plane+o]
		gray := 0.299*r + 0.587*g + 0.114*b
		r, g, b = gray+(r-gray)*s, gray+(g-gray)*s, gray+(b-gray)*s
		r, g, b = (r-mean)*con+mean, (g-mean)*con+mean, (b-mean)*con+mean
		dst[o], dst[plane+o], dst[2*plane+o] = clamp8(r), clamp8(g), clamp8(b)
	}
}

func clampInt(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

func clamp8(v float32) uint8 {
	if v <= 0 {
		return 0
	}
	if v >= 255 {
		return 255
	}
	return uint8(v + 0.5)
}

// featureSource reads cached backbone features.
type featureSource struct {
	f *featureData
}

func (s *featureSource) len() int          { return s.f.N }
func (s *featureSource) label(i int) int32 { return s.f.Labels[i] }
func (s *featureSource) newBatch(size int) *batch {
	return &batch{f: make([]float32, size*s.f.Dim), y: make([]int64, size), idx: make([]int, size)}
}
func (s *featureSource) fill(b *batch, k, i int, _ *rand.Rand) {
	copy(b.f[k*s.f.Dim:(k+1)*s.f.Dim], s.f.row(i))
}
