package scrape

import (
	"context"
	"sync"
	"time"
)

// pacer spaces requests: each wait returns at least interval after the
// previous one started. One pacer is shared by a source's pages and files
// where the site counts both against one limit (zerochan: 60 requests a
// minute across its hosts).
type pacer struct {
	interval time.Duration
	mu       sync.Mutex
	next     time.Time
}

func newPacer(interval time.Duration) *pacer {
	if interval <= 0 {
		return nil
	}
	return &pacer{interval: interval}
}

// wait blocks until the caller may send a request; a nil pacer never waits.
func (p *pacer) wait(ctx context.Context) error {
	if p == nil {
		return ctx.Err()
	}
	p.mu.Lock()
	now := time.Now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(p.interval)
	p.mu.Unlock()
	return sleepCtx(ctx, time.Until(at))
}
