// Package booru is a fake image board for tests and for `chara demo`. One
// Server answers with the real response shapes and paging of the APIs that
// chara's scrape adapters speak:
//
//   - danbooru:  GET /posts.json?tags=&limit=&page=  (page number or b<id>/a<id> cursor)
//   - gelbooru:  GET /index.php?page=dapi&s=post&q=index&json=1&tags=&limit=&pid=
//     (a bare list like Safebooru, or {"@attributes":{...},"post":[...]} like Gelbooru)
//     and GET /index.php?page=dapi&s=tag&q=index&names= (tag types)
//   - moebooru:  GET /post.json?tags=&limit=&page=
//   - zerochan:  GET /<Tag>?json&p=&l=  and  GET /<id>?json
//   - html:      GET /gallery?tags=&page=  (thumbnails and a "next" link)
//   - files:     GET /data/<md5>.<ext>
//   - GET /robots.txt
//
// Faults (rate limits, server errors, slow or truncated responses, HTML
// served as an image, wrong content types, oversized bodies, cross-host
// redirects) are injected with options, and every request is counted so
// that tests can assert what was fetched and how often.
package booru

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"image"
	_ "image/gif"  // DecodeConfig
	_ "image/jpeg" // DecodeConfig
	_ "image/png"  // DecodeConfig
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/chara-dev/chara/internal/imageio"
)

// Post is one post on the fake board.
type Post struct {
	ID     int
	Tags   []string // normalised tags: lower case, underscores
	Rating string   // danbooru letters: g, s, q, e
	Image  []byte   // the file's bytes (its magic bytes decide the extension)
	// PadTo, when larger than len(Image), makes the served file that many
	// bytes long: Image followed by filler derived from ID. It lets a test
	// serve thousands of large distinct files without holding them.
	PadTo int
	// Width and Height are what the API reports; zero means read them from
	// the image header.
	Width, Height int
	Deleted       bool // danbooru is_deleted
	Banned        bool // danbooru is_banned
	Restricted    bool // danbooru: listed without md5 or file_url
	Source        string
	Score         int      // danbooru score (order:score)
	Characters    []string // character tags (danbooru tag_string_character)

	md5  string
	ext  string
	size int
}

// Target selects which requests a fault applies to.
type Target int

const (
	API    Target = iota + 1 // list and post pages of every API, and the HTML gallery
	Files                    // /data/ files
	Robots                   // /robots.txt
)

// FaultKind is a kind of misbehaviour.
type FaultKind int

const (
	// RateLimit answers 429 with the Retry-After header of the fault; an
	// empty RetryAfter sends none, as Danbooru's app does (its 429 goes
	// through render_error_page, application_controller.rb:151;
	// REAL-SITES.md §1 "rate limits / 429").
	RateLimit FaultKind = iota + 1
	// Unavailable answers 503 with the Retry-After header of the fault;
	// without one, as Zerochan's "Limit reached (503)" does
	// (https://github.com/Bionus/imgbrd-grabber/issues/3528; gallery-dl #8288).
	Unavailable
	// ServerError answers 500.
	ServerError
	// Slow waits Delay before answering normally.
	Slow
	// Truncate announces the full Content-Length, sends half the body and
	// closes the connection.
	Truncate
	// HTMLAsImage answers an HTML page with Content-Type image/jpeg.
	HTMLAsImage
	// WrongType serves the right bytes with Content-Type text/html.
	WrongType
	// Oversize serves a body of Size bytes that starts like the real file.
	// With Chunked, no Content-Length is sent.
	Oversize
	// Redirect answers 302 to the same path on RedirectBase (another host).
	// A request that already arrives at that host is served normally.
	Redirect
	// Status answers Code with an empty JSON object.
	Status
	// Challenge answers Cloudflare's browser check: 403 with
	// "cf-mitigated: challenge" and the "Just a moment..." page, as
	// danbooru.donmai.us did to non-browser TLS in 2026-04
	// (https://github.com/Aaalice233/ComfyUI-Danbooru-Gallery/pull/28) and
	// konachan.com's API does (https://github.com/khoadng/Boorusama/issues/411).
	// With WithClearance, a request carrying the cookie passes.
	Challenge
)

