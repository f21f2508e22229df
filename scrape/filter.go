package scrape

import "slices"

// Filter reasons, as counted in the summary.
const (
	ReasonRating      = "rating"
	ReasonTooSmall    = "too_small"
	ReasonFileType    = "file_type"
	ReasonExcludedTag = "excluded_tag"
	ReasonTooLarge    = "too_large"
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
