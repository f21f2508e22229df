package train

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/disintegration/imaging"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/internal/imageio"
	"github.com/chara-dev/chara/manifests"
)

// cacheFormat changes whenever the decoded pixels or the cache layout
// change, so that old cache files are never read back.
const cacheFormat = "u8v1"

const cacheMagic = "CHARAU8\n"

// ErrBadCache is returned for a cache file that cannot be read back; the
// loader then rebuilds it.
var ErrBadCache = errors.New("bad tensor cache")

// splitData is one split decoded once: N images of 3 x H x W uint8 pixels in
// CHW order, one after the other, and their labels.
type splitData struct {
	Split  manifests.Split
	N      int
	H, W   int
	Pix    []uint8
	Labels []int32
	Paths  []string // relative to the dataset folder, for reports
}

func (d *splitData) imageSize() int { return 3 * d.H * d.W }

func (d *splitData) image(i int) []uint8 {
	sz := d.imageSize()
	return d.Pix[i*sz : (i+1)*sz]
}

type cacheHeader struct {
	Format  string `json:"format"`
	Dataset string `json:"dataset_version"`
	Split   string `json:"split"`
	N       int    `json:"n"`
	H       int    `json:"h"`
	W       int    `json:"w"`
}

// CachePath is the tensor cache of one split at one input size:
// datasets/<name>/cache/<split>-<H>x<W>-<version>.u8v1.bin.
func CachePath(ds *manifests.Dataset, split manifests.Split, h, w int) string {
	return filepath.Join(ds.Dir, "cache", fmt.Sprintf("%s-%dx%d-%s.%s.bin", split, h, w, ds.Card.Version, cacheFormat))
}

// loadSplit returns the split's pixels at h x w, from the cache when it is
// there and matches the dataset version, else by decoding (and resizing)
// every image once and writing the cache atomically.
func loadSplit(ctx context.Context, ds *manifests.Dataset, split manifests.Split, h, w int) (*splitData, error) {
	path := CachePath(ds, split, h, w)
	if d, err := readCache(path, ds, split, h, w); err == nil {
		return d, nil
	}
	d, err := decodeSplit(ctx, ds, split, h, w)
	if err != nil {
		return nil, err
	}
	if err := writeCache(path, ds, d); err != nil {
		return nil, err
	}
	removeStaleCaches(path, split, h, w)
	return d, nil
}

func decodeSplit(ctx context.Context, ds *manifests.Dataset, split manifests.Split, h, w int) (*splitData, error) {
	rows := ds.Rows[split]
	d := &splitData{Split: split, N: len(rows), H: h, W: w, Labels: make([]int32, len(rows)), Paths: make([]string, len(rows))}
	d.Pix = make([]uint8, d.N*d.imageSize())
	for i, r := range rows {
		d.Labels[i] = int32(r.Label)
		d.Paths[i] = r.Path
	}
	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan int)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
	}
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				p := filepath.Join(ds.Dir, filepath.FromSlash(rows[i].Path))
				img, _, err := imageio.DecodeFile(p)
				if err != nil {
					fail(fmt.Errorf("%s split, line %d: %w", split, i+2, err))
					continue
				}
				toCHW(img, w, h, d.image(i))
			}
		}()
	}
feed:
	for i := range rows {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop {
			break
		}
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return d, nil
}

// toCHW resizes img to w x h (Lanczos, only when the size differs) and
// writes its RGB planes into dst.
func toCHW(img image.Image, w, h int, dst []uint8) {
	b := img.Bounds()
	var n *image.NRGBA
	if b.Dx() != w || b.Dy() != h {
		n = imaging.Resize(img, w, h, imaging.Lanczos)
	} else if nn, ok := img.(*image.NRGBA); ok {
		n = nn
	} else {
		n = imaging.Clone(img)
	}
	plane := w * h
	for y := 0; y < h; y++ {
		row := n.Pix[(y)*n.Stride : (y)*n.Stride+4*w]
		for x := 0; x < w; x++ {
			px := row[4*x : 4*x+4]
			a := uint32(px[3])
			o := y*w + x
			if a == 255 {
				dst[o], dst[plane+o], dst[2*plane+o] = px[0], px[1], px[2]
				continue
			}
			// Composite over white, as the dataset stage does.
			for c := 0; c < 3; c++ {
				dst[c*plane+o] = uint8((uint32(px[c])*a + 255*(255-a) + 127) / 255)
			}
		}
	}
}

