package scrape

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/chara-dev/chara/internal/config"
)

// Post is one candidate image found by a source.
type Post struct {
	ID       string   `json:"id"`
	FileURL  string   `json:"file_url"`
	MD5      string   `json:"md5,omitempty"`
	Width    int      `json:"width,omitempty"`
	Height   int      `json:"height,omitempty"`
	Rating   string   `json:"rating,omitempty"` // g, s, q, e; "" when the site has none
	Tags     []string `json:"tags,omitempty"`
	Ext      string   `json:"ext,omitempty"` // as listed (jpg, png, ...), "" if unknown
	FileSize int64    `json:"file_size,omitempty"`
	PageURL  string   `json:"page_url,omitempty"`
}

// Page is one page of search results.
type Page struct {
	Posts []Post
	// Next is the cursor of the following page; "" ends the pagination.
	Next string
	// Skipped counts posts the site listed but that cannot be fetched, by
	// reason (restricted, deleted, banned).
	Skipped map[string]int
	// URL is the page's address (credentials redacted), for logs.
	URL string
}

// Adapter is one site's API: a query and a cursor ("" for the first page)
// give one page of candidates and the cursor of the next.
type Adapter interface {
	Page(ctx context.Context, query, cursor string) (*Page, error)
}

// Resolver is implemented by adapters whose listings lack the file URL
// (zerochan); Resolve fills it in with one more request.
type Resolver interface {
	Resolve(ctx context.Context, p *Post) error
}

// Source is one configured site.
type Source struct {
	Name   string // the key under sources:, used in archive keys (name:post_id)
	Kind   string // danbooru | gelbooru | moebooru | zerochan | html
	URL    string
	Login  string // danbooru login, gelbooru user id, zerochan user name
	APIKey string
	UserID string // gelbooru; defaults to Login
	// Page requests: delay between requests (default per kind), random
	// extra delay, and concurrent requests to the host.
	Delay, RandomDelay time.Duration
	// Files: concurrent downloads (default 4) and delay between downloads
	// per file host (default 0, zerochan 1s).
	Parallelism int
	FileDelay   time.Duration
	Limit       int // page size; default and maximum per kind
	// html only.
	ImageSelector, NextSelector string
	IgnoreRobots                bool
}

// kindDefaults: page delay, default page size, maximum page size.
var kindDefaults = map[string]struct {
	delay, fileDelay time.Duration
	limit, maxLimit  int
}{
	"danbooru": {delay: 500 * time.Millisecond, limit: 200, maxLimit: 200},
	"gelbooru": {delay: 500 * time.Millisecond, limit: 100, maxLimit: 1000},
	"moebooru": {delay: time.Second, limit: 100, maxLimit: 100},
	"zerochan": {delay: time.Second, fileDelay: time.Second, limit: 100, maxLimit: 250}, // 60 requests a minute
	"html":     {delay: time.Second, limit: 0, maxLimit: 0},
}

func (s Source) withDefaults() (Source, error) {
	d, ok := kindDefaults[s.Kind]
	if !ok {
		return s, fmt.Errorf("source %q: %w: unknown kind %q (danbooru, gelbooru, moebooru, zerochan or html)", s.Name, ErrConfig, s.Kind)
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return s, fmt.Errorf("source %q: %w: url %q is not an http(s) URL", s.Name, ErrConfig, s.URL)
	}
	if s.Name == "" || strings.ContainsAny(s.Name, ": ") {
		return s, fmt.Errorf("source %q: %w: name must be non-empty without ':' or spaces", s.Name, ErrConfig)
	}
	if s.Delay == 0 {
		s.Delay = d.delay
	}
	if s.FileDelay == 0 {
		s.FileDelay = d.fileDelay
	}
	if s.Parallelism <= 0 {
		s.Parallelism = 4
	}
	if s.Limit <= 0 {
		s.Limit = d.limit
	}
	if d.maxLimit > 0 && s.Limit > d.maxLimit {
		s.Limit = d.maxLimit
	}
	if s.UserID == "" {
		s.UserID = s.Login
	}
	if s.Kind == "html" && s.ImageSelector == "" {
		return s, fmt.Errorf("source %q: %w: image_selector is required for kind html", s.Name, ErrConfig)
	}
	if s.Kind == "zerochan" && s.Login == "" {
		return s, fmt.Errorf("source %q: %w: zerochan's rules require a User-Agent naming your zerochan user name: set login (or CHARA_%s_LOGIN)", s.Name, ErrConfig, EnvName(s.Name))
	}
	return s, nil
}

// EnvName is the source name as used in CHARA_<NAME>_LOGIN.
func EnvName(source string) string { return config.EnvName(source) }

// newAdapter builds the adapter for a source.
func newAdapter(s Source, p *pager) (Adapter, error) {
	base := strings.TrimRight(s.URL, "/")
	switch s.Kind {
	case "danbooru":
		return &danbooru{src: s, base: base, p: p}, nil
	case "gelbooru":
		return &gelbooru{src: s, base: base, p: p}, nil
	case "moebooru":
		return &moebooru{src: s, base: base, p: p}, nil
	case "zerochan":
		return &zerochan{src: s, base: base, p: p}, nil
	case "html":
		return &htmlGallery{src: s, p: p}, nil
	}
	return nil, fmt.Errorf("source %q: %w: unknown kind %q", s.Name, ErrConfig, s.Kind)
}

// NormalizeTag lower-cases a tag and turns spaces into underscores.
func NormalizeTag(t string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(t)), " ", "_")
}

func normalizeTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	for _, t := range tags {
		if n := NormalizeTag(t); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// extOf guesses the listed type from a URL's extension.
func extOf(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return ""
	}
	e := strings.ToLower(strings.TrimPrefix(path.Ext(pu.Path), "."))
	if e == "jpeg" {
		e = "jpg"
	}
	return e
}

// flexString decodes a JSON string or number.
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if string(b) == "null" {
		*f = ""
		return nil
	}
	*f = flexString(strings.TrimSpace(string(b)))
	return nil
}

// flexInt decodes a JSON number or a numeric string.
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return err
	}
	*f = flexInt(n)
	return nil
}

func decodeJSON(u string, body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w: not the expected JSON: %v (body starts %q)", u, ErrBadResponse, err, snippet(body))
	}
	return nil
}

func authHeader(login, key string) http.Header {
	h := http.Header{}
	if login != "" && key != "" {
		r, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
		r.SetBasicAuth(login, key)
		h.Set("Authorization", r.Header.Get("Authorization"))
	}
	return h
}
