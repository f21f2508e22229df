package serve

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/testutil"
)

// uploadBoundMB is the stated bound on how far 50 concurrent 10 MB uploads
// may take the server's resident memory above its idle level: the
// uploads are read only decoders at a time (4 x 10 MB), the others wait
// holding their first 4 KB. (Read whole before the decoder limit, they
// took a server from 218 to 423 MB.)
const uploadBoundMB = 160

// serveLoopback runs s.Serve on a free 127.0.0.1 port until the test ends.
func serveLoopback(t *testing.T, s *Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() { cancel(); <-done })
	return "http://" + ln.Addr().String()
}

func TestConcurrentLargeUploadsStayBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 500 MB over loopback")
	}
	f := newFixture(t)
	s, err := New(f.p, WithMaxUpload(10<<20), WithDecoders(4))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	url := serveLoopback(t, s)
	// A real image padded to 10 MB (decoders stop at the image's end), so
	// the server reads every byte and predicts. One body shared by all
	// clients: the client side adds 10 MB, not 500.
	img := pngBytes(t, tinted(3, dsW, dsH, 0))
	body := append(append([]byte(nil), img...), make([]byte, 10<<20-len(img))...)
	if res, b := postRaw(t, url+"/api/predict", body, "image/png"); res.StatusCode != 200 {
		t.Fatalf("one upload: %d %s", res.StatusCode, b)
	}
	idle := testutil.RSSKB(t)
	var peak atomic.Int64
	peak.Store(int64(idle))
	stop := make(chan struct{})
	var sampler sync.WaitGroup
	sampler.Add(1)
	go func() {
		defer sampler.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
				if v := int64(testutil.RSSKB(t)); v > peak.Load() {
					peak.Store(v)
				}
			}
		}
	}()
	client := &http.Client{Timeout: 2 * time.Minute}
	var wg sync.WaitGroup
	var ok atomic.Int32
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := client.Post(url+"/api/predict", "image/png", bytes.NewReader(body))
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			if res.StatusCode == 200 {
				ok.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	sampler.Wait()
	grew := (peak.Load() - int64(idle)) / 1024
	t.Logf("50 concurrent 10 MB uploads: %d answered 200; resident memory %d MB idle, peak +%d MB (bound %d MB)", ok.Load(), idle/1024, grew, uploadBoundMB)
	if ok.Load() != 50 {
		t.Errorf("%d of 50 uploads answered 200", ok.Load())
	}
	if grew > uploadBoundMB {
		t.Errorf("resident memory grew by %d MB under 50 concurrent 10 MB uploads, bound %d MB", grew, uploadBoundMB)
	}
}

// A non-image is refused from its first bytes, before the rest of a large
// body is read; Serve answers only for the address it listens on.
func TestEarlyRefusalAndHostCheck(t *testing.T) {
	f := newFixture(t)
	s, err := New(f.p, WithHosts("chara.test"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	url := serveLoopback(t, s)
	html := append([]byte("<!DOCTYPE html><html>"), make([]byte, 5<<20)...)
	if res, b := postRaw(t, url+"/api/predict", html, "image/png"); res.StatusCode != http.StatusUnsupportedMediaType || !bytes.Contains(b, []byte("not-an-image")) {
		t.Errorf("HTML upload: %d %s", res.StatusCode, b)
	}
	for host, want := range map[string]int{"": 200, "localhost": 200, "chara.test": 200, "rebound.attacker.example": http.StatusMisdirectedRequest} {
		req, _ := http.NewRequest("GET", url+"/api/classes", nil)
		if host != "" {
			req.Host = host
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("Host %q: %d, want %d", host, res.StatusCode, want)
		}
	}
}
