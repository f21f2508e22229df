package train

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unsafe"

	"github.com/sugarme/gotch"
	"github.com/sugarme/gotch/ts"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/manifests"
	"github.com/chara-dev/chara/train/torchrt"
)

// featureData is a split's backbone features, computed once: N rows of Dim
// float32 values.
type featureData struct {
	N, Dim int
	F      []float32
	Labels []int32
}

func (f *featureData) row(i int) []float32 { return f.F[i*f.Dim : (i+1)*f.Dim] }

const featureMagic = "CHARAF32\n"

type featureHeader struct {
	Format   string `json:"format"`
	Dataset  string `json:"dataset_version"`
	Split    string `json:"split"`
	Backbone string `json:"backbone"` // model, input size and weights key
	N        int    `json:"n"`
	Dim      int    `json:"dim"`
}

// FeaturePath is the cache of a split's frozen-backbone features:
// datasets/<name>/cache/features-<key>-<split>-<version>.f32v1.bin.
func FeaturePath(ds *manifests.Dataset, split manifests.Split, key string) string {
	return filepath.Join(manifests.DatasetCacheDir(ds.Dir), fmt.Sprintf("features-%s-%s-%s.f32v1.bin", key, split, ds.Card.Version))
}

// backboneKey names the backbone whose features are cached: the model, its
// input size and its weights (the weights file's hash, or the seed of a
// random initialisation).
func backboneKey(model string, h, w int, weights string, seed int64) (string, error) {
	wk := fmt.Sprintf("init%d", seed)
	if weights != "" {
		sum, err := fileSHA256(weights)
		if err != nil {
			return "", fmt.Errorf("weights: %w", err)
		}
		wk = sum[:16]
	}
	return fmt.Sprintf("%s-%dx%d-%s", model, h, w, wk), nil
}

// splitFeatures returns the split's features from the cache, or computes
// them with the backbone in evaluation mode (on the torch thread) and
// caches them.
func splitFeatures(ctx context.Context, th *torchrt.Thread, s *session, ds *manifests.Dataset, d *splitData, key string, batchSize int) (*featureData, error) {
	path := FeaturePath(ds, d.Split, key)
	if f, err := readFeatures(path, ds, d, key); err == nil {
		return f, nil
	}
	f := &featureData{N: d.N, Labels: d.Labels}
	l := newLoader(ctx, &imageSource{d: d}, batchSize, false, false, 0)
	defer l.close()
	err := th.Do(ctx, func() error {
		return s.forEachInput(ctx, l, func(b *batch, x *ts.Tensor) error {
			feat := s.fm.Features(x, false)
			if feat.MustDevice() != gotch.CPU {
				feat = feat.MustTo(gotch.CPU, true)
			}
			sz := feat.MustSize()
			if len(sz) != 2 || sz[0] != int64(b.n) {
				feat.MustDrop()
				return fmt.Errorf("backbone features have shape %v, want [%d, F]", sz, b.n)
			}
			if f.Dim == 0 {
				f.Dim = int(sz[1])
				f.F = make([]float32, f.N*f.Dim)
			}
			lo := b.idx[0] * f.Dim
			err := feat.CopyData(f.F[lo:lo+b.n*f.Dim], uint(b.n*f.Dim))
			feat.MustDrop()
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	if err := writeFeatures(path, ds, d.Split, key, f); err != nil {
		return nil, err
	}
	return f, nil
}

func writeFeatures(path string, ds *manifests.Dataset, split manifests.Split, key string, f *featureData) error {
	hdr, err := json.Marshal(featureHeader{Format: "f32v1", Dataset: ds.Card.Version, Split: string(split), Backbone: key, N: f.N, Dim: f.Dim})
	if err != nil {
		return err
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		bw.WriteString(featureMagic)
		binary.Write(bw, binary.LittleEndian, uint32(len(hdr)))
		bw.Write(hdr)
		if len(f.F) > 0 {
			bw.Write(unsafe.Slice((*byte)(unsafe.Pointer(&f.F[0])), 4*len(f.F)))
		}
		return bw.Flush()
	})
}

func readFeatures(path string, ds *manifests.Dataset, d *splitData, key string) (*featureData, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	br := bufio.NewReaderSize(fh, 1<<20)
	bad := fmt.Errorf("%s: %w", path, ErrBadCache)
	magic := make([]byte, len(featureMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != featureMagic {
		return nil, bad
	}
	var hl uint32
	if err := binary.Read(br, binary.LittleEndian, &hl); err != nil || hl > 1<<16 {
		return nil, bad
	}
	hb := make([]byte, hl)
	if _, err := io.ReadFull(br, hb); err != nil {
		return nil, bad
	}
	var h featureHeader
	if json.Unmarshal(hb, &h) != nil || h.Format != "f32v1" || h.Dataset != ds.Card.Version || h.Split != string(d.Split) || h.Backbone != key || h.N != d.N || h.Dim <= 0 {
		return nil, bad
	}
	f := &featureData{N: h.N, Dim: h.Dim, F: make([]float32, h.N*h.Dim), Labels: d.Labels}
	if len(f.F) > 0 {
		if _, err := io.ReadFull(br, unsafe.Slice((*byte)(unsafe.Pointer(&f.F[0])), 4*len(f.F))); err != nil {
			return nil, bad
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return nil, bad
	}
	return f, nil
}

// syntheticFeatures makes a featureData of n random rows for benchmarks.
func syntheticFeatures(n, dim, classes int, seed uint64) *featureData {
	f := &featureData{N: n, Dim: dim, F: make([]float32, n*dim), Labels: make([]int32, n)}
	x := seed | 1
	for i := range f.F {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		f.F[i] = float32(x%1000) / 1000
	}
	for i := range f.Labels {
		f.Labels[i] = int32(i % classes)
	}
	return f
}
