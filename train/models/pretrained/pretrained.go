// Package pretrained downloads pretrained checkpoints into a cache
// directory: retried, resumed with HTTP Range requests into a .part file,
// verified by SHA-256, and renamed into place only once verified. It does
// not import libtorch; train/models loads what it fetches.
package pretrained

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/internal/progress"
)

// Weights describes one pretrained checkpoint.
type Weights struct {
	Model       string // chara model name, e.g. "effnet-b0"
	Description string
	URL         string
	File        string // file name in the cache directory
	// SHA256 is the full expected digest in hex. Where it is empty only
	// SHA256Prefix is checked.
	SHA256 string
	// SHA256Prefix is the start of the digest in hex: torchvision puts the
	// first 8 hex digits of each file's SHA-256 into its name.
	SHA256Prefix string
}

// EffNetB0ImageNet is torchvision's EfficientNet_B0_Weights.IMAGENET1K_V1.
//
// torchvision puts only the digest's first 8 hex digits in the file name
// (7f5810bc); the whole SHA-256 below could not be computed here (no
// network): it is the value that several independent public projects pin
// for this file, and it starts with that prefix (checked by a test).
// --sha256 on chara weights fetch overrides it.
var EffNetB0ImageNet = Weights{
	Model:        "effnet-b0",
	Description:  "torchvision efficientnet_b0 ImageNet-1k (IMAGENET1K_V1, 77.7% top-1)",
	URL:          "https://download.pytorch.org/models/efficientnet_b0_rwightman-7f5810bc.pth",
	File:         "efficientnet_b0_rwightman-7f5810bc.pth",
	SHA256:       "7f5810bc96def8f7552d5b7e68d53c4786f81167d28291b21c0d90e1fca14934",
	SHA256Prefix: "7f5810bc",
}

// Catalog maps model names to their pretrained weights.
var Catalog = map[string]Weights{
	EffNetB0ImageNet.Model: EffNetB0ImageNet,
}

// ErrNoWeights is returned by Lookup for a model without pretrained weights.
var ErrNoWeights = errors.New("no pretrained weights for this model")

// Lookup returns the catalog entry for model.
func Lookup(model string) (Weights, error) {
	w, ok := Catalog[model]
	if !ok {
		names := make([]string, 0, len(Catalog))
		for n := range Catalog {
			names = append(names, n)
		}
		sort.Strings(names)
		return Weights{}, fmt.Errorf("%q: %w (have: %s)", model, ErrNoWeights, strings.Join(names, ", "))
	}
	return w, nil
}

// DefaultDir is $XDG_CACHE_HOME/chara/weights, or ~/.cache/chara/weights.
func DefaultDir() (string, error) {
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, "chara", "weights"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("weights cache directory: %w", err)
	}
	return filepath.Join(home, ".cache", "chara", "weights"), nil
}

// ErrChecksum is wrapped by a *ChecksumError.
var ErrChecksum = errors.New("checksum mismatch")

// ChecksumError is a downloaded or cached file whose SHA-256 is not the
// expected one.
type ChecksumError struct {
	URL  string
	Want string // full digest or prefix
	Got  string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: %v: sha256 %s, want %s", e.URL, ErrChecksum, e.Got, e.Want)
}

func (e *ChecksumError) Unwrap() error { return ErrChecksum }

// HTTPError is a response status that ended a download.
type HTTPError struct {
	URL    string
	Status int
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("%s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status))
}

// Temporary reports whether the status is worth retrying.
func (e *HTTPError) Temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout
}

// Fetcher downloads weights into a directory.
type Fetcher struct {
	dir       string
	client    *http.Client
	retries   int
	backoff   time.Duration
	maxWait   time.Duration
	reporter  progress.Reporter
	userAgent string
}

// Option configures a Fetcher.
type Option func(*Fetcher)

// WithDir sets the cache directory (default DefaultDir()).
func WithDir(dir string) Option { return func(f *Fetcher) { f.dir = dir } }

// WithHTTPClient sets the HTTP client (default: one with a 30 s response
// header timeout and no overall timeout, since the body may be large).
func WithHTTPClient(c *http.Client) Option { return func(f *Fetcher) { f.client = c } }

// WithRetries sets how many times a failed attempt is retried (default 5).
func WithRetries(n int) Option { return func(f *Fetcher) { f.retries = n } }

