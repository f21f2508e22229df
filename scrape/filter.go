package scrape

import (
	"slices"
	"strings"
)

// Filter reasons, as counted in the summary.
const (
	ReasonRating      = "rating"
	ReasonTooSmall    = "too_small"
	ReasonFileType    = "file_type"
	ReasonExcludedTag = "excluded_tag"
	ReasonTooLarge    = "too_large"
	// single_character: the post's character tags name several characters,
	// or one the query does not.
	ReasonMultipleCharacters = "multiple_characters"
	ReasonOtherCharacter     = "other_character"
)

// Filters decide, before any file request, which candidates are wanted.
// A candidate whose listing lacks a value (no rating, no size) passes that
// filter; size and type are checked again on the downloaded file.
type Filters struct {
	Ratings     []string // accepted ratings (g, s, q, e); empty accepts all
	MinWidth    int
	MinHeight   int
	ExcludeTags []string // normalised with NormalizeTag
	Types       []string // accepted extensions; empty means jpg, png, gif, webp
	MaxFileSize int64    // bytes; 0 means no limit
	// SingleCharacter skips posts whose character tags (where the site
	// gives them) name several characters, or one the query does not.
	SingleCharacter bool
	// MinSide: fetch the smallest rendition whose sides both reach it
	// (and MinWidth/MinHeight) instead of the original; 0 fetches
	// originals only.
	MinSide int
}

// CheckCharacters is the single_character filter for a post of class
// found by query; tags and characters must be normalised. Several
// character tags: skipped. One: kept if the query or the class name names
// it ("Rem" names rem_(re:zero)); otherwise skipped as another character,
// unless the query may have matched through an alias (a plain term that is
// not among the post's tags), when it cannot be told.
func (f Filters) CheckCharacters(p *Post, query, class string) string {
	if !f.SingleCharacter || !p.HasCharacters || len(p.Characters) == 0 {
		return ""
	}
	if len(p.Characters) > 1 {
		return ReasonMultipleCharacters
	}
	c := p.Characters[0]
	if n := NormalizeTag(class); c == n || strings.HasPrefix(c, n+"_(") {
		return ""
	}
	for _, t := range strings.Fields(strings.ToLower(query)) {
		if t == c {
			return ""
		}
		if strings.HasPrefix(t, "-") || strings.ContainsAny(t, ":*~()") {
			continue
		}
		if !slices.Contains(p.Tags, NormalizeTag(t)) {
			return "" // an alias, maybe of this very character
		}
	}
	return ReasonOtherCharacter
}

// pickVariant returns the smallest rendition of p that is large enough,
// or nil for the original.
func (f Filters) pickVariant(p *Post) *Variant {
	if f.MinSide <= 0 {
		return nil
	}
	var best *Variant
	for i := range p.Variants {
		v := &p.Variants[i]
		if v.URL == "" || min(v.Width, v.Height) < f.MinSide || v.Width < f.MinWidth || v.Height < f.MinHeight {
			continue
		}
		if p.Width > 0 && v.Width*v.Height >= p.Width*p.Height {
			continue
		}
		if v.Ext != "" && !f.typeOK(v.Ext) {
			continue
		}
		if best == nil || v.Width*v.Height < best.Width*best.Height {
			best = v
		}
	}
	return best
}

// DefaultTypes are the file types kept unless Filters.Types says otherwise.
var DefaultTypes = []string{"jpg", "png", "gif", "webp"}

func (f Filters) normalized() Filters {
	f.ExcludeTags = normalizeTags(f.ExcludeTags)
	if len(f.Types) == 0 {
		f.Types = DefaultTypes
	}
	types := make([]string, len(f.Types))
	for i, t := range f.Types {
		types[i] = normExt(t)
	}
	f.Types = types
	return f
}

// Check returns the reason p is filtered out, or "" if it is wanted.
// Tags must already be normalised.
func (f Filters) Check(p *Post) string {
	if len(f.Ratings) > 0 && p.Rating != "" && !slices.Contains(f.Ratings, p.Rating) {
		return ReasonRating
	}
	if p.Width > 0 && p.Height > 0 && (p.Width < f.MinWidth || p.Height < f.MinHeight) {
		return ReasonTooSmall
	}
	if p.Ext != "" && !f.typeOK(p.Ext) {
		return ReasonFileType
	}
	for _, t := range p.Tags {
		if slices.Contains(f.ExcludeTags, t) {
			return ReasonExcludedTag
		}
	}
	if f.MaxFileSize > 0 && p.FileSize > f.MaxFileSize {
		return ReasonTooLarge
	}
	return ""
}

func (f Filters) typeOK(ext string) bool {
	types := f.Types
	if len(types) == 0 {
		types = DefaultTypes
	}
	return slices.Contains(types, ext)
}
