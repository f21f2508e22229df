package booru

import (
	"bytes"
	"image"
	"image/jpeg"
	"net/http"
	"strconv"

	"golang.org/x/image/draw"
)

// variantBoxes are the renditions the fake serves besides the original,
// as (name, box): Danbooru's "sample" is 850 px wide and its "720x720"
// fits a 720 px box (media_asset.rb; waifuc danbooru.py _select_url);
// Moebooru's sample_url and jpeg_url are smaller JPEGs (api_methods.rb).
// The fake encodes every rendition as JPEG.
var variantBoxes = []struct {
	name string
	w, h int // 0: no bound on that side
}{
	{"720x720", 720, 720},
	{"sample", 850, 0},
}

type variant struct {
	name          string
	width, height int
}

// variantsOf lists the renditions smaller than p's original.
func variantsOf(p *Post) []variant {
	var out []variant
	for _, b := range variantBoxes {
		sc := 1.0
		if b.w > 0 && p.Width > b.w {
			sc = float64(b.w) / float64(p.Width)
		}
		if b.h > 0 && float64(p.Height)*sc > float64(b.h) {
			sc = float64(b.h) / float64(p.Height)
		}
		if sc >= 1 {
			continue
		}
		out = append(out, variant{b.name, max(1, int(float64(p.Width)*sc)), max(1, int(float64(p.Height)*sc))})
	}
	return out
}

func variantURL(r *http.Request, p *Post, v variant) string {
	return "http://" + r.Host + "/data/" + v.name + "/" + p.md5 + ".jpg"
}

func (s *Server) danbooruVariants(r *http.Request, p *Post) []map[string]any {
	out := []map[string]any{}
	for _, v := range variantsOf(p) {
		out = append(out, map[string]any{"type": v.name, "url": variantURL(r, p, v), "width": v.width, "height": v.height, "file_ext": "jpg"})
	}
	out = append(out, map[string]any{"type": "original", "url": fileURL(r, p), "width": p.Width, "height": p.Height, "file_ext": p.ext})
	return out
}

// serveVariant writes rendition name of p, resized from the original.
func (s *Server) serveVariant(w http.ResponseWriter, p *Post, name string) bool {
	var v *variant
	for _, c := range variantsOf(p) {
		if c.name == name {
			v = &c
		}
	}
	if v == nil {
		return false
	}
	key := name + ":" + p.md5
	s.mu.Lock()
	b, ok := s.rendered[key]
	s.mu.Unlock()
	if !ok {
		src, _, err := image.Decode(bytes.NewReader(p.Image))
		if err != nil {
			return false
		}
		dst := image.NewRGBA(image.Rect(0, 0, v.width, v.height))
		draw.ApproxBiLinear.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Src, nil)
		var buf bytes.Buffer
		_ = jpeg.Encode(&buf, dst, &jpeg.Options{Quality: 85})
		b = buf.Bytes()
		s.mu.Lock()
		s.rendered[key] = b
		s.mu.Unlock()
	}
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
	return true
}