func writeCache(path string, ds *manifests.Dataset, d *splitData) error {
	hdr, err := json.Marshal(cacheHeader{Format: cacheFormat, Dataset: ds.Card.Version, Split: string(d.Split), N: d.N, H: d.H, W: d.W})
	if err != nil {
		return err
	}
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		bw := bufio.NewWriterSize(w, 1<<20)
		bw.WriteString(cacheMagic)
		binary.Write(bw, binary.LittleEndian, uint32(len(hdr)))
		bw.Write(hdr)
		if err := binary.Write(bw, binary.LittleEndian, d.Labels); err != nil {
			return err
		}
		// Paths, newline separated, so reports can name images.
		paths := []byte(strings.Join(d.Paths, "\n"))
		binary.Write(bw, binary.LittleEndian, uint32(len(paths)))
		bw.Write(paths)
		if _, err := bw.Write(d.Pix); err != nil {
			return err
		}
		return bw.Flush()
	})
}

func readCache(path string, ds *manifests.Dataset, split manifests.Split, h, w int) (*splitData, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 1<<20)
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s: %w: %s", path, ErrBadCache, fmt.Sprintf(format, args...))
	}
	magic := make([]byte, len(cacheMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != cacheMagic {
		return nil, bad("no magic")
	}
	var hl uint32
	if err := binary.Read(br, binary.LittleEndian, &hl); err != nil || hl > 1<<16 {
		return nil, bad("header length")
	}
	hb := make([]byte, hl)
	if _, err := io.ReadFull(br, hb); err != nil {
		return nil, bad("short header")
	}
	var hdr cacheHeader
	if err := json.Unmarshal(hb, &hdr); err != nil {
		return nil, bad("header: %v", err)
	}
	rows := ds.Rows[split]
	if hdr.Format != cacheFormat || hdr.Dataset != ds.Card.Version || hdr.Split != string(split) || hdr.N != len(rows) || hdr.H != h || hdr.W != w {
		return nil, bad("header %+v does not match", hdr)
	}
	d := &splitData{Split: split, N: hdr.N, H: h, W: w, Labels: make([]int32, hdr.N)}
	if err := binary.Read(br, binary.LittleEndian, d.Labels); err != nil {
		return nil, bad("labels: %v", err)
	}
	var pl uint32
	if err := binary.Read(br, binary.LittleEndian, &pl); err != nil {
		return nil, bad("paths length")
	}
	pb := make([]byte, pl)
	if _, err := io.ReadFull(br, pb); err != nil {
		return nil, bad("paths")
	}
	if d.N > 0 {
		d.Paths = strings.Split(string(pb), "\n")
	}
	if len(d.Paths) != d.N {
		return nil, bad("%d paths for %d images", len(d.Paths), d.N)
	}
	for i, r := range rows {
		if int(d.Labels[i]) != r.Label || d.Paths[i] != r.Path {
			return nil, bad("row %d differs from the manifest", i)
		}
	}
	d.Pix = make([]uint8, d.N*d.imageSize())
	if _, err := io.ReadFull(br, d.Pix); err != nil {
		return nil, bad("pixels: %v", err)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return nil, bad("trailing bytes")
	}
	return d, nil
}

// removeStaleCaches deletes caches of the same split and size made for
// other dataset versions.
func removeStaleCaches(keep string, split manifests.Split, h, w int) {
	pattern := filepath.Join(filepath.Dir(keep), fmt.Sprintf("%s-%dx%d-*.bin", split, h, w))
	old, _ := filepath.Glob(pattern)
	for _, p := range old {
		if p != keep {
			os.Remove(p)
		}
	}
}
