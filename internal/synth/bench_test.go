package synth

import (
	"context"
	"fmt"
	"testing"
)

func BenchmarkRender(b *testing.B) {
	for _, sz := range [][2]int{{200, 300}, {300, 150}, {160, 240}, {1200, 1800}} {
		b.Run(fmt.Sprintf("%dx%d", sz[0], sz[1]), func(b *testing.B) {
			c := Characters()[1]
			var seed int64
			for b.Loop() {
				seed++
				Render(c, seed, Size(sz[0], sz[1]))
			}
		})
	}
}

func BenchmarkOffTopic(b *testing.B) {
	var seed int64
	for b.Loop() {
		seed++
		OffTopic(seed)
	}
}

// BenchmarkCorpus measures the demo-sized corpus: 5 classes x 60 items.
func BenchmarkCorpus(b *testing.B) {
	for b.Loop() {
		if _, err := NewCorpus(context.Background(), Characters(), 60, 1); err != nil {
			b.Fatal(err)
		}
	}
}