// Fault is one injected misbehaviour.
type Fault struct {
	Kind FaultKind
	On   Target
	// Times limits the fault to the first Times requests of each distinct
	// URL; 0 applies it to every request.
	Times int
	// PostIDs limits a Files fault to these posts; empty means all.
	PostIDs      []int
	RetryAfter   string        // header value for RateLimit and Unavailable: "1" or an HTTP date
	Delay        time.Duration // Slow
	Size         int64         // Oversize
	Chunked      bool          // Oversize
	RedirectBase string        // Redirect: "http://host:port"
	Code         int           // Status
}

// Option configures a Server.
type Option func(*Server)

// WithFaults adds faults; the first that matches a request applies.
func WithFaults(f ...Fault) Option { return func(s *Server) { s.faults = append(s.faults, f...) } }

// WithRobots sets the body of /robots.txt (default: 404, which allows all).
// DanbooruRobots is Danbooru's own (app/views/robots/index.text.erb,
// REAL-SITES.md §1).
func WithRobots(txt string) Option { return func(s *Server) { s.robots = txt } }

// WithDanbooruAuth makes /posts.json require login and api key (HTTP Basic
// or login/api_key parameters, Danbooru help:api; a bad key is 401,
// application_controller.rb:129); anonymous searches are limited to 2 tags
// whether or not auth is required (user.rb:680-690).
func WithDanbooruAuth(login, apiKey string) Option {
	return func(s *Server) { s.dbLogin, s.dbKey = login, apiKey }
}

// WithDanbooruGold makes the account of WithDanbooruAuth a Gold one: 6
// tags per search instead of 2 (user.rb tag_query_limit).
func WithDanbooruGold() Option { return func(s *Server) { s.dbGold = true } }

// WithVariants lists sample renditions beside the originals (danbooru
// media_asset.variants, moebooru sample_url/jpeg_url: waifuc danbooru.py
// and konachan.py _select_url, moebooru api_methods.rb), served under
// /data/sample/ at the reported size.
func WithVariants() Option { return func(s *Server) { s.variants = true } }

// WithGelbooruAuth makes the dapi require api_key and user_id (answered 401
// without them, like Gelbooru since 2025-06: gallery-dl #7674,
// RSS-Bridge #4603).
func WithGelbooruAuth(apiKey, userID string) Option {
	return func(s *Server) { s.gbKey, s.gbUser = apiKey, userID }
}

// WithGelbooruShape picks the dapi JSON shape: false (default) is
// Safebooru's bare list with directory/image/hash; true is Gelbooru's
// {"@attributes":{...},"post":[...]} with file_url and md5 (howto:api;
// gallery-dl gelbooru.py; ajiiisai/booru-rs src/model/safebooru.rs).
func WithGelbooruShape(attributes bool) Option {
	return func(s *Server) { s.gbAttributes = attributes }
}

// WithGelbooruMaxLimit sets the dapi page size cap (Safebooru 1000, its dapi
// help; Gelbooru 100, howto:api and imgbrd-grabber's maxLimit).
func WithGelbooruMaxLimit(n int) Option { return func(s *Server) { s.gbMax = n } }

// WithClearance lets requests with this cookie (Cloudflare's cf_clearance,
// say) and User-Agent through a Challenge fault (Cloudflare's 403 with
// cf-mitigated: challenge; gallery-dl util.detect_challenge, REAL-SITES.md §1).
func WithClearance(cookie, value, userAgent string) Option {
	return func(s *Server) { s.clearName, s.clearValue, s.clearUA = cookie, value, userAgent }
}

// WithZerochanAliases makes zerochan tags in aliases (as written, e.g.
// "nakano miku" or "Miku Nakano") redirect to their canonical tag without
// ?json, as Zerochan does (gallery-dl #5891).
func WithZerochanAliases(aliases map[string]string) Option {
	return func(s *Server) { s.zcAliases = aliases }
}

// WithZerochanControlChars puts raw control characters in zerochan's post
// JSON (gallery-dl #5892, #5219).
func WithZerochanControlChars() Option { return func(s *Server) { s.zcControl = true } }

// WithZerochanEmptyEnd answers an empty body for a zerochan page past the
// last (gallery-dl #5826).
func WithZerochanEmptyEnd() Option { return func(s *Server) { s.zcEmptyEnd = true } }

// WithGelbooruMaxOffset sets where the dapi answers "Too deep! Pull it
// back some" (about 20000 on Gelbooru, gallery-dl #2232).
func WithGelbooruMaxOffset(n int) Option { return func(s *Server) { s.gbMaxOffset = n } }

