package scrape

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
)

// fleetTransport makes a shared crawl's workers, together, go no faster
// than one worker would: under the local limits (colly's LimitRule, the
// file host limiter, the source's pacer), every request of a source also
// passes the job's site budget in Redis:
//
//   - a pause: a 429 or 503 answer seen by any worker (its Retry-After, or
//     the retry policy's ThrottleWait without one) holds every worker's
//     requests to that host until it has passed;
//   - pages: one every Delay for the source (GCRA, go-redis/redis_rate);
//   - files: at most Parallelism downloads of the source at once in the
//     whole fleet, each slot held FileDelay after its download ends (the
//     local host limiter's rule, in a sorted set);
//   - Pace, where the site has one: one request of any kind every Pace.
//
// The source of a request is known from its context (the listing's or the
// candidate's); requests of no source (robots.txt) only honour pauses.
type fleetTransport struct {
	next    http.RoundTripper
	s       atomic.Pointer[redisStore]
	sources map[string]fleetSource
	throttl time.Duration
	lim     *redis_rate.Limiter

	mu     sync.Mutex
	slots  map[string]string // slot member -> key, held now (renewed by the heartbeat)
	nslot  uint64
	paused map[string]time.Time // hosts this worker reported paused (one message each)
}

type fleetSource struct {
	delay, fileDelay, pace time.Duration
	files                  int
}

type fleetSourceKey struct{}

// withSource marks ctx's requests as the source's.
func withSource(ctx context.Context, source string) context.Context {
	return context.WithValue(ctx, fleetSourceKey{}, source)
}

func sourceOf(ctx context.Context) string {
	if s, ok := ctx.Value(fleetSourceKey{}).(string); ok {
		return s
	}
	if t := taskOf(ctx); t != nil {
		return t.f.source
	}
	return ""
}

func newFleetTransport(next http.RoundTripper) *fleetTransport {
	return &fleetTransport{next: next, slots: map[string]string{}, paused: map[string]time.Time{}}
}

// attach starts applying the job's budget (a dry run reads only: it never
// takes a slot, so it is left out).
func (t *fleetTransport) attach(s *redisStore, sources map[string]*runSource, policy RetryPolicy) {
	if s == nil || s.dry || s.t.ownSite {
		return
	}
	t.sources = map[string]fleetSource{}
	for name, src := range sources {
		t.sources[name] = fleetSource{delay: src.Delay, fileDelay: src.FileDelay, pace: src.Pace, files: max(src.Parallelism, 1)}
	}
	t.throttl = policy.withDefaults().ThrottleWait
	t.lim = redis_rate.NewLimiter(s.rdb)
	s.fleet = t
	t.s.Store(s)
}

func (t *fleetTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	s := t.s.Load()
	if s == nil {
		return t.next.RoundTrip(req)
	}
	ctx, host := req.Context(), req.URL.Host
	name := sourceOf(ctx)
	cfg, ok := t.sources[name]
	var release func()
	if ok {
		// The downloader asks for image/*; pages ask for JSON or HTML.
		file := strings.HasPrefix(req.Header.Get("Accept"), "image/")
		if file {
			r, err := t.acquire(ctx, s, name, cfg)
			if err != nil {
				return nil, err
			}
			release = r
		} else if err := t.pace(ctx, s, "pages:"+name, cfg.delay); err != nil {
			return nil, err
		}
		if err := t.pace(ctx, s, "site:"+name, cfg.pace); err != nil {
			if release != nil {
				release()
			}
			return nil, err
		}
	}
	// Last, right before the request goes: a pause set while this one
	// waited for its slot or its turn holds it too.
	if err := t.waitPause(ctx, s, host); err != nil {
		if release != nil {
			release()
		}
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		if release != nil {
			release()
		}
		return nil, err
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		d := retryAfter(resp.Header, time.Now())
		if d <= 0 {
			d = t.throttl
		}
		t.pause(ctx, s, host, d)
	}
	if release != nil {
		resp.Body = &releaseBody{ReadCloser: resp.Body, release: release}
	}
	return resp, nil
}

type releaseBody struct {
	io.ReadCloser
	once    sync.Once
	release func()
}

