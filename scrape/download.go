package scrape

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // DecodeConfig
	_ "image/jpeg" // DecodeConfig
	_ "image/png"  // DecodeConfig
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	_ "golang.org/x/image/webp" // DecodeConfig

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/internal/imageio"
)

// Sniff names an image type from its first bytes: jpg, png, gif, webp (the
// types scrape downloads), or "" for anything else (an HTML page, say).
func Sniff(b []byte) string {
	switch f := imageio.Sniff(b); f {
	case imageio.JPEG, imageio.PNG, imageio.GIF, imageio.WebP:
		return strings.TrimPrefix(f.Ext(), ".")
	}
	return ""
}

func looksHTML(b []byte) bool {
	t := bytes.ToLower(bytes.TrimSpace(b))
	return bytes.HasPrefix(t, []byte("<!doctype html")) || bytes.HasPrefix(t, []byte("<html")) ||
		bytes.HasPrefix(t, []byte("<head")) || bytes.HasPrefix(t, []byte("<body")) || bytes.HasPrefix(t, []byte("<!--"))
}

// filteredError: the downloaded file fails a filter (type, size).
type filteredError struct{ reason string }

func (e *filteredError) Error() string { return "filtered: " + e.reason }

// errDuplicate: the file's sha256 is already archived or being fetched.
var errDuplicate = errors.New("same content already fetched")

// fetched is a downloaded file, checked, under a temporary name: the
// class's group commit fsyncs it, renames it to Name, syncs the directory
// and writes its index line and archive entry.
type fetched struct {
	Name          string // <sha256>.<ext>
	SHA256, MD5   string
	Ext           string
	Size          int64
	Width, Height int
	pending       *atomicfile.Pending
}

// downloader streams files to disk while hashing them: a file is never
// held in memory. It follows redirects to other hosts (CDNs), retries like
// pages do, and limits requests per file host.
type downloader struct {
	client  *http.Client
	policy  RetryPolicy
	limits  *hostLimiter
	maxSize int64
	filters Filters
	bufs    sync.Pool
}

func newDownloader(rt http.RoundTripper, policy RetryPolicy, maxSize int64, filters Filters) *downloader {
	d := &downloader{policy: policy, limits: &hostLimiter{hosts: map[string]*hostSlot{}}, maxSize: maxSize, filters: filters}
	d.client = &http.Client{Transport: rt, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return fmt.Errorf("GET %s: too many redirects", via[0].URL)
		}
		return nil // files may live on another host (a CDN)
	}}
	d.bufs.New = func() any { b := make([]byte, 64<<10); return &b }
	return d
}

type fileRequest struct {
	post        *Post
	url         string // the file to fetch: the original or a variant
	source      string
	dir         string // raw/<slug>
	header      http.Header
	parallelism int
	delay       time.Duration
	pace        *pacer         // the source's, shared with its pages
	jar         http.CookieJar // the source's cookies.txt
	verify      bool           // check the listed md5
	// admit is called with the sha256 once the file is complete, before it
	// is renamed into place; an error (errDuplicate) discards it.
	admit func(ctx context.Context, sha string) error
}

func (d *downloader) fetch(ctx context.Context, fr fileRequest) (*fetched, error) {
	if fr.url == "" {
		fr.url = fr.post.FileURL
	}
	pu, err := url.Parse(fr.url)
	if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") {
		return nil, fmt.Errorf("post %s: bad file URL %q", fr.post.ID, fr.url)
	}
	var out *fetched
	err = d.policy.do(ctx, d.policy.FileTimeout, func(ctx context.Context) error {
		release, err := d.limits.acquire(ctx, pu.Host, fr.parallelism, fr.delay)
		if err != nil {
			return err
		}
		defer release()
		if err := fr.pace.wait(ctx); err != nil {
			return err
		}
		f, err := d.try(ctx, fr)
		if err == nil {
			out = f
		}
		var re *retryError
		if errors.As(err, &re) && re.throttled {
			// The host said "slow down": every download from it waits,
			// not only this one.
			wait := re.after
			if wait <= 0 {
				wait = d.policy.ThrottleWait
			}
			d.limits.pause(pu.Host, min(wait, d.policy.MaxRetryAfter))
		}
		return err
	})
	if err != nil {
		if out != nil {
			out.pending.Discard()
		}
		return nil, err
	}
	return out, nil
}

func (d *downloader) try(ctx context.Context, fr fileRequest) (*fetched, error) {
	u := fr.url
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	for k, v := range fr.header {
		req.Header[k] = v
	}
	req.Header.Set("Accept", "image/*")
	if fr.jar != nil {
		for _, c := range fr.jar.Cookies(req.URL) {
			req.AddCookie(c)
		}
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() {
		// A short rest of a refused body is read, so that the connection
		// goes back to the pool; a long one closes it.
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
		resp.Body.Close()
	}()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if isChallenge(resp.StatusCode, resp.Header, b) {
			return nil, challengeError(fr.source, u, resp.StatusCode)
		}
		return nil, statusFailure(u, resp, b)
	}
	if d.maxSize > 0 && resp.ContentLength > d.maxSize {
		return nil, fmt.Errorf("GET %s: %w: Content-Length %d > %d", u, ErrTooLarge, resp.ContentLength, d.maxSize)
	}
	pf, err := atomicfile.CreatePending(fr.dir)
	if err != nil {
		return nil, err
	}
	f, err := d.fill(ctx, fr, resp, pf)
	if err != nil {
		pf.Discard()
		return nil, err
	}
	f.pending = pf
	return f, nil
}