// WithGelbooruError answers every dapi request with
// <response success="false" reason="..."/> and HTTP 200, even with json=1,
// as Gelbooru did for its anonymous daily cap (gallery-dl #2767) and 0.2
// sites do for "Missing authentication" (gallery-dl gelbooru_v02.py).
func WithGelbooruError(reason string) Option { return func(s *Server) { s.gbError = reason } }

// WithoutGelbooruTagAPI answers the dapi's tag index with 404, as a
// clone without it would (the endpoint itself: NO-ob/LoliSnatcher_Droid's
// Gelbooru handler, imgbrd-grabber's Gelbooru 0.2 tagApiEndpoint).
func WithoutGelbooruTagAPI() Option { return func(s *Server) { s.gbNoTags = true } }

// WithGelbooruXML answers the dapi in XML whatever json= says, as 0.2
// clones may (gallery-dl reads every v02 site as XML, gelbooru_v02.py:42).
func WithGelbooruXML() Option { return func(s *Server) { s.gbXML = true } }

// WithGelbooruSingleObject answers a one-post page with "post" as an
// object (Gelbooru shape; gallery-dl gelbooru.py:53, commit 19096cc64).
func WithGelbooruSingleObject() Option { return func(s *Server) { s.gbSingle = true } }

// WithGelbooruEmptyPages answers the first n requests of every page after
// the first with no posts (Safebooru, gallery-dl #5830).
func WithGelbooruEmptyPages(n int) Option { return func(s *Server) { s.gbFlaky = n } }

// WithMoebooruAuth sets the one moebooru account: user with apiKey
// (username+api_key) or passwordHash (login+password_hash), moebooru's two
// forms (application_controller.rb:39-50; help api.en.html.erb:95); a
// failed authentication falls back to anonymous.
func WithMoebooruAuth(user, apiKey, passwordHash string) Option {
	return func(s *Server) { s.mbUser, s.mbKey, s.mbHash = user, apiKey, passwordHash }
}

// GalleryStyle shapes the HTML gallery (see Server.gallery).
type GalleryStyle struct {
	SameName bool // files at /img/<id>/original.<ext>: one base name for all
	Script   bool // files at /download.php?id=<id>: no extension
	Detail   bool // thumbnails link to /post/<id>, which links the file
	Lazy     bool // <img data-original=...> instead of <a href=...>
	Cycle    bool // the last page's next link goes back to page 1
	// Script draws the thumbnails with JavaScript, 5 at first and 5 more
	// each time the page is scrolled to the bottom (infinite scroll); the
	// HTML as served has none.
	JS      bool
	WWWHost string // requests to another host are redirected to this one (301)
}

// WithGallery sets the gallery's style.
func WithGallery(g GalleryStyle) Option { return func(s *Server) { s.gallery_ = g } }

// WithLatency delays every response (a slow but healthy site).
func WithLatency(d time.Duration) Option { return func(s *Server) { s.latency = d } }

// Server is the fake board. It implements http.Handler.
type Server struct {
	posts   []*Post // newest (highest ID) first
	byMD5   map[string]*Post
	byID    map[int]*Post
	faults  []Fault
	robots  string
	latency time.Duration

	dbLogin, dbKey        string
	dbGold                bool
	variants              bool
	lastUA                string
	gbMaxOffset           int
	gbXML, gbSingle       bool
	gbFlaky               int
	gbError               string
	gbFlakySeen           map[string]int
	mbUser, mbKey, mbHash string
	gallery_              GalleryStyle
	zcAliases             map[string]string
	zcControl             bool
	zcEmptyEnd            bool
	clearName             string
	clearValue            string
	clearUA               string
	times                 []time.Time
	fileTimes             map[int][]time.Time
	rendered              map[string][]byte
	gbKey, gbUser         string
	gbAttributes          bool
	gbMax                 int
	gbNoTags              bool
	tagAsked              map[string]int // names asked of the gelbooru tag index

	mu       sync.Mutex
	total    int
	api      int
	files    map[int]int
	urls     map[string]int
	inflight int
	maxIn    int
}

