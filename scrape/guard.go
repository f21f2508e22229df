package scrape

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
)

// guardedAdapter wraps one (class, source) listing's adapter:
//   - a page refused for throttling (429/503 after the transport's waits)
//     or because robots.txt could not be read is asked again after a
//     growing wait, up to rounds times, instead of ending the listing for
//     the run;
//   - a next-page cursor already listed ends the listing (a gallery whose
//     "next" links go round in a cycle);
//   - with a cursor store, the listing starts where the last run stopped;
//     each post is tagged with the cursor of its page, so that the job can
//     record the earliest page with posts not yet dealt with.
type guardedAdapter struct {
	Adapter
	rounds  int
	wait    func(n int) time.Duration
	seen    map[string]bool
	onWait  func(err error, d time.Duration)
	cursors cursorStore
	started bool

	mu    sync.Mutex
	last  string // the cursor of the last page read
	ended bool   // that page was the last
}

// position is the last page read and whether the listing ended there.
func (g *guardedAdapter) position() (string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.last, g.ended
}

// cursorStore keeps one listing's position between runs.
type cursorStore interface {
	load(ctx context.Context) (string, error)
	save(ctx context.Context, cursor string) error
}

// pageRounds is how often a throttled page is asked again after the
// transport has given up on it.
const pageRounds = 3

func guard(ad Adapter, p RetryPolicy, onWait func(error, time.Duration)) *guardedAdapter {
	return &guardedAdapter{Adapter: ad, rounds: pageRounds, wait: p.throttleWait, seen: map[string]bool{}, onWait: onWait}
}

func (g *guardedAdapter) Page(ctx context.Context, query, cursor string) (*Page, error) {
	if !g.started && cursor == "" && g.cursors != nil {
		c, err := g.cursors.load(ctx)
		if err != nil {
			return nil, err
		}
		cursor = c
	}
	g.started = true
	for n := 0; ; n++ {
		pg, err := g.Adapter.Page(ctx, query, cursor)
		if err == nil {
			g.seen[cursor] = true
			if pg.Next != "" && g.seen[pg.Next] {
				pg.Next = ""
			}
			for i := range pg.Posts {
				pg.Posts[i].listedAt = cursor
			}
			g.mu.Lock()
			g.last, g.ended = cursor, pg.Next == ""
			g.mu.Unlock()
			return pg, nil
		}
		if !resumable(err) || n >= g.rounds || ctx.Err() != nil {
			return nil, err
		}
		d := g.wait(n)
		if g.onWait != nil {
			g.onWait(err, d)
		}
		if err := sleepCtx(ctx, d); err != nil {
			return nil, err
		}
	}
}

// resumable: a page error that says "later", not "never".
func resumable(err error) bool {
	if errors.Is(err, ErrRetryAfterTooLong) {
		return false
	}
	var se *StatusError
	if errors.As(err, &se) {
		return se.Code == http.StatusTooManyRequests || se.Code == http.StatusServiceUnavailable
	}
	return errors.Is(err, ErrRobotsUnavailable)
}
