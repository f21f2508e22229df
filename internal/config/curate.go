package config

// Curate is the curate: section.
type Curate struct {
	PHashThreshold int     `yaml:"phash_threshold"` // default 12: curate.DefaultLimits.PHash, the best pair F1 on real images (BENCHMARKS.md)
	CrossClass     string  `yaml:"cross_class"`     // exclude | keep-first | keep
	MaxPixels      int64   `yaml:"max_pixels"`
	MinWidth       int     `yaml:"min_width"`
	MinHeight      int     `yaml:"min_height"`
	MaxAspect      float64 `yaml:"max_aspect"`     // long side / short side
	MinEntropy     float64 `yaml:"min_entropy"`    // bits, grey-level histogram of the whole picture; 0 (default) disables: sprites on plain backgrounds score low
	MinSubject     float64 `yaml:"min_subject"`    // share of the picture that is not background; below it a picture is low-information (default 0.05, set on real images: BENCHMARKS.md)
	MinSaturation  float64 `yaml:"min_saturation"` // mean chroma below this is monochrome; 0 disables
}

func defaultCurate() Curate {
	return Curate{PHashThreshold: 12, CrossClass: "exclude", MaxPixels: 40_000_000,
		MinWidth: 64, MinHeight: 64, MaxAspect: 4, MinEntropy: 0, MinSubject: 0.05, MinSaturation: 0}
}

func (c Curate) validate() *fieldError {
	if c.PHashThreshold < 0 || c.PHashThreshold > 64 {
		return ferr("phash_threshold", "must be 0..64, got %d", c.PHashThreshold)
	}
	switch c.CrossClass {
	case "exclude", "keep-first", "keep":
	default:
		return ferr("cross_class", "want exclude, keep-first or keep, got %q", c.CrossClass)
	}
	if c.MaxPixels <= 0 {
		return ferr("max_pixels", "must be positive")
	}
	if c.MaxAspect != 0 && c.MaxAspect < 1 {
		return ferr("max_aspect", "must be at least 1, got %v", c.MaxAspect)
	}
	if c.MinSubject < 0 || c.MinSubject >= 1 {
		return ferr("min_subject", "must be in [0, 1), got %v", c.MinSubject)
	}
	return nil
}
