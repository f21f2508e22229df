package scrape

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors returned by the package wrap one of these (or a
// *StatusError) and name the URL, file or key concerned.
var (
	// ErrAuth: the site refused the credentials, or needs some.
	ErrAuth = errors.New("authentication required or refused")
	// ErrTagLimit: a search with more tags than the site allows the account.
	ErrTagLimit = errors.New("too many tags in one search")
	// ErrNotImage: the body is not a jpeg, png, gif or webp (an HTML page
	// served as an image, say).
	ErrNotImage = errors.New("not an image")
	// ErrTooLarge: a body over the size limit.
	ErrTooLarge = errors.New("body over the size limit")
	// ErrCrossHostRedirect: an API page redirected to another host.
	ErrCrossHostRedirect = errors.New("redirect to another host refused")
	// ErrChecksum: the file's md5 differs from the one the site listed.
	ErrChecksum = errors.New("md5 differs from the listed one")
	// ErrRobots: robots.txt disallows the URL for our user agent.
	ErrRobots = errors.New("disallowed by robots.txt")
	// ErrRobotsUnavailable: robots.txt could not be read (5xx, network);
	// the request is refused this time and robots.txt asked again later.
	ErrRobotsUnavailable = errors.New("robots.txt unavailable")
	// ErrChallenge: a browser check (Cloudflare) answered instead of the site.
	ErrChallenge = errors.New("blocked by a Cloudflare browser check")
	// ErrRetryAfterTooLong: the server asked to wait longer than allowed.
	ErrRetryAfterTooLong = errors.New("server asked to wait longer than the retry limit")
	// ErrBadResponse: a page that is not the expected JSON or HTML.
	ErrBadResponse = errors.New("unexpected response")
	// ErrConfig: a source or option that cannot work.
	ErrConfig = errors.New("bad scrape configuration")
)

// StatusError is an HTTP answer other than 2xx, after retries.
type StatusError struct {
	URL  string
	Code int
	Body string // the start of the body, for the message
}

func (e *StatusError) Error() string {
	if e.Body != "" {
		return fmt.Sprintf("GET %s: HTTP %d: %s", e.URL, e.Code, e.Body)
	}
	return fmt.Sprintf("GET %s: HTTP %d", e.URL, e.Code)
}

// Retryable reports whether the status is worth another try.
func (e *StatusError) Retryable() bool { return retryableStatus(e.Code) }

func retryableStatus(code int) bool {
	switch code {
	case 408, 425, 429, 500, 502, 503, 504:
		return true
	}
	return false
}
