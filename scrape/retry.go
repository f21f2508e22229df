package scrape

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// RetryPolicy bounds retries of API pages and file downloads. Other 5xx,
// resets, truncated bodies and timeouts back off exponentially with jitter
// (Attempts tries). Throttling (429, 503) waits for Retry-After or, without
// one, ThrottleWait, doubling up to ThrottleMax, as gallery-dl's sleep-429
// (60 s) does: Danbooru's and Zerochan's 429/503 come without Retry-After
// (REAL-SITES.md §1 "rate limits", §4 "UA and rate"). Throttled tries have
// their own budget, ThrottleAttempts.
type RetryPolicy struct {
	Attempts         int           // tries in all for faults, at least 1 (default 5)
	Base             time.Duration // first backoff (default 1s)
	Max              time.Duration // largest backoff (default 1m)
	MaxRetryAfter    time.Duration // longest Retry-After honoured (default 10m); longer fails
	ThrottleWait     time.Duration // first wait on a 429/503 without Retry-After (default 1m)
	ThrottleMax      time.Duration // largest such wait (default 10m)
	ThrottleAttempts int           // throttled answers tolerated per request (default 6, about 30 min)
	PageTimeout      time.Duration // per try of an API page (default 30s)
	FileTimeout      time.Duration // per try of a file download (default 5m)
}

// DefaultRetryPolicy is used unless WithRetry says otherwise.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{Attempts: 5, Base: time.Second, Max: time.Minute, MaxRetryAfter: 10 * time.Minute,
		ThrottleWait: time.Minute, ThrottleMax: 10 * time.Minute, ThrottleAttempts: 6,
		PageTimeout: 30 * time.Second, FileTimeout: 5 * time.Minute}
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	d := DefaultRetryPolicy()
	if p.Attempts <= 0 {
		p.Attempts = d.Attempts
	}
	if p.Base <= 0 {
		p.Base = d.Base
	}
	if p.Max <= 0 {
		p.Max = d.Max
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = d.MaxRetryAfter
	}
	if p.ThrottleWait <= 0 {
		p.ThrottleWait = d.ThrottleWait
	}
	if p.ThrottleMax <= 0 {
		p.ThrottleMax = max(d.ThrottleMax, p.ThrottleWait)
	}
	if p.ThrottleAttempts <= 0 {
		p.ThrottleAttempts = d.ThrottleAttempts
	}
	if p.PageTimeout <= 0 {
		p.PageTimeout = d.PageTimeout
	}
	if p.FileTimeout <= 0 {
		p.FileTimeout = d.FileTimeout
	}
	return p
}

// backoff is the wait before try n+1 (n from 0): Base*2^n capped at Max,
// with "equal jitter" (half fixed, half random).
func (p RetryPolicy) backoff(n int) time.Duration {
	d := p.Base
	for i := 0; i < n && d < p.Max; i++ {
		d *= 2
	}
	d = min(d, p.Max)
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// throttleWait is the wait after the n-th throttled answer (n from 0)
// without Retry-After: ThrottleWait*2^n capped at ThrottleMax, never below
// ThrottleWait.
func (p RetryPolicy) throttleWait(n int) time.Duration {
	d := p.ThrottleWait
	for i := 0; i < n && d < p.ThrottleMax; i++ {
		d *= 2
	}
	return max(min(d, p.ThrottleMax), p.ThrottleWait)
}

// retryError marks a failure worth another try; after > 0 is the server's
// Retry-After; throttled marks a 429 or 503.
type retryError struct {
	err       error
	after     time.Duration
	throttled bool
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

func retryable(err error, after time.Duration) error { return &retryError{err: err, after: after} }

// do runs try until it succeeds, fails for good, or the tries run out.
// try gets a context bounded by timeout.
func (p RetryPolicy) do(ctx context.Context, timeout time.Duration, try func(ctx context.Context) error) error {
	var last error
	throttled := 0
	for n := 0; n < p.Attempts; n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		actx, cancel := context.WithTimeout(ctx, timeout)
		err := try(actx)
		timedOut := actx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var re *retryError
		switch {
		case errors.As(err, &re):
		case timedOut || isTransient(err):
			re = &retryError{err: err}
		default:
			return err
		}
		last = re.err
		var wait time.Duration
		if re.throttled || re.after > 0 {
			if re.after > p.MaxRetryAfter {
				return fmt.Errorf("%w (Retry-After %s, limit %s): %w", ErrRetryAfterTooLong, re.after, p.MaxRetryAfter, re.err)
			}
			if throttled >= p.ThrottleAttempts {
				return fmt.Errorf("throttled %d times: %w", throttled, last)
			}
			wait = re.after
			if wait <= 0 {
				wait = p.throttleWait(throttled)
			}
			throttled++
			n-- // throttling is not a fault: it has its own budget
		} else {
			if n == p.Attempts-1 {
				break
			}
			wait = p.backoff(n)
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return err
		}
	}
	return fmt.Errorf("gave up after %d tries: %w", p.Attempts, last)
}

// isTransient: resets, refused connections, truncated bodies, timeouts.
func isTransient(err error) bool {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// retryAfter parses a Retry-After header: seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0
		}
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// statusFailure turns a non-2xx answer into an error, retryable where the
// status says so.
func statusFailure(u string, resp *http.Response, body []byte) error {
	se := &StatusError{URL: u, Code: resp.StatusCode, Body: snippet(body)}
	if se.Retryable() {
		return &retryError{err: se, after: retryAfter(resp.Header, time.Now()),
			throttled: se.Code == http.StatusTooManyRequests || se.Code == http.StatusServiceUnavailable}
	}
	return se
}

func snippet(b []byte) string {
	const n = 200
	s := string(b)
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
