package scrape

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gocolly/colly/v2"
	"github.com/temoto/robotstxt"
)

// pageTransport retries API and gallery pages (429/503, 5xx, resets,
// truncated bodies, timeouts) and buffers each body, bounded by maxBody,
// so that a body cut short is retried too. Non-retryable answers, browser
// challenges and the last answer after the tries run out are passed on for
// colly to report. A pacer, where the site has one, spaces every try.
type pageTransport struct {
	base    http.RoundTripper
	policy  RetryPolicy
	maxBody int64
	pace    *pacer
}

func (t *pageTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var out *http.Response
	err := t.policy.do(req.Context(), t.policy.PageTimeout, func(ctx context.Context) error {
		if err := t.pace.wait(ctx); err != nil {
			return err
		}
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
		if isChallenge(resp.StatusCode, resp.Header, body) {
			return nil // an answer, not a fault: retrying will not pass it
		}
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
// collector: a LimitRule for the source's host, MaxBodySize, redirects only
// within the site (www. or not), robots.txt where the source honours it.
type pager struct {
	base   *colly.Collector
	ua     string
	source string
	robots *robotsChecker // nil: not honoured
	policy RetryPolicy
}

type pagerConfig struct {
	source      string
	host        string
	ua          string
	delay       time.Duration
	randomDelay time.Duration
	parallelism int
	// robots: honour robots.txt (the html kind); the booru kinds call the
	// sites' documented APIs and do not (see docs/sources.md).
	robots    bool
	keepQuery bool // on a redirect that drops the query, keep ours (zerochan)
	maxBody   int64
	transport http.RoundTripper
	policy    RetryPolicy
	pace      *pacer
	jar       http.CookieJar
}

func newPager(cfg pagerConfig) (*pager, error) {
	c := colly.NewCollector(
		colly.UserAgent(cfg.ua),
		colly.MaxBodySize(int(cfg.maxBody)),
		colly.AllowURLRevisit(), // the frontier and the archive decide what to visit
	)
	c.IgnoreRobotsTxt = true // checked by the pager: colly caches a 5xx as "disallow all" for the run
	pt := &pageTransport{base: cfg.transport, policy: cfg.policy, maxBody: cfg.maxBody, pace: cfg.pace}
	c.SetClient(&http.Client{Transport: pt})
	if cfg.jar != nil {
		c.SetCookieJar(cfg.jar)
	}
	c.SetRedirectHandler(func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return fmt.Errorf("GET %s: too many redirects", via[0].URL)
		}
		if !sameSite(req.URL.Host, via[0].URL.Host) {
			return fmt.Errorf("GET %s -> %s: %w", via[0].URL, req.URL, ErrCrossHostRedirect)
		}
		if prev := via[len(via)-1].URL; cfg.keepQuery && req.URL.RawQuery == "" && prev.RawQuery != "" {
			req.URL.RawQuery = prev.RawQuery
		}
		return nil
	})
	if err := c.Limit(&colly.LimitRule{DomainGlob: cfg.host, Delay: cfg.delay, RandomDelay: cfg.randomDelay,
		Parallelism: max(cfg.parallelism, 1)}); err != nil {
		return nil, fmt.Errorf("limit rule for %s: %w", cfg.host, err)
	}
	p := &pager{base: c, ua: cfg.ua, source: cfg.source, policy: cfg.policy}
	if cfg.robots {
		p.robots = &robotsChecker{client: &http.Client{Transport: pt, Jar: cfg.jar}, hosts: map[string]*robotstxt.RobotsData{}}
	}
	return p, nil
}

// sameSite: the same host, with or without a leading "www.".
func sameSite(a, b string) bool {
	a, b = strings.ToLower(a), strings.ToLower(b)
	return strings.TrimPrefix(a, "www.") == strings.TrimPrefix(b, "www.")
}

// visit GETs u; setup may register OnHTML callbacks. It returns the body.
func (p *pager) visit(ctx context.Context, u string, hdr http.Header, setup func(c *colly.Collector)) ([]byte, error) {
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
	if p.robots != nil {
		if err := p.robots.allowed(ctx, u, h.Get("User-Agent")); err != nil {
			return nil, err
		}
	}
	c := p.base.Clone()
	c.Context = ctx
	var resp *colly.Response
	c.OnResponse(func(r *colly.Response) { resp = r })
	c.OnError(func(r *colly.Response, _ error) { resp = r })
	if setup != nil {
		setup(c)
	}
	err := c.Request(http.MethodGet, u, nil, nil, h)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		shown := redact(u)
		switch {
		case resp != nil && resp.Headers != nil && isChallenge(resp.StatusCode, *resp.Headers, resp.Body):
			return nil, challengeError(p.source, shown, resp.StatusCode)
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

// robotsChecker reads each host's robots.txt once. A 4xx allows all and a
// 2xx is parsed (temoto/robotstxt, colly's library, with colly's path
// rules); a 5xx or network failure, after the transport's retries, refuses
// this request without caching anything, so that the next request asks
// again instead of the host staying blocked for the run.
type robotsChecker struct {
	client *http.Client
	mu     sync.Mutex
	hosts  map[string]*robotstxt.RobotsData
}

func (r *robotsChecker) allowed(ctx context.Context, raw, ua string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("GET %s: %w", redact(raw), err)
	}
	r.mu.Lock()
	data, ok := r.hosts[u.Host]
	r.mu.Unlock()
	if !ok {
		ru := u.Scheme + "://" + u.Host + "/robots.txt"
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, ru, nil)
		if err != nil {
			return err
		}
		req.Header.Set("User-Agent", ua)
		resp, err := r.client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("GET %s: %w: %w", ru, ErrRobotsUnavailable, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("GET %s: %w: %w", ru, ErrRobotsUnavailable, err)
		}
		if resp.StatusCode >= 500 {
			return fmt.Errorf("GET %s: %w: HTTP %d", ru, ErrRobotsUnavailable, resp.StatusCode)
		}
		data, err = robotstxt.FromStatusAndBytes(resp.StatusCode, body)
		if err != nil || data == nil {
			data, _ = robotstxt.FromStatusAndBytes(404, nil) // unreadable: no rules
		}
		r.mu.Lock()
		r.hosts[u.Host] = data
		r.mu.Unlock()
	}
	p := u.EscapedPath()
	if u.RawQuery != "" {
		p += "?" + u.Query().Encode()
	}
	if !data.TestAgent(p, ua) {
		return fmt.Errorf("GET %s: %w", redact(raw), ErrRobots)
	}
	return nil
}

// isChallenge recognises a Cloudflare browser check: the cf-mitigated:
// challenge header (https://github.com/Aaalice233/ComfyUI-Danbooru-Gallery/pull/28),
// or a 403/503 from Cloudflare whose page carries the challenge script (as
// gallery-dl's util.detect_challenge does).
func isChallenge(code int, h http.Header, body []byte) bool {
	if strings.EqualFold(h.Get("Cf-Mitigated"), "challenge") {
		return true
	}
	if code != http.StatusForbidden && code != http.StatusServiceUnavailable {
		return false
	}
	if !strings.Contains(strings.ToLower(h.Get("Server")), "cloudflare") {
		return false
	}
	return bytes.Contains(body, []byte("_cf_chl_opt")) || bytes.Contains(body, []byte("challenge-platform")) ||
		bytes.Contains(body, []byte("<title>Just a moment...</title>"))
}

func challengeError(source, u string, code int) error {
	return fmt.Errorf("GET %s: HTTP %d: %w: chara cannot pass it; pass the check in a browser, export that site's cookies as a Netscape cookies.txt and set sources.%s.cookies to the file and sources.%s.user_agent to that browser's User-Agent",
		u, code, ErrChallenge, source, source)
}

// redact hides credentials in a URL shown in errors.
func redact(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := pu.Query()
	changed := false
	for _, k := range []string{"api_key", "login", "user_id", "password_hash", "username"} {
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
