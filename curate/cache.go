package curate

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/internal/imageio"
	"github.com/chara-dev/chara/manifests"
)

// cacheVersion changes whenever Analyze would compute different values, so
// that old caches are recomputed rather than trusted.
const cacheVersion = 3

// CachePath is curated/_hashes.jsonl: one Fingerprint per sha256.
func CachePath(workspace string) string { return manifests.HashCachePath(workspace) }

type cacheRecord struct {
	V              int       `json:"v"`
	SHA256         string    `json:"sha256"`
	Format         string    `json:"format,omitempty"`
	Width          int       `json:"width,omitempty"`
	Height         int       `json:"height,omitempty"`
	Invalid        string    `json:"invalid,omitempty"`
	Detail         string    `json:"detail,omitempty"`
	PHash          string    `json:"phash,omitempty"`
	PHashFlip      string    `json:"phash_flip,omitempty"`
	DHash          string    `json:"dhash,omitempty"`
	DHashFlip      string    `json:"dhash_flip,omitempty"`
	Bytes          int       `json:"bytes,omitempty"`
	Entropy        float64   `json:"entropy,omitempty"`
	Saturation     float64   `json:"saturation,omitempty"`
	Color          []float64 `json:"color,omitempty"`
	Subject        float64   `json:"subject,omitempty"`
	SubjectEntropy float64   `json:"subject_entropy,omitempty"`
	Fine           string    `json:"fine,omitempty"` // hex
	// Files are the raw files (workspace-relative) with these bytes when
	// they were hashed: [size, mtime in ns]. A file whose size or
	// modification time has changed since is hashed again.
	Files map[string][2]int64 `json:"files,omitempty"`
}

func parseHex64(s string) (uint64, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.ParseUint(s, 16, 64)
}

// hashCache maps sha256 to Fingerprint and the stamp of the file hashed.
type hashCache map[string]cached

type cached struct {
	fp     Fingerprint
	stamps map[string]fileStamp // workspace-relative path -> stamp when hashed
}

// fileStamp is what says a file is unchanged without reading it.
type fileStamp struct{ size, mtime int64 }

func stampOf(st os.FileInfo) fileStamp {
	return fileStamp{size: st.Size(), mtime: st.ModTime().UnixNano()}
}

// loadCache reads the cache; a missing file is empty, and lines of another
// version or that do not parse are dropped (they are only a cache).
func loadCache(path string) (hashCache, error) {
	c := hashCache{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	for sc.Scan() {
		var r cacheRecord
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.V != cacheVersion || len(r.SHA256) != 64 {
			continue
		}
		fp := Fingerprint{SHA256: r.SHA256, Format: imageio.Format(r.Format), Width: r.Width, Height: r.Height,
			Invalid: r.Invalid, Detail: r.Detail, Bytes: r.Bytes, Entropy: r.Entropy, Saturation: r.Saturation,
			Subject: r.Subject, SubjectEntropy: r.SubjectEntropy}
		if r.Invalid == "" && len(r.Color) != len(fp.Color) {
			continue
		}
		copy(fp.Color[:], r.Color)
		if r.Invalid == "" {
			fine, err := hex.DecodeString(r.Fine)
			if err != nil || len(fine) != len(fp.Fine) {
				continue
			}
			copy(fp.Fine[:], fine)
		}
		var e1, e2, e3, e4 error
		fp.PHash, e1 = parseHex64(r.PHash)
		fp.PHashFlip, e2 = parseHex64(r.PHashFlip)
		fp.DHash, e3 = parseHex64(r.DHash)
		fp.DHashFlip, e4 = parseHex64(r.DHashFlip)
		if e1 != nil || e2 != nil || e3 != nil || e4 != nil {
			continue
		}
		v := cached{fp: fp, stamps: map[string]fileStamp{}}
		for p, st := range r.Files {
			v.stamps[p] = fileStamp{size: st[0], mtime: st[1]}
		}
		c[r.SHA256] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return c, nil
}

// lookup returns a cached fingerprint of the file with this stamp still
// valid under maxPixels: a file whose size or modification time changed is
// hashed again, an image refused as too large is looked at again when the
// limit has been raised, and one hashed under a higher limit is refused now.
func (c hashCache) lookup(sha, rel string, stamp fileStamp, maxPixels int64) (Fingerprint, bool) {
	v, ok := c[sha]
	fp := v.fp
	if old, known := v.stamps[rel]; !ok || !known || old != stamp {
		return fp, false
	}
	px := int64(fp.Width) * int64(fp.Height)
	if fp.Invalid == imageio.ReasonTooLarge && px <= maxPixels {
		return fp, false
	}
	if fp.Invalid == "" && px > maxPixels {
		fp = Fingerprint{SHA256: fp.SHA256, Format: fp.Format, Width: fp.Width, Height: fp.Height,
			Invalid: imageio.ReasonTooLarge, Detail: fmt.Sprintf("%d pixels, limit %d", px, maxPixels)}
	}
	return fp, true
}

// put records fp as the fingerprint of the file rel with this stamp.
func (c hashCache) put(sha, rel string, fp Fingerprint, stamp fileStamp) {
	v, ok := c[sha]
	if !ok || v.stamps == nil {
		v = cached{stamps: map[string]fileStamp{}}
	}
	v.fp = fp
	v.stamps[rel] = stamp
	c[sha] = v
}

// save writes the cache atomically, sorted by sha256.
func (c hashCache) save(path string) error {
	keys := make([]string, 0, len(c))
	for k := range c {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return atomicfile.Write(path, 0o644, func(w io.Writer) error {
		bw := bufio.NewWriter(w)
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		for _, k := range keys {
			fp := c[k].fp
			r := cacheRecord{V: cacheVersion, SHA256: fp.SHA256, Format: string(fp.Format), Width: fp.Width, Height: fp.Height,
				Invalid: fp.Invalid, Detail: fp.Detail, Bytes: fp.Bytes, Entropy: round4(fp.Entropy), Saturation: round4(fp.Saturation),
				Subject: round4(fp.Subject), SubjectEntropy: round4(fp.SubjectEntropy),
				Files: map[string][2]int64{}}
			for p, st := range c[k].stamps {
				r.Files[p] = [2]int64{st.size, st.mtime}
			}
			if fp.Invalid == "" {
				r.PHash, r.PHashFlip, r.DHash, r.DHashFlip = hex16(fp.PHash), hex16(fp.PHashFlip), hex16(fp.DHash), hex16(fp.DHashFlip)
				r.Fine = hex.EncodeToString(fp.Fine[:])
				r.Color = make([]float64, len(fp.Color))
				for i, v := range fp.Color {
					r.Color[i] = round4(v)
				}
			}
			if err := enc.Encode(&r); err != nil {
				return err
			}
		}
		return bw.Flush()
	})
}

func round4(v float64) float64 {
	return float64(int64(v*10000+0.5)) / 10000
}
