package train

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/internal/recipe"
	"github.com/chara-dev/chara/manifests"
)

// cacheFormat changes whenever the decoded pixels or the cache layout
// change, so that old cache files are never read back.
const cacheFormat = "u8v2"

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
	Adapt   string `json:"adapt"`
}

// CachePath is the tensor cache of one split at a run recipe's model input:
// datasets/<name>/cache/<split>-<H>x<W>-<adapt>-<version>.u8v2.bin.
func CachePath(ds *manifests.Dataset, split manifests.Split, rc *recipe.Recipe) string {
	h, w := rc.InputSize()
	return filepath.Join(manifests.DatasetCacheDir(ds.Dir), fmt.Sprintf("%s-%dx%d-%s-%s.%s.bin", split, h, w, adaptOf(rc), ds.Card.Version, cacheFormat))
}

func adaptOf(rc *recipe.Recipe) string {
	if in := rc.Spec().Input; in != nil {
		return in.Adapt
	}
	return manifests.AdaptNone
}

// loadSplit returns the split's model inputs as the run's recipe makes
// them, from the cache when it is there and matches the dataset version,
// else by decoding (and adapting) every image once and writing the cache
// atomically.
func loadSplit(ctx context.Context, ds *manifests.Dataset, split manifests.Split, rc *recipe.Recipe) (*splitData, error) {
	path := CachePath(ds, split, rc)
	h, w := rc.InputSize()
	if d, err := readCache(path, ds, split, h, w, adaptOf(rc)); err == nil {
		return d, nil
	}
	d, err := decodeSplit(ctx, ds, split, rc)
	if err != nil {
		return nil, err
	}
	if err := writeCache(path, ds, d, adaptOf(rc)); err != nil {
		return nil, err
	}
	removeStaleCaches(path, split)
	return d, nil
}

func decodeSplit(ctx context.Context, ds *manifests.Dataset, split manifests.Split, rc *recipe.Recipe) (*splitData, error) {
	h, w := rc.InputSize()
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
				b, err := os.ReadFile(p)
				if err != nil {
					fail(fmt.Errorf("%s split, line %d: %w", split, i+2, err))
					continue
				}
				img, err := rc.DecodeStored(b)
				if err != nil {
					fail(fmt.Errorf("%s split, line %d: %s: %w", split, i+2, p, err))
					continue
				}
				recipe.PlanesU8(rc.ToInput(img), d.image(i))
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

func writeCache(path string, ds *manifests.Dataset, d *splitData, adapt string) error {
	hdr, err := json.Marshal(cacheHeader{Format: cacheFormat, Dataset: ds.Card.Version, Split: string(d.Split), N: d.N, H: d.H, W: d.W, Adapt: adapt})
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

func readCache(path string, ds *manifests.Dataset, split manifests.Split, h, w int, adapt string) (*splitData, error) {
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
	if hdr.Format != cacheFormat || hdr.Dataset != ds.Card.Version || hdr.Split != string(split) || hdr.N != len(rows) || hdr.H != h || hdr.W != w || hdr.Adapt != adapt {
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

// removeStaleCaches deletes caches of the same split made for other dataset
// versions or cache formats (caches of other input sizes and adaptations of
// the current version stay: other models use them).
func removeStaleCaches(keep string, split manifests.Split) {
	cur := strings.TrimSuffix(filepath.Base(keep), "."+cacheFormat+".bin")
	version := cur[strings.LastIndexByte(cur, '-')+1:]
	pattern := filepath.Join(filepath.Dir(keep), fmt.Sprintf("%s-*.bin", split))
	old, _ := filepath.Glob(pattern)
	for _, p := range old {
		if p != keep && (!strings.HasSuffix(p, "-"+version+"."+cacheFormat+".bin")) {
			os.Remove(p)
		}
	}
}
