package config

import (
	"net/url"
	"time"
)

// Source is one site under sources:.
type Source struct {
	Kind        string        `yaml:"kind"` // danbooru | gelbooru | moebooru | zerochan | html
	URL         string        `yaml:"url"`
	Login       string        `yaml:"login,omitempty"`
	APIKey      string        `yaml:"api_key,omitempty"`
	UserID      string        `yaml:"user_id,omitempty"`
	Delay       time.Duration `yaml:"delay,omitempty"`
	RandomDelay time.Duration `yaml:"random_delay,omitempty"`
	Parallelism int           `yaml:"parallelism,omitempty"`
	Limit       int           `yaml:"limit,omitempty"` // page size
	// html sources only: CSS selectors.
	ImageSelector string `yaml:"image_selector,omitempty"`
	NextSelector  string `yaml:"next_selector,omitempty"`
	IgnoreRobots  bool   `yaml:"ignore_robots,omitempty"`
}

func (s Source) validate() *fieldError {
	switch s.Kind {
	case "danbooru", "gelbooru", "moebooru", "zerochan", "html":
	case "":
		return ferr("kind", "missing (danbooru, gelbooru, moebooru, zerochan or html)")
	default:
		return ferr("kind", "unknown kind %q (danbooru, gelbooru, moebooru, zerochan or html)", s.Kind)
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ferr("url", "not an http(s) URL: %q", s.URL)
	}
	if s.Delay < 0 || s.RandomDelay < 0 {
		return ferr("delay", "negative")
	}
	if s.Parallelism < 0 {
		return ferr("parallelism", "negative")
	}
	if s.Limit < 0 {
		return ferr("limit", "negative")
	}
	if s.Kind == "html" && s.ImageSelector == "" {
		return ferr("image_selector", "required for kind html")
	}
	return nil
}

// Scrape is the scrape: section.
type Scrape struct {
	Candidates   int      `yaml:"candidates"`
	MinWidth     int      `yaml:"min_width"`
	MinHeight    int      `yaml:"min_height"`
	Ratings      []string `yaml:"ratings"`
	ExcludeTags  []string `yaml:"exclude_tags"`
	UserAgent    string   `yaml:"user_agent"`
	MaxFileSize  int64    `yaml:"max_file_size"`
	Redis        string   `yaml:"redis,omitempty"`
	IgnoreRobots bool     `yaml:"ignore_robots,omitempty"`
}

func defaultScrape() Scrape {
	return Scrape{Candidates: 1200, MinWidth: 150, MinHeight: 300, Ratings: []string{"g", "s"},
		MaxFileSize: 20 << 20}
}

func (s Scrape) validate() *fieldError {
	if s.Candidates <= 0 {
		return ferr("candidates", "must be positive, got %d", s.Candidates)
	}
	if s.MinWidth < 0 || s.MinHeight < 0 {
		return ferr("min_width", "negative")
	}
	if s.MaxFileSize <= 0 {
		return ferr("max_file_size", "must be positive")
	}
	if s.Redis != "" {
		u, err := url.Parse(s.Redis)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			return ferr("redis", "not a redis:// URL: %q", s.Redis)
		}
	}
	return nil
}

// Curate is the curate: section.
type Curate struct {
	PHashThreshold int     `yaml:"phash_threshold"`
	CrossClass     string  `yaml:"cross_class"` // exclude | keep-first | keep
	MaxPixels      int64   `yaml:"max_pixels"`
	MinWidth       int     `yaml:"min_width"`
	MinHeight      int     `yaml:"min_height"`
	MaxAspect      float64 `yaml:"max_aspect"`     // long side / short side
	MinEntropy     float64 `yaml:"min_entropy"`    // bits, grey-level histogram
	MinSaturation  float64 `yaml:"min_saturation"` // mean chroma below this is monochrome; 0 disables
}

func defaultCurate() Curate {
	return Curate{PHashThreshold: 10, CrossClass: "exclude", MaxPixels: 40_000_000,
		MinWidth: 64, MinHeight: 64, MaxAspect: 4, MinEntropy: 2.0, MinSaturation: 0}
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
	return nil
}

// Images is the images: section (the dataset's image geometry and size).
type Images struct {
	PerClass int    `yaml:"per_class"`
	Height   int    `yaml:"height"`
	Width    int    `yaml:"width"`
	Fit      string `yaml:"fit"` // pad | crop | stretch
}

func defaultImages() Images { return Images{PerClass: 800, Height: 300, Width: 150, Fit: "pad"} }

func (i Images) validate() *fieldError {
	if i.PerClass <= 0 {
		return ferr("per_class", "must be positive, got %d", i.PerClass)
	}
	if i.Height <= 0 || i.Width <= 0 || i.Height > 4096 || i.Width > 4096 {
		return ferr("height", "image size %dx%d out of range", i.Height, i.Width)
	}
	switch i.Fit {
	case "pad", "crop", "stretch":
	default:
		return ferr("fit", "want pad, crop or stretch, got %q", i.Fit)
	}
	return nil
}

// Split is the split: section.
type Split struct {
	Train          float64 `yaml:"train"`
	Val            float64 `yaml:"val"`
	Test           float64 `yaml:"test"`
	GroupThreshold int     `yaml:"group_threshold"`
}

func defaultSplit() Split { return Split{Train: 0.70, Val: 0.15, Test: 0.15, GroupThreshold: 12} }

func (s Split) validate() *fieldError {
	if s.Train <= 0 || s.Val < 0 || s.Test < 0 {
		return ferr("train", "fractions must be non-negative and train positive")
	}
	if sum := s.Train + s.Val + s.Test; sum < 0.999 || sum > 1.001 {
		return ferr("train", "train+val+test must be 1, got %v", sum)
	}
	if s.GroupThreshold < 0 || s.GroupThreshold > 64 {
		return ferr("group_threshold", "must be 0..64")
	}
	return nil
}

// Train is the train: section.
type Train struct {
	Models    []string `yaml:"models"`
	Epochs    int      `yaml:"epochs"`
	BatchSize int      `yaml:"batch_size"`
	LR        float64  `yaml:"lr"`
	Patience  int      `yaml:"patience"`
	Device    string   `yaml:"device"`
	Freeze    bool     `yaml:"freeze"`
	Augment   bool     `yaml:"augment"`
	Weights   string   `yaml:"weights,omitempty"`
}

func defaultTrain() Train {
	return Train{Models: []string{"effnet-b0", "cnn2"}, Epochs: 50, BatchSize: 32, LR: 1e-3, Patience: 7, Device: "auto"}
}

func (t Train) validate() *fieldError {
	for i, m := range t.Models {
		switch m {
		case "effnet-b0", "cnn", "cnn2":
		default:
			return ferr("models", "entry %d: unknown model %q (effnet-b0, cnn or cnn2)", i, m)
		}
	}
	if t.Epochs <= 0 {
		return ferr("epochs", "must be positive")
	}
	if t.BatchSize <= 0 {
		return ferr("batch_size", "must be positive")
	}
	if t.LR <= 0 {
		return ferr("lr", "must be positive")
	}
	if t.Patience < 0 {
		return ferr("patience", "negative")
	}
	return nil
}
