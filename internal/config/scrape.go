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
