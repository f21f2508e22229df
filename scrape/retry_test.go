package scrape

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/booru"
	"github.com/chara-dev/chara/manifests"
)

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0}, {"7", 7 * time.Second}, {"-3", 0}, {"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	} {
		h := http.Header{}
		if c.v != "" {
			h.Set("Retry-After", c.v)
		}
		if got := retryAfter(h, now); got != c.want {
			t.Errorf("Retry-After %q: %v, want %v", c.v, got, c.want)
		}
	}
}

func TestBackoffIsBoundedWithJitter(t *testing.T) {
	p := RetryPolicy{Base: 100 * time.Millisecond, Max: time.Second}
	seen := map[time.Duration]bool{}
	for n := 0; n < 20; n++ {
		for i := 0; i < 20; i++ {
			d := p.backoff(n)
			want := min(p.Base<<n, p.Max)
			if n > 10 {
				want = p.Max
			}
			if d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
			seen[d] = true
		}
	}
	if len(seen) < 50 {
		t.Errorf("only %d distinct backoffs: no jitter?", len(seen))
	}
}

func TestRetryGivesUpAfterAttempts(t *testing.T) {
	p := fastRetry()
	n := 0
	err := p.do(context.Background(), time.Second, func(context.Context) error {
		n++
		return retryable(errors.New("flaky"), 0)
	})
	if n != p.Attempts || err == nil || !strings.Contains(err.Error(), "gave up after 4 tries") {
		t.Errorf("%d tries, %v", n, err)
	}
	n = 0
	err = p.do(context.Background(), time.Second, func(context.Context) error { n++; return ErrNotImage })
	if n != 1 || !errors.Is(err, ErrNotImage) {
		t.Errorf("permanent error: %d tries, %v", n, err)
	}
}

func TestCancelStopsPromptlyAndLeavesNoTempFiles(t *testing.T) {
	b := booru.New(makePosts(1, 40, "nakano_miku"),
		booru.WithFaults(booru.Fault{Kind: booru.Slow, On: booru.Files, Delay: 300 * time.Millisecond}))
	ts := start(t, b)
	ws := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for totalFileRequests(b) < 2 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	t0 := time.Now()
	_, err := New(ws, baseOpts(Source{Kind: "danbooru", URL: ts.URL, Parallelism: 4}, "nakano_miku", 40)...).Run(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
	if el := time.Since(t0); el > 2*time.Second {
		t.Errorf("took %v to stop", el)
	}
	matches, _ := filepath.Glob(filepath.Join(manifests.RawDir(ws, "nakano_miku"), ".*"))
	if len(matches) != 0 {
		t.Errorf("temp files left: %v", matches)
	}
	if _, err := os.Stat(ArchivePath(ws)); err != nil {
		t.Errorf("archive: %v", err)
	}
}
