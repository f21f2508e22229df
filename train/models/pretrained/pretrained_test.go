package pretrained

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// server serves body at /w.pth with Range support; behave may take over
// a request (by its 1-based number) and return true when it has answered.
type server struct {
	*httptest.Server
	body []byte
	mu   sync.Mutex
	reqs []*http.Request
	// behave answers request n itself when it returns true.
	behave func(n int, w http.ResponseWriter, r *http.Request) bool
}

func newServer(t *testing.T, body []byte) *server {
	s := &server{body: body}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, r)
		n := len(s.reqs)
		behave := s.behave
		s.mu.Unlock()
		if behave != nil && behave(n, w, r) {
			return
		}
		// http.ServeContent handles Range and 416.
		http.ServeContent(w, r, "w.pth", time.Time{}, bytes.NewReader(s.body))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.reqs...)
}

func payload(n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(int64(n))).Read(b)
	return b
}

func digest(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func weightsFor(s *server, body []byte) Weights {
	return Weights{Model: "toy", URL: s.URL + "/w.pth", File: "w.pth", SHA256: digest(body)}
}

func fetcher(t *testing.T, dir string, opts ...Option) *Fetcher {
	t.Helper()
	f, err := NewFetcher(append([]Option{WithDir(dir), WithBackoff(time.Millisecond), WithRetries(3)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestFetchDownloadsVerifiesAndCaches(t *testing.T) {
	body := payload(100_000)
	s := newServer(t, body)
	dir := t.TempDir()
	f := fetcher(t, dir)
	w := weightsFor(s, body)
	path, err := f.Fetch(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, body) || path != filepath.Join(dir, "w.pth") {
		t.Fatalf("wrong file at %s", path)
	}
	if _, err := os.Stat(path + ".part"); !os.IsNotExist(err) {
		t.Error(".part left behind")
	}
	// Cached: no second request.
	if _, err := f.Fetch(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	// A corrupted cached file is fetched again.
	os.WriteFile(path, []byte("junk"), 0o644)
	if _, err := f.Fetch(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, body) || len(s.requests()) != 2 {
		t.Error("corrupted cache not replaced")
	}
	// Prefix-only verification, as for torchvision's file names.
	w2 := w
	w2.File, w2.SHA256, w2.SHA256Prefix = "p.pth", "", digest(body)[:8]
	if _, err := f.Fetch(context.Background(), w2); err != nil {
		t.Fatal(err)
	}
}

func TestFetchResumesInterruptedDownload(t *testing.T) {
	body := payload(300_000)
	s := newServer(t, body)
	cut := 123_457
	s.behave = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n != 1 {
			return false
		}
		// Promise the whole file, send part of it, drop the connection.
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		w.Write(body[:cut])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
	dir := t.TempDir()
	path, err := fetcher(t, dir).Fetch(context.Background(), weightsFor(s, body))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, body) {
		t.Fatal("resumed file differs")
	}
	reqs := s.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2", len(reqs))
	}
	if got, want := reqs[1].Header.Get("Range"), fmt.Sprintf("bytes=%d-", cut); got != want {
		t.Errorf("second request Range %q, want %q", got, want)
	}
}

func TestFetchResumesPartFromEarlierRun(t *testing.T) {
	body := payload(50_000)
	s := newServer(t, body)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "w.pth.part"), body[:20_000], 0o644)
	if _, err := fetcher(t, dir).Fetch(context.Background(), weightsFor(s, body)); err != nil {
		t.Fatal(err)
	}
	if r := s.requests(); len(r) != 1 || r[0].Header.Get("Range") != "bytes=20000-" {
		t.Errorf("requests %d, range %q", len(r), r[0].Header.Get("Range"))
	}
	// A complete .part (server answers 416) is verified and used.
	os.Remove(filepath.Join(dir, "w.pth"))
	os.WriteFile(filepath.Join(dir, "w.pth.part"), body, 0o644)
	if _, err := fetcher(t, dir).Fetch(context.Background(), weightsFor(s, body)); err != nil {
		t.Fatal(err)
	}
	// A server that ignores Range sends everything: start over.
	os.Remove(filepath.Join(dir, "w.pth"))
	os.WriteFile(filepath.Join(dir, "w.pth.part"), []byte("stale bytes"), 0o644)
	s.behave = func(_ int, w http.ResponseWriter, r *http.Request) bool {
		w.Write(body)
		return true
	}
	path, err := fetcher(t, dir).Fetch(context.Background(), weightsFor(s, body))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, body) {
		t.Fatal("file differs after a Range-ignoring server")
	}
}

func TestFetchRejectsBadHash(t *testing.T) {
	body := payload(10_000)
	s := newServer(t, body)
	dir := t.TempDir()
	w := weightsFor(s, body)
	w.SHA256 = digest([]byte("something else"))
	_, err := fetcher(t, dir).Fetch(context.Background(), w)
	var ce *ChecksumError
	if !errors.As(err, &ce) || !errors.Is(err, ErrChecksum) || ce.Got != digest(body) {
		t.Fatalf("err %v", err)
	}
	if !strings.Contains(err.Error(), s.URL) {
		t.Errorf("error does not name the URL: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("left in the cache: %v", entries)
	}
	// A stale .part that makes the hash wrong is discarded and the file
	// fetched again from the start, once.
	w = weightsFor(s, body)
	os.WriteFile(filepath.Join(dir, "w.pth.part"), []byte("XXXXX"), 0o644)
	path, err := fetcher(t, dir).Fetch(context.Background(), w)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, body) {
		t.Fatal("wrong content after restart")
	}
}

func TestFetchRetries5xxNot404(t *testing.T) {
	body := payload(5_000)
	s := newServer(t, body)
	s.behave = func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n <= 2 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	dir := t.TempDir()
	if _, err := fetcher(t, dir).Fetch(context.Background(), weightsFor(s, body)); err != nil {
		t.Fatal(err)
	}
	if n := len(s.requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}

	s404 := newServer(t, body)
	s404.behave = func(_ int, w http.ResponseWriter, r *http.Request) bool { http.NotFound(w, r); return true }
	_, err := fetcher(t, t.TempDir()).Fetch(context.Background(), weightsFor(s404, body))
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 404 {
		t.Fatalf("err %v", err)
	}
	if n := len(s404.requests()); n != 1 {
		t.Errorf("404 tried %d times", n)
	}

	// Always 500: gives up after retries+1 attempts.
	s500 := newServer(t, body)
	s500.behave = func(_ int, w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "down", 500)
		return true
	}
	_, err = fetcher(t, t.TempDir(), WithRetries(2)).Fetch(context.Background(), weightsFor(s500, body))
	if !errors.As(err, &he) || he.Status != 500 || len(s500.requests()) != 3 {
		t.Fatalf("err %v after %d requests", err, len(s500.requests()))
	}
}

