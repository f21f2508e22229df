package config

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
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
	Parallelism int           `yaml:"parallelism,omitempty"` // concurrent file downloads
	FileDelay   time.Duration `yaml:"file_delay,omitempty"`  // between file downloads per host
	Limit       int           `yaml:"limit,omitempty"`       // page size
	// Pace spaces every request to the site, pages and files together.
	Pace time.Duration `yaml:"pace,omitempty"`
	// TagLimit: danbooru tags per search for the account (2 Anonymous and
	// Member, 6 Gold, -1 none).
	TagLimit int `yaml:"tag_limit,omitempty"`
	// PasswordHash: moebooru's hashed password, instead of an API key.
	PasswordHash string `yaml:"password_hash,omitempty"`
	// Strict: zerochan's strict mode (the tag must be the primary one).
	Strict bool `yaml:"strict,omitempty"`
	// Sort, Dimension: zerochan's listing order (id, fav) and size or
	// shape (large, huge, landscape, portrait, square).
	Sort      string `yaml:"sort,omitempty"`
	Dimension string `yaml:"dimension,omitempty"`
	// VerifyMD5: check files against the listed md5 (default true).
	VerifyMD5 *bool `yaml:"verify_md5,omitempty"`
	// UserAgent replaces scrape.user_agent for this source; Cookies is a
	// Netscape cookies.txt sent with its requests (a browser's, to pass a
	// Cloudflare check, with that browser's User-Agent).
	UserAgent string `yaml:"user_agent,omitempty"`
	Cookies   string `yaml:"cookies,omitempty"`
	// ImagesURL: gelbooru clones whose files live on another host and whose
	// listing has no file_url: the base of /images/<directory>/<image>.
	ImagesURL string `yaml:"images_url,omitempty"`
	// html sources only: CSS selectors.
	ImageSelector  string `yaml:"image_selector,omitempty"`
	NextSelector   string `yaml:"next_selector,omitempty"`
	DetailSelector string `yaml:"detail_selector,omitempty"` // on the page an image link leads to: the file link
	Render         bool   `yaml:"render,omitempty"`          // draw pages in headless Chromium first
	IgnoreRobots   bool   `yaml:"ignore_robots,omitempty"`
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
	if s.Delay < 0 {
		return ferr("delay", "negative")
	}
	if s.RandomDelay < 0 {
		return ferr("random_delay", "negative")
	}
	if s.FileDelay < 0 {
		return ferr("file_delay", "negative")
	}
	if s.Parallelism < 0 {
		return ferr("parallelism", "negative")
	}
	if s.Limit < 0 {
		return ferr("limit", "negative")
	}
	if s.ImagesURL != "" {
		if u, err := url.Parse(s.ImagesURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return ferr("images_url", "not an http(s) URL: %q", s.ImagesURL)
		}
	}
	if s.Pace < 0 {
		return ferr("pace", "negative")
	}
	if s.TagLimit < -1 {
		return ferr("tag_limit", "must be positive, or -1 for no limit")
	}
	if s.Kind == "html" && s.ImageSelector == "" {
		return ferr("image_selector", "required for kind html")
	}
	if s.Kind != "html" && s.Render {
		return ferr("render", "for kind html only")
	}
	if s.Kind != "html" && s.DetailSelector != "" {
		return ferr("detail_selector", "for kind html only")
	}
	// zerochan.net/api; waifuc waifuc/source/zerochan.py (Sort, Dimension).
	for _, o := range []struct{ key, val, allowed string }{
		{"sort", s.Sort, "id fav"}, {"dimension", s.Dimension, "large huge landscape portrait square"},
	} {
		if o.val == "" {
			continue
		}
		if s.Kind != "zerochan" {
			return ferr(o.key, "for kind zerochan only")
		}
		if !slices.Contains(strings.Fields(o.allowed), o.val) {
			return ferr(o.key, "%q is not one of %s", o.val, strings.ReplaceAll(o.allowed, " ", ", "))
		}
	}
	return nil
}

// Scrape is the scrape: section.
type Scrape struct {
	Candidates   int           `yaml:"candidates"`
	MinWidth     int           `yaml:"min_width"`
	MinHeight    int           `yaml:"min_height"`
	Ratings      []string      `yaml:"ratings"`
	ExcludeTags  []string      `yaml:"exclude_tags"`
	UserAgent    string        `yaml:"user_agent"`
	MaxFileSize  int64         `yaml:"max_file_size"`
	Types        []string      `yaml:"types,omitempty"`       // jpg, png, gif, webp (default all four)
	Redis        string        `yaml:"redis,omitempty"`       // redis://[:password@]host:port/db: one crawl shared by several machines
	Job          string        `yaml:"job,omitempty"`         // the shared crawl's name (default: derived from sources and classes)
	RedisLease   time.Duration `yaml:"redis_lease,omitempty"` // how long a dead worker's share of the crawl is held (default 10s)
	IgnoreRobots bool          `yaml:"ignore_robots,omitempty"`
	// SingleCharacter skips posts whose character tags name another
	// character or several (default true).
	SingleCharacter *bool `yaml:"single_character,omitempty"`
	// MinSide: a sample or jpeg rendition is fetched instead of the
	// original when both its sides reach MinSide (default: the larger of
	// images.height and images.width; -1 always fetches originals).
	MinSide int `yaml:"min_side,omitempty"`
}