// New builds a board serving posts.
func New(posts []Post, opts ...Option) *Server {
	s := &Server{
		byMD5: map[string]*Post{},
		byID:  map[int]*Post{},
		gbMax: 1000,
		files: map[int]int{},
		urls:  map[string]int{},

		rendered: map[string][]byte{},

		gbMaxOffset: 20000,
		gbFlakySeen: map[string]int{},
		fileTimes:   map[int][]time.Time{},
	}
	for i := range posts {
		p := posts[i]
		p.Tags = append([]string(nil), p.Tags...)
		p.ext = Ext(p.Image)
		p.size = max(len(p.Image), p.PadTo)
		h := md5.New()
		_, _ = h.Write(p.Image)
		if p.PadTo > len(p.Image) {
			writeFiller(h, p.ID, p.PadTo-len(p.Image))
		}
		p.md5 = hex.EncodeToString(h.Sum(nil))
		if p.Width == 0 || p.Height == 0 {
			if cfg, _, err := image.DecodeConfig(bytes.NewReader(p.Image)); err == nil {
				p.Width, p.Height = cfg.Width, cfg.Height
			}
		}
		s.posts = append(s.posts, &p)
		s.byMD5[p.md5] = &p
		s.byID[p.ID] = &p
	}
	sort.Slice(s.posts, func(i, j int) bool { return s.posts[i].ID > s.posts[j].ID })
	for _, o := range opts {
		o(s)
	}
	return s
}

// MD5 returns the md5 the API reports for post id ("" if unknown).
func (s *Server) MD5(id int) string {
	if p, ok := s.byID[id]; ok {
		return p.md5
	}
	return ""
}

// LastUserAgent is the User-Agent of the last danbooru API request.
func (s *Server) LastUserAgent() string { s.mu.Lock(); defer s.mu.Unlock(); return s.lastUA }

// RequestTimes returns when each request arrived, in order.
func (s *Server) RequestTimes() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.times...)
}

// FileTimes returns when each request for a post's file arrived.
func (s *Server) FileTimes(id int) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.fileTimes[id]...)
}

// Requests is the number of requests served so far.
func (s *Server) Requests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.total }

// APIRequests is the number of API and gallery page requests.
func (s *Server) APIRequests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.api }

// FileRequests returns how often each post's file was requested.
func (s *Server) FileRequests() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int]int, len(s.files))
	for k, v := range s.files {
		out[k] = v
	}
	return out
}

// URLRequests returns how often a request URI (path?query) was requested.
func (s *Server) URLRequests(uri string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.urls[uri] }

// TagLookups returns how often each name was asked of the gelbooru tag
// index.
func (s *Server) TagLookups() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.tagAsked))
	for k, v := range s.tagAsked {
		out[k] = v
	}
	return out
}

// MaxConcurrent is the largest number of requests served at once.
func (s *Server) MaxConcurrent() int { s.mu.Lock(); defer s.mu.Unlock(); return s.maxIn }

// Reset clears the request counters.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.total, s.api, s.maxIn = 0, 0, 0
	s.times = nil
	s.fileTimes = map[int][]time.Time{}
	s.files = map[int]int{}
	s.urls = map[string]int{}
	s.tagAsked = nil
}

// ServeHTTP routes a request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	target, post := s.classify(r)
	s.mu.Lock()
	s.total++
	s.inflight++
	s.maxIn = max(s.maxIn, s.inflight)
	uri := r.URL.RequestURI()
	s.times = append(s.times, time.Now())
	s.urls[uri]++
	n := s.urls[uri]
	switch target {
	case API:
		s.api++
	case Files:
		if post != nil {
			s.files[post.ID]++
			s.fileTimes[post.ID] = append(s.fileTimes[post.ID], time.Now())
		}
	}
	s.mu.Unlock()
	defer func() { s.mu.Lock(); s.inflight--; s.mu.Unlock() }()

	if s.latency > 0 && !sleep(r, s.latency) {
		return
	}
	if h := s.gallery_.WWWHost; h != "" && r.Host != h {
		http.Redirect(w, r, "http://"+h+r.URL.RequestURI(), http.StatusMovedPermanently)
		return
	}
	if f := s.fault(r, target, post, n); f != nil {
		if s.applyFault(w, r, f, post) {
			return
		}
	}
	switch {
	case r.URL.Path == "/robots.txt":
		if s.robots == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(s.robots))
	case target == Files:
		if post == nil {
			http.NotFound(w, r)
			return
		}
		if dir := path.Base(path.Dir(r.URL.Path)); strings.HasPrefix(r.URL.Path, "/data/") && dir != "data" {
			if !s.serveVariant(w, post, dir) {
				http.NotFound(w, r)
			}
			return
		}
		s.serveFile(w, post, "")
	case !s.serveAPI(w, r, q):
		http.NotFound(w, r)
	}
}