func (b *releaseBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.release)
	return err
}

// pauseScript sets a host's pause unless a longer one is set.
var pauseScript = redis.NewScript(`
local left = redis.call('PTTL', KEYS[1])
if left < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) return 1 end
return 0`)

func (t *fleetTransport) pause(ctx context.Context, s *redisStore, host string, d time.Duration) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.t.lease)
	defer cancel()
	_ = s.do(ctx, func(ctx context.Context) error {
		return pauseScript.Run(ctx, s.rdb, []string{s.key("pause", host)}, d.Milliseconds()).Err()
	})
}

// waitPause holds a request while the host is paused for the fleet.
func (t *fleetTransport) waitPause(ctx context.Context, s *redisStore, host string) error {
	for {
		var left time.Duration
		err := s.do(ctx, func(ctx context.Context) (err error) {
			left, err = s.rdb.PTTL(ctx, s.key("pause", host)).Result()
			return err
		})
		if err != nil {
			return err
		}
		if left <= 0 {
			return nil
		}
		t.mu.Lock()
		until := time.Now().Add(left)
		tell := t.paused[host].Before(time.Now())
		if tell {
			t.paused[host] = until
		}
		t.mu.Unlock()
		if tell {
			s.rep.Logf("%s: paused for %s: a worker of the job was told to wait (Retry-After)", host, left.Round(time.Second))
		}
		if err := sleepCtx(ctx, left); err != nil {
			return err
		}
	}
}

// pace waits for the fleet's next request of key, one per every.
func (t *fleetTransport) pace(ctx context.Context, s *redisStore, key string, every time.Duration) error {
	if every <= 0 {
		return nil
	}
	limit := redis_rate.Limit{Rate: 1, Burst: 1, Period: every}
	for {
		var res *redis_rate.Result
		err := s.do(ctx, func(ctx context.Context) (err error) {
			res, err = t.lim.Allow(ctx, s.key(key), limit)
			return err
		})
		if err != nil {
			return err
		}
		if res.Allowed > 0 {
			return nil
		}
		if err := sleepCtx(ctx, max(res.RetryAfter, time.Millisecond)); err != nil {
			return err
		}
	}
}

// slotScript takes one of n file slots: 0 taken, else the ms until the
// earliest slot frees. A slot's score is when it frees: lease ahead while
// its download runs (renewed), the file delay ahead once it has ended.
var slotScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  return 0
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(tonumber(first[2]) - now, 1)`)

// freeScript ends a download: the slot stays taken for the file delay.
var freeScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if tonumber(ARGV[2]) <= 0 then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])`)

func (t *fleetTransport) acquire(ctx context.Context, s *redisStore, name string, cfg fleetSource) (func(), error) {
	key := s.key("slots", name)
	t.mu.Lock()
	t.nslot++
	member := fmt.Sprintf("%s:%d", s.id, t.nslot)
	t.mu.Unlock()
	for {
		var wait int64
		err := s.do(ctx, func(ctx context.Context) (err error) {
			wait, err = slotScript.Run(ctx, s.rdb, []string{key}, cfg.files, member, s.t.lease.Milliseconds()).Int64()
			return err
		})
		if err != nil {
			return nil, err
		}
		if wait == 0 {
			break
		}
		if err := sleepCtx(ctx, min(time.Duration(wait)*time.Millisecond, s.t.block)); err != nil {
			return nil, err
		}
	}
	t.mu.Lock()
	t.slots[member] = key
	t.mu.Unlock()
	return func() {
		t.mu.Lock()
		delete(t.slots, member)
		t.mu.Unlock()
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.t.lease)
		defer cancel()
		_ = s.do(rctx, func(ctx context.Context) error {
			return freeScript.Run(ctx, s.rdb, []string{key}, member, cfg.fileDelay.Milliseconds()).Err()
		})
	}, nil
}

// renew keeps this worker's file slots while their downloads run.
func (t *fleetTransport) renew(ctx context.Context, pipe redis.Pipeliner, now time.Time, lease time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for member, key := range t.slots {
		pipe.ZAdd(ctx, key, redis.Z{Score: float64(now.Add(lease).UnixMilli()), Member: member})
	}
}