// DefaultExcludeTags are rarely wanted in a character dataset: comics,
// photos of cosplay, sketches, monochrome pictures (Danbooru's tags).
var DefaultExcludeTags = []string{"comic", "4koma", "cosplay", "photo_(medium)", "sketch", "monochrome", "greyscale"}

func defaultScrape() Scrape {
	return Scrape{Candidates: 1200, MinWidth: 150, MinHeight: 300, Ratings: []string{"g", "s"},
		MaxFileSize: 20 << 20, ExcludeTags: append([]string(nil), DefaultExcludeTags...)}
}

// SingleCharacterOn reports scrape.single_character (default true).
func (s Scrape) SingleCharacterOn() bool { return s.SingleCharacter == nil || *s.SingleCharacter }

func (s Scrape) validate() *fieldError {
	if s.Candidates <= 0 {
		return ferr("candidates", "must be positive, got %d", s.Candidates)
	}
	if s.MinWidth < 0 {
		return ferr("min_width", "negative")
	}
	if s.MinHeight < 0 {
		return ferr("min_height", "negative")
	}
	for i, r := range s.Ratings {
		switch r {
		case "g", "s", "q", "e":
		default:
			return ferr(fmt.Sprintf("ratings[%d]", i), "unknown rating %q (g, s, q or e)", r)
		}
	}
	for i, t := range s.Types {
		switch strings.ToLower(t) {
		case "jpg", "jpeg", "png", "gif", "webp":
		default:
			return ferr(fmt.Sprintf("types[%d]", i), "unknown type %q (jpg, png, gif or webp)", t)
		}
	}
	if s.MinSide < -1 {
		return ferr("min_side", "must be positive, or -1 for originals only")
	}
	if s.MaxFileSize <= 0 {
		return ferr("max_file_size", "must be positive")
	}
	if s.Redis != "" {
		u, err := url.Parse(s.Redis)
		if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			return ferr("redis", "not a redis:// URL: %q", RedactURL(s.Redis))
		}
	}
	if s.RedisLease < 0 || (s.RedisLease > 0 && s.RedisLease < 100*time.Millisecond) {
		return ferr("redis_lease", "%s: at least 100ms", s.RedisLease)
	}
	if s.Job != "" && !ValidJobName(s.Job) {
		return ferr("job", "%q: 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit", s.Job)
	}
	return nil
}

// WithEnv returns the source with credentials from the environment:
// CHARA_<NAME>_LOGIN, CHARA_<NAME>_API_KEY and CHARA_<NAME>_USER_ID, where
// NAME is the source's key upper-cased with non-alphanumerics as '_'. The
// environment wins over the file.
func (s Source) WithEnv(name string, getenv func(string) string) Source {
	prefix := "CHARA_" + EnvName(name) + "_"
	if v := getenv(prefix + "LOGIN"); v != "" {
		s.Login = v
	}
	if v := getenv(prefix + "API_KEY"); v != "" {
		s.APIKey = v
	}
	if v := getenv(prefix + "USER_ID"); v != "" {
		s.UserID = v
	}
	return s
}

// EnvName is a source key as used in environment variable names.
func EnvName(name string) string {
	return strings.ToUpper(strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, name))
}

// String shows a source without its credentials.
func (s Source) String() string {
	return fmt.Sprintf("{kind: %s, url: %s, login: %s, api_key: %s}", s.Kind, s.URL, redacted(s.Login), redacted(s.APIKey))
}

// GoString keeps %#v from printing credentials too.
func (s Source) GoString() string { return "config.Source" + s.String() }

func redacted(v string) string {
	if v == "" {
		return `""`
	}
	return "REDACTED"
}

var jobNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidJobName reports whether name can name a shared crawl (scrape.job).
func ValidJobName(name string) bool { return jobNameRE.MatchString(name) }

// RedactURL hides the password of a URL (scrape.redis) for messages.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if i := strings.LastIndex(raw, "@"); i >= 0 {
			scheme, _, _ := strings.Cut(raw, "://")
			return scheme + "://REDACTED@" + raw[i+1:]
		}
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "REDACTED")
	}
	return u.String()
}
