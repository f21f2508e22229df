package scrape

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"

	"github.com/chromedp/chromedp"
)

// renderer draws gallery pages in headless Chromium, for galleries whose
// thumbnails JavaScript builds or adds while scrolling (REAL-SITES.md §5,
// "JS-rendered / infinite scroll"). One browser serves a run, started on
// first use; images are not loaded (the thumbnails are not needed, the
// links are), so the site sees the page, its scripts and their requests.
type renderer struct {
	ua      string
	mu      sync.Mutex
	ctx     context.Context // a tab, once started
	cancels []context.CancelFunc
}

// browserNames are looked up in PATH, in this order.
var browserNames = []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"}

// ErrNoBrowser: render: true without Chromium installed.
var ErrNoBrowser = errors.New("no Chromium found (render: true needs one: apt-get install chromium)")

func (r *renderer) start() error {
	if r.ctx != nil {
		return nil
	}
	path := ""
	for _, n := range browserNames {
		if p, err := exec.LookPath(n); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		return ErrNoBrowser
	}
	actx, c1 := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.UserAgent(r.ua),
		chromedp.Flag("blink-settings", "imagesEnabled=false"),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true))
	tctx, c2 := chromedp.NewContext(actx)
	if err := chromedp.Do(tctx, chromedp.Navigate("about:blank")); err != nil {
		c2()
		c1()
		return fmt.Errorf("start %s: %w", path, err)
	}
	r.ctx, r.cancels = tctx, []context.CancelFunc{c2, c1}
	return nil
}

// html loads u, scrolls to the bottom until the page stops growing (at
// most scrolls times), and returns the document as it then is.
func (r *renderer) html(ctx context.Context, u string, scrolls int, timeout time.Duration) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.start(); err != nil {
		return "", err
	}
	tctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	if err := chromedp.Do(tctx, chromedp.Navigate(u)); err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", fmt.Errorf("GET %s (rendered): %w", redact(u), err)
	}
	last, still := -1, 0
	for i := 0; i < scrolls; i++ {
		h, err := chromedp.Run(tctx, chromedp.Evaluate[int](`window.scrollTo(0, document.body.scrollHeight); document.body.scrollHeight`))
		if err != nil {
			return "", fmt.Errorf("GET %s (rendered): scroll: %w", redact(u), err)
		}
		if h == last {
			if still++; still >= 3 { // the page stopped growing (3 looks, so a slow script is waited for)
				break
			}
		} else {
			still = 0
		}
		last = h
		if err := chromedp.Do(tctx, chromedp.Sleep(300*time.Millisecond)); err != nil {
			return "", fmt.Errorf("GET %s (rendered): %w", redact(u), err)
		}
	}
	doc, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	if err != nil {
		return "", fmt.Errorf("GET %s (rendered): %w", redact(u), err)
	}
	if strings.TrimSpace(doc) == "" {
		return "", fmt.Errorf("GET %s (rendered): %w: empty document", redact(u), ErrBadResponse)
	}
	return doc, nil
}

func (r *renderer) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, c := range r.cancels {
		c()
	}
	r.ctx, r.cancels = nil, nil
}