func TestFetchHonoursContext(t *testing.T) {
	body := payload(1_000)
	s := newServer(t, body)
	s.behave = func(_ int, w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "down", 503)
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := fetcher(t, t.TempDir(), WithBackoff(time.Hour)).Fetch(ctx, weightsFor(s, body))
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

func TestLookupAndDefaultDir(t *testing.T) {
	w, err := Lookup("effnet-b0")
	if err != nil {
		t.Fatal(err)
	}
	if w.URL != "https://download.pytorch.org/models/efficientnet_b0_rwightman-7f5810bc.pth" || !strings.Contains(w.File, w.SHA256Prefix) {
		t.Errorf("effnet-b0 weights %+v", w)
	}
	// The pinned digest is a whole SHA-256 and agrees with torchvision's
	// file-name prefix.
	if b, err := hex.DecodeString(w.SHA256); err != nil || len(b) != sha256.Size || !strings.HasPrefix(w.SHA256, w.SHA256Prefix) || !strings.Contains(w.URL, "-"+w.SHA256[:8]+".pth") {
		t.Errorf("effnet-b0 SHA-256 %q (prefix %q)", w.SHA256, w.SHA256Prefix)
	}
	if _, err := Lookup("cnn"); !errors.Is(err, ErrNoWeights) {
		t.Errorf("cnn: %v", err)
	}
	t.Setenv("XDG_CACHE_HOME", "/tmp/xdg")
	if d, _ := DefaultDir(); d != "/tmp/xdg/chara/weights" {
		t.Errorf("dir %s", d)
	}
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("HOME", "/home/u")
	if d, _ := DefaultDir(); d != "/home/u/.cache/chara/weights" {
		t.Errorf("dir %s", d)
	}
	if s, n, ok := parseContentRange("bytes 10-99/100"); !ok || s != 10 || n != 100 {
		t.Errorf("parse: %d %d %v", s, n, ok)
	}
	if _, _, ok := parseContentRange("items 1-2/3"); ok {
		t.Error("parsed a non-byte range")
	}
}