// WithBackoff sets the first wait between attempts, doubled each time up to
// 30 s (default 1 s).
func WithBackoff(d time.Duration) Option { return func(f *Fetcher) { f.backoff = d } }

// WithReporter reports download progress (default progress.Nop()).
func WithReporter(r progress.Reporter) Option { return func(f *Fetcher) { f.reporter = r } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(f *Fetcher) { f.userAgent = ua } }

// NewFetcher returns a Fetcher with defaults overridden by opts.
func NewFetcher(opts ...Option) (*Fetcher, error) {
	f := &Fetcher{
		retries:   5,
		backoff:   time.Second,
		maxWait:   30 * time.Second,
		reporter:  progress.Nop(),
		userAgent: "chara (+https://github.com/chara-dev/chara)",
	}
	for _, o := range opts {
		o(f)
	}
	if f.dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return nil, err
		}
		f.dir = d
	}
	if f.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = 30 * time.Second
		f.client = &http.Client{Transport: tr}
	}
	return f, nil
}

// Dir is the cache directory.
func (f *Fetcher) Dir() string { return f.dir }

// Path is where w is (or will be) cached.
func (f *Fetcher) Path(w Weights) string { return filepath.Join(f.dir, w.File) }

// Cached returns w's cached path if the file is there (unverified).
func (f *Fetcher) Cached(w Weights) (string, bool) {
	p := f.Path(w)
	st, err := os.Stat(p)
	return p, err == nil && st.Mode().IsRegular()
}

// Verify checks the SHA-256 of the file at path against w.
func Verify(w Weights, path string) error {
	fh, err := os.Open(path)
	if err != nil {
		return err
	}
	defer fh.Close()
	h := sha256.New()
	if _, err := io.Copy(h, fh); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return check(w, hex.EncodeToString(h.Sum(nil)))
}

func check(w Weights, got string) error {
	want := strings.ToLower(w.SHA256)
	if want == "" {
		want = strings.ToLower(w.SHA256Prefix)
	}
	if want == "" {
		return fmt.Errorf("%s: no expected SHA-256 to verify against", w.URL)
	}
	if !strings.HasPrefix(got, want) {
		return &ChecksumError{URL: w.URL, Want: want, Got: got}
	}
	return nil
}

// Fetch makes sure w is in the cache and returns its path. A cached file
// is verified first (and fetched again if it fails); otherwise the file is
// downloaded into <file>.part, resuming from what a previous attempt (or
// run) left there, verified, and renamed into place. Transient failures
// (network errors, 5xx, 429) are retried with exponential backoff; a
// checksum mismatch removes the .part file and leaves nothing at the final
// path.
func (f *Fetcher) Fetch(ctx context.Context, w Weights) (string, error) {
	if w.URL == "" || w.File == "" || filepath.Base(w.File) != w.File {
		return "", fmt.Errorf("weights %q: need a URL and a plain file name", w.Model)
	}
	final := f.Path(w)
	if _, ok := f.Cached(w); ok {
		err := Verify(w, final)
		if err == nil {
			return final, nil
		}
		if !errors.Is(err, ErrChecksum) {
			return "", err
		}
		f.reporter.Logf("%s: cached file fails verification (%v); fetching it again", final, err)
		if err := os.Remove(final); err != nil {
			return "", err
		}
	}
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return "", fmt.Errorf("weights cache %s: %w", f.dir, err)
	}
	part := final + ".part"
	task := f.reporter.Start("weights "+w.Model, 0)
	defer task.Done()

	freshRetry := false // one restart from zero after a bad resumed file
	var lastErr error
	for attempt := 0; attempt <= f.retries; attempt++ {
		if attempt > 0 {
			if err := f.sleep(ctx, attempt, lastErr); err != nil {
				return "", err
			}
		}
		resumed, err := f.attempt(ctx, w, part, task)
		if err != nil {
			lastErr = err
			var he *HTTPError
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			if errors.As(err, &he) && !he.Temporary() {
				return "", err
			}
			continue
		}
		if err := Verify(w, part); err != nil {
			os.Remove(part)
			if errors.Is(err, ErrChecksum) && resumed && !freshRetry {
				// The bytes kept from an earlier attempt may be what is
				// wrong: start over once.
				freshRetry = true
				lastErr = err
				attempt--
				continue
			}
			return "", err
		}
		if err := os.Rename(part, final); err != nil {
			return "", fmt.Errorf("weights %s: %w", final, err)
		}
		if err := atomicfile.SyncDir(f.dir); err != nil {
			return "", err
		}
		return final, nil
	}
	return "", fmt.Errorf("weights %s: giving up after %d attempts: %w", w.URL, f.retries+1, lastErr)
}

