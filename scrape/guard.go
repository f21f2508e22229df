package scrape

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// guardedAdapter wraps one (class, source) listing's adapter:
//   - a page refused for throttling (429/503 after the transport's waits)
//     or because robots.txt could not be read is asked again after a
//     growing wait, up to rounds times, instead of ending the listing for
//     the run;
//   - a next-page cursor already listed ends the listing (a gallery whose
//     "next" links go round in a cycle);
//   - with a cursor store, the listing starts where the last run stopped
//     (the last page it read) and records each page it reads; reaching
//     the end forgets it.
type guardedAdapter struct {
	Adapter
	rounds  int
	wait    func(n int) time.Duration
	seen    map[string]bool
	onWait  func(err error, d time.Duration)
	cursors cursorStore
	started bool
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
			if g.cursors != nil {
				at := cursor
				if pg.Next == "" {
					at = ""
				}
				if err := g.cursors.save(ctx, at); err != nil {
					return nil, err
				}
			}
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
