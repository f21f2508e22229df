package train

import (
	"bytes"
	"slices"
	"testing"

	"github.com/chara-dev/chara/manifests"
)

// Augmented batches are the same whether one goroutine or several fill them.
func TestFillParallelIsDeterministic(t *testing.T) {
	const n, h, w = 19, 12, 9
	d := &splitData{Split: manifests.Train, N: n, H: h, W: w, Labels: make([]int32, n)}
	d.Pix = make([]uint8, n*d.imageSize())
	for i := range d.Pix {
		d.Pix[i] = uint8(i * 31)
	}
	for i := range d.Labels {
		d.Labels[i] = int32(i % 3)
	}
	src := &imageSource{d: d, augment: true}
	order := []int{5, 3, 18, 0, 7, 11, 2, 9, 14, 1, 4, 6, 8, 10, 12, 13, 15, 16, 17}
	fill := func(workers int) *batch {
		b := src.newBatch(16)
		b.n = 16
		fillParallel(b, src, order, 2, 18, 42, workers)
		return b
	}
	one, many := fill(1), fill(4)
	if !bytes.Equal(one.x, many.x) || !slices.Equal(one.y, many.y) || !slices.Equal(one.idx, many.idx) {
		t.Fatal("batches differ between 1 and 4 workers")
	}
	if one.idx[0] != 18 || one.y[0] != 0 || one.idx[15] != 16 {
		t.Errorf("idx %v y %v", one.idx, one.y)
	}
	// Augmentation really ran: the pixels differ from a plain copy.
	if bytes.Equal(one.x[:d.imageSize()], d.image(18)) {
		t.Error("sample not augmented")
	}
}