func (f *Fetcher) sleep(ctx context.Context, attempt int, lastErr error) error {
	d := f.backoff << (attempt - 1)
	if d > f.maxWait || d <= 0 {
		d = f.maxWait
	}
	var ra *retryAfter
	if errors.As(lastErr, &ra) && ra.d > d && ra.d <= f.maxWait {
		d = ra.d
	}
	f.reporter.Logf("weights: %v; retrying in %v", lastErr, d)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

type retryAfter struct {
	*HTTPError
	d time.Duration
}

func (e *retryAfter) Unwrap() error { return e.HTTPError }

// attempt runs one request, appending to part. It reports whether the
// file now holds bytes from an earlier attempt.
func (f *Fetcher) attempt(ctx context.Context, w Weights, part string, task progress.Task) (resumed bool, err error) {
	var offset int64
	if st, err := os.Stat(part); err == nil {
		offset = st.Size()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.URL, nil)
	if err != nil {
		return false, err
	}
	req.Header.Set("User-Agent", f.userAgent)
	if offset > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return false, fmt.Errorf("weights %s: %w", w.URL, err)
	}
	defer resp.Body.Close()

	var total int64 = -1
	switch {
	case resp.StatusCode == http.StatusPartialContent && offset > 0:
		start, size, ok := parseContentRange(resp.Header.Get("Content-Range"))
		if !ok || start != offset {
			// Not the range we asked for: start over.
			os.Remove(part)
			return false, fmt.Errorf("weights %s: unexpected Content-Range %q for offset %d", w.URL, resp.Header.Get("Content-Range"), offset)
		}
		total = size
		resumed = true
	case resp.StatusCode == http.StatusOK:
		offset = 0 // the server sent the whole file
		if resp.ContentLength >= 0 {
			total = resp.ContentLength
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && offset > 0:
		// The .part file may already be complete; Fetch verifies it (and
		// removes it if it is not).
		return true, nil
	default:
		he := &HTTPError{URL: w.URL, Status: resp.StatusCode}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			return false, &retryAfter{he, time.Duration(s) * time.Second}
		}
		return false, he
	}

	flag := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if offset == 0 {
		flag = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	out, err := os.OpenFile(part, flag, 0o644)
	if err != nil {
		return false, fmt.Errorf("weights %s: %w", part, err)
	}
	if total > 0 {
		task.SetTotal(total)
	}
	task.Add(offset)
	n, copyErr := io.Copy(out, &countingReader{r: resp.Body, task: task})
	syncErr := out.Sync()
	closeErr := out.Close()
	if copyErr != nil {
		return resumed, fmt.Errorf("weights %s: after %d bytes: %w", w.URL, offset+n, copyErr)
	}
	if syncErr != nil {
		return resumed, fmt.Errorf("weights %s: %w", part, syncErr)
	}
	if closeErr != nil {
		return resumed, fmt.Errorf("weights %s: %w", part, closeErr)
	}
	if total >= 0 && offset+n != total {
		return resumed, fmt.Errorf("weights %s: got %d of %d bytes", w.URL, offset+n, total)
	}
	return resumed, nil
}

// parseContentRange reads "bytes START-END/SIZE" (SIZE may be "*": -1).
func parseContentRange(s string) (start, size int64, ok bool) {
	s, found := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !found {
		return 0, 0, false
	}
	rng, sz, found := strings.Cut(s, "/")
	if !found {
		return 0, 0, false
	}
	a, _, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, false
	}
	start, err := strconv.ParseInt(a, 10, 64)
	if err != nil {
		return 0, 0, false
	}
	size = -1
	if sz != "*" {
		if size, err = strconv.ParseInt(sz, 10, 64); err != nil {
			return 0, 0, false
		}
	}
	return start, size, true
}

type countingReader struct {
	r    io.Reader
	task progress.Task
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		c.task.Add(int64(n))
	}
	return n, err
}
