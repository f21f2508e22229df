package scrape

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/gocolly/colly/v2"
)

// pageTransport retries API and gallery pages (429/503 Retry-After, 5xx,
// resets, truncated bodies, timeouts) and buffers each body, bounded by
// maxBody, so that a body cut short is retried too. Non-retryable answers
// and the last answer after the tries run out are passed on for colly to
// report.
type pageTransport struct {
	base    http.RoundTripper
	policy  RetryPolicy
	maxBody int64
}

func (t *pageTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var out *http.Response
	err := t.policy.do(req.Context(), t.policy.PageTimeout, func(ctx context.Context) error {
		resp, err := t.base.RoundTrip(req.Clone(ctx))
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, t.maxBody+1))
		if err != nil {
			return fmt.Errorf("GET %s: read body: %w", req.URL, err)
		}
		if int64(len(body)) > t.maxBody {
			return fmt.Errorf("GET %s: %w (%d bytes)", req.URL, ErrTooLarge, t.maxBody)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		out = resp
		if retryableStatus(resp.StatusCode) {
			return statusFailure(req.URL.String(), resp, body)
		}
		return nil
	})
	if err != nil {
		var se *StatusError
		if out != nil && errors.As(err, &se) && !errors.Is(err, ErrRetryAfterTooLong) {
			return out, nil // colly reports the status
		}
		return nil, err
	}
	return out, nil
}

// pager fetches API and gallery pages of one source through a colly
// collector: a LimitRule for the source's host, robots.txt, MaxBodySize,
// no redirect to another host.
type pager struct {
	base *colly.Collector
	ua   string
}

type pagerConfig struct {
	host         string
	ua           string
	delay        time.Duration
	randomDelay  time.Duration
	parallelism  int
	ignoreRobots bool
	maxBody      int64
	transport    http.RoundTripper
	policy       RetryPolicy
}

func newPager(cfg pagerConfig) (*pager, error) {
	c := colly.NewCollector(
		colly.UserAgent(cfg.ua),
		colly.MaxBodySize(int(cfg.maxBody)),
		colly.AllowURLRevisit(), // the frontier and the archive decide what to visit
	)
	c.IgnoreRobotsTxt = cfg.ignoreRobots
	c.SetClient(&http.Client{Transport: &pageTransport{base: cfg.transport, policy: cfg.policy, maxBody: cfg.maxBody}})
	c.SetRedirectHandler(func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return fmt.Errorf("GET %s: too many redirects", via[0].URL)
		}
		if req.URL.Host != via[0].URL.Host {
			return fmt.Errorf("GET %s -> %s: %w", via[0].URL, req.URL, ErrCrossHostRedirect)
		}
		return nil
	})
	if err := c.Limit(&colly.LimitRule{DomainGlob: cfg.host, Delay: cfg.delay, RandomDelay: cfg.randomDelay,
		Parallelism: max(cfg.parallelism, 1)}); err != nil {
		return nil, fmt.Errorf("limit rule for %s: %w", cfg.host, err)
	}
	return &pager{base: c, ua: cfg.ua}, nil
}

// visit GETs u; setup may register OnHTML callbacks. It returns the body.
func (p *pager) visit(ctx context.Context, u string, hdr http.Header, setup func(c *colly.Collector)) ([]byte, error) {
	c := p.base.Clone()
	c.Context = ctx
	var resp *colly.Response
	c.OnResponse(func(r *colly.Response) { resp = r })
	c.OnError(func(r *colly.Response, _ error) { resp = r })
	if setup != nil {
		setup(c)
	}
	h := http.Header{}
	for k, v := range hdr {
		h[k] = v
	}
	if h.Get("User-Agent") == "" {
		h.Set("User-Agent", p.ua)
	}
	if h.Get("Accept") == "" {
		h.Set("Accept", "application/json, text/html;q=0.9, */*;q=0.1")
	}
	err := c.Request(http.MethodGet, u, nil, nil, h)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		shown := redact(u)
		switch {
		case errors.Is(err, colly.ErrRobotsTxtBlocked):
			return nil, fmt.Errorf("GET %s: %w", shown, ErrRobots)
		case resp != nil && resp.StatusCode >= 300:
			return nil, &StatusError{URL: shown, Code: resp.StatusCode, Body: snippet(resp.Body)}
		}
		return nil, fmt.Errorf("GET %s: %w", shown, err)
	}
	if resp == nil {
		return nil, fmt.Errorf("GET %s: no response", redact(u))
	}
	return resp.Body, nil
}

// redact hides credentials in a URL shown in errors.
func redact(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := pu.Query()
	changed := false
	for _, k := range []string{"api_key", "login", "user_id", "password_hash"} {
		if q.Has(k) {
			q.Set(k, "REDACTED")
			changed = true
		}
	}
	if pu.User != nil {
		pu.User = nil
		changed = true
	}
	if !changed {
		return u
	}
	pu.RawQuery = q.Encode()
	return pu.String()
}
