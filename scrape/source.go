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
	// Characters are the post's character tags, where the site says which
	// tags are characters (HasCharacters). Both travel with the post
	// through a shared crawl's Redis listing (its JSON).
	Characters    []string `json:"characters,omitempty"`
	HasCharacters bool     `json:"has_characters,omitempty"`
	// Variants are smaller renditions of the file (samples), besides the
	// original at FileURL.
	Variants []Variant `json:"-"`

	listedAt string // the cursor of the page that listed it (local mode)
}

// Variant is a rendition of a post's file; Width and Height are its size.
type Variant struct {
	URL           string
	Width, Height int
	Ext           string
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
	// Warnings say what the page lacks without failing it (gelbooru: the
	// tag types single_character needs could not be had).
	Warnings []string
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
	Login  string // danbooru login, gelbooru user id, moebooru user name, zerochan user name
	APIKey string
	// UserID: gelbooru's numeric user id (defaults to Login); danbooru's
	// numeric user id, put in the User-Agent as Danbooru's staff ask.
	UserID string
	// PasswordHash: moebooru's SHA1 of the salted password, sent with
	// login instead of an API key.
	PasswordHash string
	// Page requests: delay between requests (default per kind), random
	// extra delay, and concurrent requests to the host.
	Delay, RandomDelay time.Duration
	// Files: concurrent downloads per file host (default 4, zerochan 1)
	// and delay between downloads per file host (default 0).
	Parallelism int
	FileDelay   time.Duration
	// Pace spaces every request of the source, pages and files together,
	// where the site counts them against one limit (default: zerochan 1s).
	Pace  time.Duration
	Limit int // page size; default and maximum per kind
	// TagLimit: danbooru's tags per search for the account (default 2, as
	// for Anonymous and Member; Gold 6; -1 for none).
	TagLimit int
	// Strict: zerochan's strict mode (the tag must be the primary one).
	Strict bool
	// Sort and Dimension: zerochan's s= (ZerochanSorts) and d=
	// (ZerochanDimensions) listing parameters; "" leaves the site's default.
	Sort, Dimension string
	// NoVerify turns off the md5 check of downloaded files.
	NoVerify bool
	// UserAgent replaces the run's User-Agent for this source (with
	// Cookies: the browser's that passed a challenge).
	UserAgent string
	// Cookies is a Netscape cookies.txt sent with this source's requests.
	Cookies string
	// ImagesURL: gelbooru clones, the host of /images/<directory>/<image>
	// when the listing has no file_url (default: URL).
	ImagesURL string
	// html only. Render draws pages in headless Chromium first (galleries
	// that JavaScript builds, infinite scroll).
	ImageSelector, NextSelector, DetailSelector string
	Render                                      bool
	IgnoreRobots                                bool

	honourRobots bool // html only, unless IgnoreRobots
}

// kindDefaults: per site pace and page sizes; the facts are in each
// site's file.
type kindDefault struct {
	delay, fileDelay, pace time.Duration
	limit, maxLimit        int
	parallelism            int
	robots                 bool // honour robots.txt (html only)
}

var kindDefaults = map[string]kindDefault{
	"danbooru": danbooruDefaults,
	"gelbooru": gelbooruDefaults,
	"moebooru": moebooruDefaults,
	"zerochan": zerochanDefaults,
	"html":     htmlDefaults,
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
	if s.Pace == 0 {
		s.Pace = d.pace
	}
	if s.Parallelism <= 0 {
		s.Parallelism = d.parallelism
	}
	if s.TagLimit == 0 {
		s.TagLimit = 2
	}
	s.honourRobots = d.robots && !s.IgnoreRobots
	if s.Limit <= 0 {
		s.Limit = d.limit
	}
	if d.maxLimit > 0 && s.Limit > d.maxLimit {
		s.Limit = d.maxLimit
	}
	if s.UserID == "" && s.Kind == "gelbooru" {
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
