package train

import (
	"os"
	"strings"
	"sync"

	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
)

// fallbackFonts are system fonts with Latin and CJK glyphs, tried in order
// when a class name has letters the plots' default font (Liberation) lacks.
// Debian: fonts-ipafont-gothic (IPAPGothic: Latin, kana and JIS kanji;
// scripts/deps.sh installs it). A .ttc is a collection, whose first font
// is taken (x/image's sfnt cannot read every collection, e.g. wqy-microhei).
var fallbackFonts = []string{
	"/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf",
	"/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
	"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
}

var fallbackFace = font.Font{Typeface: "chara-fallback"}

var loadFallback = sync.OnceValue(func() bool {
	for _, p := range fallbackFonts {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		var f *opentype.Font
		if strings.HasSuffix(p, ".ttc") {
			c, err := opentype.ParseCollection(b)
			if err != nil || c.NumFonts() == 0 {
				continue
			}
			if f, err = c.Font(0); err != nil {
				continue
			}
		} else if f, err = opentype.Parse(b); err != nil {
			continue
		}
		font.DefaultCache.Add(font.Collection{{Font: fallbackFace, Face: f}})
		return true
	}
	return false
})

// covers reports whether f has a glyph for every rune of every text.
func covers(f *sfnt.Font, texts []string) bool {
	var buf sfnt.Buffer
	for _, s := range texts {
		for _, r := range s {
			if r == ' ' || r == '\n' || r == '…' {
				continue
			}
			if i, err := f.GlyphIndex(&buf, r); err != nil || i == 0 {
				return false
			}
		}
	}
	return true
}

// labelFont is the font for class names: the plots' default, or a system
// fallback font where the default lacks some of their letters (中野三玖)
// and the fallback has them all.
func labelFont(names []string) font.Font {
	def := font.DefaultCache.Lookup(plot.DefaultFont, 10)
	if def.Face == nil || covers(def.Face, names) || !loadFallback() {
		return plot.DefaultFont
	}
	fb := font.DefaultCache.Lookup(fallbackFace, 10)
	if fb.Face == nil || !covers(fb.Face, names) {
		return plot.DefaultFont
	}
	return fallbackFace
}

func withSize(f font.Font, size font.Length) font.Font {
	f.Size = size
	return f
}