// serveAPI answers an API or gallery request; false if r is none.
func (s *Server) serveAPI(w http.ResponseWriter, r *http.Request, q url.Values) bool {
	switch {
	case r.URL.Path == "/posts.json":
		s.danbooru(w, r, q)
	case r.URL.Path == "/index.php":
		s.gelbooru(w, r, q)
	case r.URL.Path == "/post.json":
		s.moebooru(w, r, q)
	case strings.HasPrefix(r.URL.Path, "/post/"):
		return s.detailPage(w, r)
	case r.URL.Path == "/gallery" && s.gallery_.JS:
		s.jsGallery(w, r, q)
	case r.URL.Path == "/gallery":
		s.gallery(w, r, q)
	case q.Has("json"):
		s.zerochan(w, r, q)
	default:
		return false
	}
	return true
}

func (s *Server) classify(r *http.Request) (Target, *Post) {
	switch {
	case r.URL.Path == "/robots.txt":
		return Robots, nil
	case strings.HasPrefix(r.URL.Path, "/img/"):
		id, _ := strconv.Atoi(path.Base(path.Dir(r.URL.Path)))
		return Files, s.byID[id]
	case r.URL.Path == "/download.php":
		id, _ := strconv.Atoi(r.URL.Query().Get("id"))
		return Files, s.byID[id]
	case strings.HasPrefix(r.URL.Path, "/data/"), strings.HasPrefix(r.URL.Path, "/images/"):
		name := path.Base(r.URL.Path)
		if i := strings.IndexByte(name, '.'); i >= 0 {
			name = name[:i]
		}
		return Files, s.byMD5[name]
	}
	return API, nil
}

func (s *Server) fault(r *http.Request, target Target, post *Post, n int) *Fault {
	for i := range s.faults {
		f := &s.faults[i]
		if f.On != target {
			continue
		}
		if f.Times > 0 && n > f.Times {
			continue
		}
		if len(f.PostIDs) > 0 {
			if post == nil || !containsInt(f.PostIDs, post.ID) {
				continue
			}
		}
		if f.Kind == Redirect {
			if u, err := url.Parse(f.RedirectBase); err == nil && u.Host == r.Host {
				continue
			}
		}
		return f
	}
	return nil
}

// applyFault writes the faulty answer; false means "answer normally".
func (s *Server) applyFault(w http.ResponseWriter, r *http.Request, f *Fault, post *Post) bool {
	switch f.Kind {
	case RateLimit, Unavailable:
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		code := http.StatusTooManyRequests
		if f.Kind == Unavailable {
			code = http.StatusServiceUnavailable
		}
		http.Error(w, http.StatusText(code), code)
	case ServerError:
		http.Error(w, "internal error", http.StatusInternalServerError)
	case Challenge:
		if s.clearName != "" && r.UserAgent() == s.clearUA {
			if c, err := r.Cookie(s.clearName); err == nil && c.Value == s.clearValue {
				return false
			}
		}
		w.Header().Set("Server", "cloudflare")
		w.Header().Set("Cf-Mitigated", "challenge")
		w.Header().Set("Content-Type", "text/html; charset=UTF-8")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte("<!DOCTYPE html><html lang=\"en-US\"><head><title>Just a moment...</title></head><body><script>window._cf_chl_opt={cType: 'managed'};</script></body></html>"))
	case Status:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(f.Code)
		_, _ = w.Write([]byte(`{"success":false,"message":"injected"}`))
	case Slow:
		return !sleep(r, f.Delay) // answer normally after the delay
	case Truncate:
		var body []byte
		if post != nil {
			body = post.Image
		} else {
			rec := &bufferWriter{h: http.Header{}}
			s.serveUnfaulted(rec, r)
			body = rec.buf.Bytes()
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body[:len(body)/2])
		hijackClose(w)
	case HTMLAsImage:
		w.Header().Set("Content-Type", "image/jpeg")
		_, _ = w.Write([]byte("<!DOCTYPE html>\n<html><head><title>Just a moment...</title></head><body>checking your browser</body></html>\n"))
	case WrongType:
		if post == nil {
			rec := &bufferWriter{h: http.Header{}}
			s.serveUnfaulted(rec, r)
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write(rec.buf.Bytes())
			return true
		}
		s.serveFile(w, post, "text/html")
	case Oversize:
		head := []byte("{")
		ctype := "application/json"
		if post != nil {
			head, ctype = post.Image, mimeOf(post.ext)
		}
		w.Header().Set("Content-Type", ctype)
		if !f.Chunked {
			w.Header().Set("Content-Length", strconv.FormatInt(f.Size, 10))
		}
		w.WriteHeader(http.StatusOK)
		n, _ := w.Write(head)
		writeFiller(w, 7, int(f.Size)-n)
	case Redirect:
		http.Redirect(w, r, strings.TrimRight(f.RedirectBase, "/")+r.URL.RequestURI(), http.StatusFound)
	default:
		return false
	}
	return true
}