// fill streams the body into the pending file while hashing it (the
// hashes see each buffer as it arrives from the network: no second pass),
// checks it (type, size, listed md5, dimensions) and has it admitted.
func (d *downloader) fill(ctx context.Context, fr fileRequest, resp *http.Response, w *atomicfile.Pending) (*fetched, error) {
	u := fr.url
	f := &fetched{}
	h256, hmd5 := sha256.New(), md5.New()
	mw := io.MultiWriter(w, h256, hmd5)
	head := make([]byte, 512)
	n, err := readUpTo(resp.Body, head)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", u, err)
	}
	head = head[:n]
	ext := Sniff(head)
	if ext == "" {
		what := "unknown content"
		if looksHTML(head) {
			what = "an HTML page"
		}
		return nil, fmt.Errorf("GET %s: %w: %s served as %q", u, ErrNotImage, what, resp.Header.Get("Content-Type"))
	}
	if !d.filters.typeOK(ext) {
		return nil, &filteredError{ReasonFileType}
	}
	if _, err := mw.Write(head); err != nil {
		return nil, err
	}
	bp := d.bufs.Get().(*[]byte)
	defer d.bufs.Put(bp)
	var src io.Reader = resp.Body
	if d.maxSize > 0 {
		src = io.LimitReader(resp.Body, d.maxSize+1-int64(n))
	}
	m, err := io.CopyBuffer(mw, src, *bp)
	if err != nil {
		return nil, fmt.Errorf("GET %s: read body: %w", u, err)
	}
	f.Size = int64(n) + m
	if d.maxSize > 0 && f.Size > d.maxSize {
		return nil, fmt.Errorf("GET %s: %w (%d bytes)", u, ErrTooLarge, d.maxSize)
	}
	f.MD5 = hex.EncodeToString(hmd5.Sum(nil))
	if fr.verify && fr.post.MD5 != "" && u == fr.post.FileURL && f.MD5 != fr.post.MD5 {
		// Not retried: a site whose listed md5 is not the served file's
		// would otherwise cost five downloads per post.
		return nil, fmt.Errorf("GET %s: %w: got %s, listed %s", u, ErrChecksum, f.MD5, fr.post.MD5)
	}
	f.SHA256, f.Ext = hex.EncodeToString(h256.Sum(nil)), ext
	if cfg, _, err := image.DecodeConfig(io.NewSectionReader(w, 0, f.Size)); err == nil {
		f.Width, f.Height = cfg.Width, cfg.Height
		if f.Width < d.filters.MinWidth || f.Height < d.filters.MinHeight {
			return nil, &filteredError{ReasonTooSmall}
		}
	}
	if fr.admit != nil {
		if err := fr.admit(ctx, f.SHA256); err != nil {
			return nil, err
		}
	}
	f.Name = f.SHA256 + "." + ext
	return f, nil
}

// readUpTo fills b as far as the body goes; io.EOF is not an error.
func readUpTo(r io.Reader, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// hostLimiter bounds concurrent requests per file host and spaces them by
// a delay, like colly's LimitRule does for pages.
type hostLimiter struct {
	mu    sync.Mutex
	hosts map[string]*hostSlot
}

type hostSlot struct {
	sem   chan struct{}
	mu    sync.Mutex
	until time.Time // paused until then (the host throttled us)
}

// pause makes every download from host wait d from now.
func (l *hostLimiter) pause(host string, d time.Duration) {
	l.mu.Lock()
	s, ok := l.hosts[host]
	l.mu.Unlock()
	if !ok {
		return
	}
	s.mu.Lock()
	if t := time.Now().Add(d); t.After(s.until) {
		s.until = t
	}
	s.mu.Unlock()
}

func (l *hostLimiter) acquire(ctx context.Context, host string, parallelism int, delay time.Duration) (func(), error) {
	l.mu.Lock()
	s, ok := l.hosts[host]
	if !ok {
		s = &hostSlot{sem: make(chan struct{}, max(parallelism, 1))}
		l.hosts[host] = s
	}
	l.mu.Unlock()
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	s.mu.Lock()
	until := s.until
	s.mu.Unlock()
	if err := sleepCtx(ctx, time.Until(until)); err != nil {
		<-s.sem
		return nil, err
	}
	return func() {
		if delay > 0 {
			jitter := time.Duration(rand.Int64N(int64(delay)/10 + 1))
			_ = sleepCtx(ctx, delay+jitter)
		}
		<-s.sem
	}, nil
}