// serveUnfaulted renders the normal answer of an API request.
func (s *Server) serveUnfaulted(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !s.serveAPI(w, r, q) {
		s.zerochan(w, r, q)
	}
}

func (s *Server) serveFile(w http.ResponseWriter, p *Post, ctype string) {
	if ctype == "" {
		ctype = mimeOf(p.ext)
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(p.size))
	w.WriteHeader(http.StatusOK)
	if _, err := w.Write(p.Image); err != nil {
		return
	}
	if p.PadTo > len(p.Image) {
		writeFiller(w, p.ID, p.PadTo-len(p.Image))
	}
}

// fileURL is the absolute URL of a post's file on the host the request came to.
func fileURL(r *http.Request, p *Post) string {
	return "http://" + r.Host + "/data/" + p.md5 + "." + p.ext
}

// matching returns the posts carrying every tag of query (newest first).
// "-tag" excludes, "rating:x" matches the rating, other metatags are ignored.
func (s *Server) matching(query string) []*Post {
	var out []*Post
	terms := strings.Fields(strings.ToLower(query))
	for _, p := range s.posts {
		if matches(p, terms) {
			out = append(out, p)
		}
	}
	return out
}

func matches(p *Post, terms []string) bool {
	for _, t := range terms {
		neg := strings.HasPrefix(t, "-")
		t = strings.TrimPrefix(t, "-")
		var ok bool
		switch {
		case strings.HasPrefix(t, "rating:"):
			ok = strings.HasPrefix(p.Rating, strings.TrimPrefix(t, "rating:")[:1])
		case strings.HasPrefix(t, "id:<"), strings.HasPrefix(t, "id:>"):
			n, err := strconv.Atoi(t[4:])
			ok = err == nil && (t[3] == '<' && p.ID < n || t[3] == '>' && p.ID > n)
		case strings.Contains(t, ":"):
			continue
		default:
			ok = containsString(p.Tags, t)
		}
		if ok == neg {
			return false
		}
	}
	return true
}

// Ext names the image type from magic bytes: jpg, png, gif, webp, bmp, or "bin".
func Ext(b []byte) string { return strings.TrimPrefix(imageio.Sniff(b).Ext(), ".") }

func mimeOf(ext string) string {
	switch ext {
	case "jpg":
		return "image/jpeg"
	case "png", "gif", "webp":
		return "image/" + ext
	}
	return "application/octet-stream"
}

// writeFiller writes n deterministic pseudo-random bytes derived from seed,
// in 32 KiB blocks.
func writeFiller(w interface{ Write([]byte) (int, error) }, seed int, n int) {
	if n <= 0 {
		return
	}
	block := make([]byte, 32<<10)
	x := uint64(seed)*0x9E3779B97F4A7C15 + 1
	for i := 0; i < len(block); i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		for j := 0; j < 8; j++ {
			block[i+j] = byte(x >> (8 * j))
		}
	}
	for n > 0 {
		k := min(n, len(block))
		if _, err := w.Write(block[:k]); err != nil {
			return
		}
		n -= k
		block[0]++ // successive blocks differ
	}
}

func sleep(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func hijackClose(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
		}
	}
}

type bufferWriter struct {
	h    http.Header
	buf  bytes.Buffer
	code int
}

func (b *bufferWriter) Header() http.Header         { return b.h }
func (b *bufferWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }
func (b *bufferWriter) WriteHeader(code int)        { b.code = code }

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func containsString(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
