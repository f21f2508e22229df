package scrape

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/internal/progress"
	"github.com/chara-dev/chara/manifests"
)

// redisStore makes several chara scrape processes, on one machine or many,
// one crawl job. Every key lives under the job's namespace <ns>:
//
//	<ns>epoch           the Redis server's run_id when the job was last joined
//	<ns>settle          until when (unix ms) no file may be reserved: a join
//	                    or a Redis restart gives every worker time to publish
//	<ns>members         hash: worker id -> {workspace, host, seen}
//	<ns>archive         hash: archive key -> status, every workspace's archive
//	<ns>claim:<key>     the worker fetching a post or a content now (leased)
//	<ns>have:<slug>     set: sha256 of every file of the class in any
//	                    workspace: the class's count
//	<ns>resv:<slug>     hash: reservation -> expiry (unix ms): files of the
//	                    class being fetched now
//	<ns>wake:<slug>     list: a returned reservation wakes one waiter
//	<ns>list:<slug>:<source>:<query hash>:{stream,cursor,seen,end,lease,fence}
//	                    one listing: the candidates (a stream read through
//	                    the consumer group "workers"), the next page's
//	                    cursor, the cursors listed, the end mark, the
//	                    lister's lease and fence
//	<ns>pause:<host>, <ns>slots:<source>, rate:<ns>{pages,site}:<source>
//	                    the fleet's site budget (redis_fleet.go)
//
// A candidate is acknowledged only once it is handled: its file, index line
// and archive entry on disk, or refused. A dead worker's candidates are
// reclaimed (XAUTOCLAIM) after 2*lease. The local archive and raw indexes
// are the truth: a worker publishes them when it joins and after every
// Redis restart, so that Redis can lose everything without a file being
// fetched twice.
type redisStore struct {
	local   *localStore
	rdb     *redis.Client
	ns      string
	id      string // this worker: consumer name, owner of claims, reservations and leases
	where   string // the server, for messages: never the password
	t       redisTimes
	rep     progress.Reporter
	ws      string
	slugs   []string // every configured class, published on join
	target  int
	dry     bool
	counter uint64
	started time.Time       // listings that ended before are listed again from the newest posts
	fleet   *fleetTransport // the site budget, when attached

	mu      sync.Mutex
	epoch   string
	down    bool
	claims  map[string]bool
	tasks   map[*redisTask]bool
	streams map[string]bool // the listings' streams this worker read

	joinMu sync.Mutex
	stop   chan struct{}
	wg     sync.WaitGroup
}

// redisTask is one candidate being handled; it travels in the handling
// context so that the store's calls know the reservation to commit and
// whether a claim was refused.
type redisTask struct {
	f         *redisFrontier
	msgID     string
	resv      string
	contended bool
}

type taskKey struct{}

func taskOf(ctx context.Context) *redisTask {
	t, _ := ctx.Value(taskKey{}).(*redisTask)
	return t
}

// RedactURL hides the password of a redis:// URL.
func RedactURL(raw string) string { return config.RedactURL(raw) }

// go-redis logs pool failures to stderr itself; library code never prints
// (the outages it sees are reported through the reporter), so its logger
// is silenced.
var quietRedis sync.Once

type nopRedisLogger struct{}

func (nopRedisLogger) Printf(context.Context, string, ...any) {}

// redisClient connects to rawURL; errors never show the password.
func redisClient(ctx context.Context, rawURL string, wait, block time.Duration) (*redis.Client, string, error) {
	quietRedis.Do(func() { redis.SetLogger(nopRedisLogger{}) })
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, "", fmt.Errorf("scrape.redis %s: %w: %v", RedactURL(rawURL), ErrConfig, strings.ReplaceAll(err.Error(), rawURL, RedactURL(rawURL)))
	}
	if opt.ReadTimeout >= 0 {
		opt.ReadTimeout = max(opt.ReadTimeout, 3*time.Second, block+2*time.Second)
	}
	rdb := redis.NewClient(opt)
	deadline := time.Now().Add(wait)
	for {
		err := rdb.Ping(ctx).Err()
		if err == nil {
			return rdb, opt.Addr, nil
		}
		if !isOutage(err) || time.Now().After(deadline) || ctx.Err() != nil {
			rdb.Close()
			return nil, "", fmt.Errorf("redis %s: %w", opt.Addr, err)
		}
		_ = sleepCtx(ctx, 200*time.Millisecond)
	}
}

func newRedisStore(ctx context.Context, o *options, local *localStore, ws string) (*redisStore, error) {
	var slugs []string
	for _, c := range o.classes {
		if slug, err := manifests.Slug(c.Name); err == nil {
			slugs = append(slugs, slug)
		}
	}
	rdb, addr, err := redisClient(ctx, o.redisURL, 5*time.Second, o.redisT.block)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	host, _ := os.Hostname()
	s := &redisStore{local: local, rdb: rdb, ns: o.redisNS, where: addr, t: o.redisT, rep: o.reporter,
		ws: ws, slugs: slugs, target: o.candidates, dry: o.dryRun,
		id:     fmt.Sprintf("%s-%d-%s", strings.ReplaceAll(host, ":", "_"), os.Getpid(), hex.EncodeToString(b)),
		claims: map[string]bool{}, tasks: map[*redisTask]bool{}, streams: map[string]bool{}, stop: make(chan struct{}), started: time.Now()}
	if s.t.lease <= 0 {
		s.t.lease = defaultRedisTimes().lease
	}
	if s.t.block <= 0 {
		s.t.block = defaultRedisTimes().block
	}
	if s.dry {
		return s, nil // a dry run reads only: no join, no heartbeat
	}
	if err := s.join(ctx); err != nil {
		rdb.Close()
		return nil, err
	}
	if now, err := rdb.Time(ctx).Result(); err == nil {
		s.started = now // the server's clock, as the end marks are: machines' clocks may differ
	}
	s.wg.Add(1)
	go s.heartbeat()
	return s, nil
}

// isOutage: the server cannot be reached or cannot serve now (as opposed
// to an answer such as a wrong type).
func isOutage(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return false
	}
	var re redis.Error
	if errors.As(err, &re) {
		msg := re.Error()
		for _, p := range []string{"LOADING", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "READONLY", "BUSY "} {
			if strings.HasPrefix(msg, p) {
				return true
			}
		}
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, redis.ErrClosed) || errors.Is(err, context.DeadlineExceeded) ||
		strings.Contains(err.Error(), "connection pool timeout")
}

// do runs f, waiting out a lost Redis (backoff from 100ms to 5s, one
// message when it goes and one when it is back) for up to t.outage. An
// outage is never a download failure; once Redis is back, the job is
// joined again (which publishes this workspace) if the server restarted.
func (s *redisStore) do(ctx context.Context, f func(ctx context.Context) error) error {
	var since time.Time
	wait := 100 * time.Millisecond
	for {
		err := f(ctx)
		if !isOutage(err) || ctx.Err() != nil {
			if err == nil && !since.IsZero() {
				s.recovered(ctx, since)
			}
			if err != nil && !errors.Is(err, redis.Nil) && ctx.Err() == nil {
				var ae *archiveError
				if errors.As(err, &ae) {
					return ae.err
				}
				return &StoreError{fmt.Errorf("redis %s: %w", s.where, err)}
			}
			return err
		}
		if since.IsZero() {
			since = time.Now()
			s.mu.Lock()
			first := !s.down
			s.down = true
			s.mu.Unlock()
			if first {
				s.rep.Logf("redis %s: lost (%v); waiting for it (downloads pause, nothing counts as failed)", s.where, err)
			}
		}
		if s.t.outage > 0 && time.Since(since) > s.t.outage {
			return &StoreError{fmt.Errorf("redis %s: unreachable for %s: %w", s.where, s.t.outage, err)}
		}
		if err := sleepCtx(ctx, wait); err != nil {
			return err
		}
		wait = min(wait*2, 5*time.Second)
	}
}

func (s *redisStore) recovered(ctx context.Context, since time.Time) {
	s.mu.Lock()
	was := s.down
	s.down = false
	s.mu.Unlock()
	if was {
		s.rep.Logf("redis %s: back after %s", s.where, time.Since(since).Round(100*time.Millisecond))
	}
	if !s.dry {
		_ = s.rejoinIfRestarted(ctx)
	}
}

func (s *redisStore) key(parts ...string) string { return s.ns + strings.Join(parts, ":") }

// runID names the Redis server process: it changes when Redis restarts.
func (s *redisStore) runID(ctx context.Context) (string, error) {
	info, err := s.rdb.Info(ctx, "server").Result()
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "run_id:"); ok {
			return v, nil
		}
	}
	return "", errors.New("INFO server has no run_id")
}

// joinScript records the server's run_id as the job's epoch and holds
// reservations back until every live worker has published what it has:
// lease/3 for a join (the others' next heartbeat), 2*lease/3 when the epoch
// changed (a new job, or Redis restarted: every worker's heartbeat, which
// runs every lease/3, must notice first).
var joinScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local changed = 0
local settle = tonumber(ARGV[2])
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1])
  changed = 1
  settle = tonumber(ARGV[3])
end
local untilms = now + settle
if tonumber(redis.call('GET', KEYS[2]) or '0') < untilms then
  redis.call('SET', KEYS[2], untilms)
end
return changed`)

// join publishes this workspace into the job: its archive, the sha256 of
// every configured class's files, its claims and reservations in flight.
func (s *redisStore) join(ctx context.Context) error {
	s.joinMu.Lock()
	defer s.joinMu.Unlock()
	return s.do(ctx, func(ctx context.Context) error {
		id, err := s.runID(ctx)
		if err != nil {
			return err
		}
		if err := joinScript.Run(ctx, s.rdb, []string{s.key("epoch"), s.key("settle")}, id, (s.t.lease / 3).Milliseconds(), (2 * s.t.lease / 3).Milliseconds()).Err(); err != nil {
			return err
		}
		if err := s.publish(ctx); err != nil {
			return err
		}
		if err := s.renew(ctx); err != nil {
			return err
		}
		s.mu.Lock()
		s.epoch = id
		s.mu.Unlock()
		return nil
	})
}

func (s *redisStore) rejoinIfRestarted(ctx context.Context) error {
	id, err := s.runID(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	same := id == s.epoch
	s.mu.Unlock()
	if same {
		return nil
	}
	s.rep.Logf("redis %s: the server restarted; publishing this workspace to the job again", s.where)
	return s.join(ctx)
}

// publish writes the local truth into the job (idempotent: sets and
// HSETNX, so publishing twice counts nothing twice).
func (s *redisStore) publish(ctx context.Context) error {
	if err := s.seen(ctx); err != nil {
		return err
	}
	for _, slug := range s.slugs {
		recs, err := manifests.ReadRawIndex(manifests.RawIndexPath(s.ws, slug))
		if err != nil {
			return err
		}
		for i := 0; i < len(recs); i += 1000 {
			chunk := recs[i:min(i+1000, len(recs))]
			shas := make([]any, len(chunk))
			for k, r := range chunk {
				shas[k] = r.SHA256
			}
			if err := s.rdb.SAdd(ctx, s.key("have", slug), shas...).Err(); err != nil {
				return err
			}
			// The index is the truth: its files' posts and contents are
			// known to the job even where the local archive missed them (a
			// worker killed between the index line and the archive entry).
			pipe := s.rdb.Pipeline()
			for _, r := range chunk {
				pipe.HSetNX(ctx, s.key("archive"), SHA256Key(r.SHA256), StatusDownloaded)
				if r.PostID != "" {
					pipe.HSetNX(ctx, s.key("archive"), PostKey(r.Source, r.PostID), StatusDownloaded)
				}
				if r.MD5 != "" {
					pipe.HSetNX(ctx, s.key("archive"), MD5Key(strings.ToLower(r.MD5)), StatusDownloaded)
				}
			}
			if _, err := pipe.Exec(ctx); err != nil {
				return err
			}
		}
	}
	rows, err := s.local.arc.db.QueryContext(ctx, `SELECT key, status FROM archive`)
	if err != nil {
		return &archiveError{fmt.Errorf("archive %s: %w", s.local.arc.path, err)}
	}
	defer rows.Close()
	pipe := s.rdb.Pipeline()
	n := 0
	for rows.Next() {
		var k, st string
		if err := rows.Scan(&k, &st); err != nil {
			return &archiveError{err}
		}
		pipe.HSetNX(ctx, s.key("archive"), k, st)
		if n++; n%1000 == 0 {
			if _, err := pipe.Exec(ctx); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return &archiveError{err}
	}
	_, err = pipe.Exec(ctx)
	return err
}

// StoreError is the shared job's store (Redis) failing: it stops the run,
// and is never counted against a site.
type StoreError struct{ err error }

func (e *StoreError) Error() string { return e.err.Error() }
func (e *StoreError) Unwrap() error { return e.err }

// seen records this worker in the job's members (for --status and
// --reset-job).
func (s *redisStore) seen(ctx context.Context) error { return s.member(ctx, false) }

func (s *redisStore) member(ctx context.Context, left bool) error {
	host, _ := os.Hostname()
	m, _ := json.Marshal(map[string]any{"workspace": s.ws, "host": host, "seen": time.Now().Unix(), "left": left})
	return s.rdb.HSet(ctx, s.key("members"), s.id, m).Err()
}

// archiveError is the local archive failing: not an outage.
type archiveError struct{ err error }

func (e *archiveError) Error() string { return e.err.Error() }
func (e *archiveError) Unwrap() error { return e.err }

// renew extends (or, after a restart, re-creates) this worker's claims,
// reservations and in-flight candidates.
func (s *redisStore) renew(ctx context.Context) error {
	s.mu.Lock()
	claims := make([]string, 0, len(s.claims))
	for k := range s.claims {
		claims = append(claims, k)
	}
	type inflight struct{ slug, resv, stream, msgID string }
	tasks := make([]inflight, 0, len(s.tasks))
	for t := range s.tasks {
		tasks = append(tasks, inflight{t.f.slug, t.resv, t.f.key + ":stream", t.msgID})
	}
	s.mu.Unlock()
	ms := s.t.lease.Milliseconds()
	now, err := s.rdb.Time(ctx).Result()
	if err != nil {
		return err
	}
	pipe := s.rdb.Pipeline()
	if s.fleet != nil {
		s.fleet.renew(ctx, pipe, now, s.t.lease)
	}
	for _, k := range claims {
		claimScript.Eval(ctx, pipe, []string{s.key("claim", k)}, s.id, ms)
	}
	for _, t := range tasks {
		pipe.HSet(ctx, s.key("resv", t.slug), t.resv, now.UnixMilli()+ms)
		if t.msgID != "" {
			// Resets the entry's idle time, so that XAUTOCLAIM leaves it to us.
			pipe.XClaimJustID(ctx, &redis.XClaimArgs{Stream: t.stream, Group: group, Consumer: s.id, Messages: []string{t.msgID}})
		}
	}
	_, err = pipe.Exec(ctx)
	if err != nil && isOutage(err) {
		return err
	}
	return nil // an entry gone with a restart is no error
}

func (s *redisStore) heartbeat() {
	defer s.wg.Done()
	tick := time.NewTicker(s.t.lease / 3)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.t.lease)
		if err := s.rejoinIfRestarted(ctx); err == nil {
			_ = s.renew(ctx)
			_ = s.seen(ctx)
		}
		cancel()
	}
}

func (s *redisStore) has(ctx context.Context, keys ...string) (bool, error) {
	if ok, err := s.local.has(ctx, keys...); ok || err != nil {
		return ok, err
	}
	fields := make([]string, 0, len(keys))
	for _, k := range keys {
		if k != "" {
			fields = append(fields, k)
		}
	}
	if len(fields) == 0 {
		return false, nil
	}
	var vals []any
	err := s.do(ctx, func(ctx context.Context) (err error) {
		vals, err = s.rdb.HMGet(ctx, s.key("archive"), fields...).Result()
		return err
	})
	if err != nil {
		return false, err
	}
	for _, v := range vals {
		if v != nil {
			return true, nil
		}
	}
	return false, nil
}

// put writes the job's archive first, then the local one: a file's index
// line is already on disk (the truth, which the next join publishes), and
// the job must know the file before a worker killed now leaves its
// candidate to be reclaimed; the local archive, if this worker dies before
// writing it, is rebuilt from the index when the class starts again.
func (s *redisStore) put(ctx context.Context, e Entry, overwrite bool, keys ...string) error {
	if s.dry {
		return s.local.put(ctx, e, overwrite, keys...)
	}
	if err := s.putShared(ctx, e, overwrite, keys...); err != nil {
		return err
	}
	return s.local.put(ctx, e, overwrite, keys...)
}

func (s *redisStore) putMany(ctx context.Context, puts []storePut) error {
	if !s.dry {
		for _, p := range puts {
			if err := s.putShared(p.ctx, p.Entry, p.Overwrite, p.Keys...); err != nil {
				return err
			}
		}
	}
	return s.local.putMany(ctx, puts)
}

func (s *redisStore) putShared(ctx context.Context, e Entry, overwrite bool, keys ...string) error {
	t := taskOf(ctx)
	if e.Status == StatusDownloaded {
		// The file and its index line are on disk: the job must learn of
		// them even when the run is being stopped (else its candidate,
		// handed over, is fetched again), within a bound; a write still
		// lost is published from the index at close and at the next join.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), s.t.lease)
		defer cancel()
	}
	return s.do(ctx, func(ctx context.Context) error {
		pipe := s.rdb.TxPipeline()
		for _, k := range keys {
			if k == "" {
				continue
			}
			if overwrite {
				pipe.HSet(ctx, s.key("archive"), k, e.Status)
			} else {
				pipe.HSetNX(ctx, s.key("archive"), k, e.Status)
			}
		}
		if e.Status == StatusDownloaded && e.SHA256 != "" && e.Class != "" {
			// The count and the end of the reservation, in one transaction.
			field := ""
			if t != nil && t.f.slug == e.Class {
				field = t.resv
			}
			commitScript.Eval(ctx, pipe, []string{s.key("have", e.Class), s.key("resv", e.Class), s.key("wake", e.Class)},
				e.SHA256, field, s.target)
		}
		_, err := pipe.Exec(ctx)
		return err
	})
}

func (s *redisStore) markSHA(ctx context.Context, sha, status string) error {
	keys, err := s.local.arc.SetStatusBySHA256(ctx, sha, status)
	if err != nil || len(keys) == 0 || s.dry {
		return err
	}
	return s.do(ctx, func(ctx context.Context) error {
		pipe := s.rdb.Pipeline()
		for _, k := range keys {
			pipe.HSet(ctx, s.key("archive"), k, status)
		}
		_, err := pipe.Exec(ctx)
		return err
	})
}

// commitScript counts a file of a class and ends its reservation; the
// file that completes the class wakes the workers waiting for a slot, so
// that they stop at once.
var commitScript = redis.NewScript(`
redis.call('SADD', KEYS[1], ARGV[1])
if ARGV[2] ~= '' then redis.call('HDEL', KEYS[2], ARGV[2]) end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  for i = 1, 32 do redis.call('RPUSH', KEYS[3], 'done') end
  redis.call('LTRIM', KEYS[3], -64, -1)
  redis.call('PEXPIRE', KEYS[3], 60000)
end
return 1`)

// claimScript takes or renews a claim: free, or already ours.
var claimScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if (not v) or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`)

var releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

func (s *redisStore) claim(ctx context.Context, key string) (bool, error) {
	if ok, _ := s.local.claim(ctx, key); !ok {
		return false, nil
	}
	if s.dry {
		return true, nil
	}
	var ok bool
	err := s.do(ctx, func(ctx context.Context) error {
		n, err := claimScript.Run(ctx, s.rdb, []string{s.key("claim", key)}, s.id, s.t.lease.Milliseconds()).Int()
		ok = n == 1
		return err
	})
	if err != nil || !ok {
		s.local.release(ctx, key)
	}
	if err != nil {
		return false, err
	}
	if ok {
		s.mu.Lock()
		s.claims[key] = true
		s.mu.Unlock()
	} else if t := taskOf(ctx); t != nil {
		// Another worker fetches it now: the candidate stays pending, to be
		// looked at again if that worker dies.
		t.contended = true
	}
	return ok, nil
}

func (s *redisStore) release(ctx context.Context, key string) {
	s.local.release(ctx, key)
	if s.dry {
		return
	}
	s.mu.Lock()
	delete(s.claims, key)
	s.mu.Unlock()
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = releaseScript.Run(rctx, s.rdb, []string{s.key("claim", key)}, s.id).Err()
}

// fetchedCount is the class's files in every workspace of the job. A dry
// run counts the union of the job's and this workspace's without writing.
func (s *redisStore) fetchedCount(ctx context.Context, slug string, local int) (int, error) {
	var n int64
	err := s.do(ctx, func(ctx context.Context) (err error) {
		n, err = s.rdb.SCard(ctx, s.key("have", slug)).Result()
		return err
	})
	if err != nil {
		return 0, err
	}
	if !s.dry {
		return int(n), nil
	}
	recs, err := manifests.ReadRawIndex(manifests.RawIndexPath(s.ws, slug))
	if err != nil || len(recs) == 0 {
		return max(int(n), local), err
	}
	shas := make([]any, len(recs))
	for i, r := range recs {
		shas[i] = r.SHA256
	}
	var in []bool
	err = s.do(ctx, func(ctx context.Context) (err error) {
		in, err = s.rdb.SMIsMember(ctx, s.key("have", slug), shas...).Result()
		return err
	})
	for _, ok := range in {
		if !ok {
			n++
		}
	}
	return int(n), err
}

// addFetched: put counts a downloaded file in the same transaction.
func (s *redisStore) addFetched(context.Context, string) error { return nil }

func (s *redisStore) frontier(slug, source, query string, ad Adapter, onPage func(*Page)) frontier {
	if s.dry {
		// Reads the site's listing from its start, never the job's queue.
		return &localFrontier{ad: ad, query: query, onPage: onPage}
	}
	key := s.listKey(slug, source, query)
	s.mu.Lock()
	s.streams[key+":stream"] = true
	s.mu.Unlock()
	return &redisFrontier{s: s, ad: ad, query: query, onPage: onPage, slug: slug, source: source, key: key}
}

func (s *redisStore) listKey(slug, source, query string) string {
	q := sha256.Sum256([]byte(query))
	return s.key("list", slug, source, hex.EncodeToString(q[:6]))
}

// close gives back this worker's claims and reservations at once (others
// need not wait for the lease) and leaves its unfinished candidates
// pending, to be reclaimed.
func (s *redisStore) close() error {
	if !s.dry {
		close(s.stop)
		s.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.mu.Lock()
		claims := s.claims
		s.claims = map[string]bool{}
		s.mu.Unlock()
		for k := range claims {
			_ = releaseScript.Run(ctx, s.rdb, []string{s.key("claim", k)}, s.id).Err()
		}
		// What is in the indexes is known to the job before the
		// unfinished candidates go to the others.
		if s.publish(ctx) == nil {
			s.handOver(ctx)
		}
		_ = s.member(ctx, true)
		cancel()
	}
	return s.rdb.Close()
}

// handOver makes the candidates this worker leaves unfinished (a run
// stopped by Ctrl-C, an error) at once reclaimable by the others: their
// idle time is set past the reclaim time, instead of waiting two leases.
func (s *redisStore) handOver(ctx context.Context) {
	s.mu.Lock()
	streams := make([]string, 0, len(s.streams))
	for k := range s.streams {
		streams = append(streams, k)
	}
	s.mu.Unlock()
	for _, stream := range streams {
		pend, err := s.rdb.XPendingExt(ctx, &redis.XPendingExtArgs{Stream: stream, Group: group, Start: "-", End: "+",
			Count: 1000, Consumer: s.id}).Result()
		if err != nil || len(pend) == 0 {
			continue
		}
		args := []any{"XCLAIM", stream, group, s.id, 0}
		for _, p := range pend {
			args = append(args, p.ID)
		}
		args = append(args, "IDLE", (10 * s.t.lease).Milliseconds(), "JUSTID")
		_ = s.rdb.Do(ctx, args...).Err()
	}
}

// reserveScript takes one file of a class's budget: 2 reserved, 1 full for
// now (others are fetching the rest), 0 the class is done, -1 wait (the
// job is settling), -2 join again: the job's epoch is not the one this
// worker joined, or the server is not the one it joined (a restart from a
// snapshot brings the old epoch back, and stale counts with it).
var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -2 end
if string.match(redis.call('INFO', 'server'), 'run_id:(%w+)') ~= ARGV[1] then return -2 end
if now < tonumber(redis.call('GET', KEYS[2]) or '0') then return -1 end
local have = redis.call('SCARD', KEYS[3])
local target = tonumber(ARGV[2])
if have >= target then return 0 end
local r = redis.call('HGETALL', KEYS[4])
local live = 0
for i = 1, #r, 2 do
  if tonumber(r[i + 1]) < now then redis.call('HDEL', KEYS[4], r[i]) else live = live + 1 end
end
if have + live >= target then return 1 end
redis.call('HSET', KEYS[4], ARGV[3], now + tonumber(ARGV[4]))
return 2`)

const group = "workers"

type redisFrontier struct {
	s                   *redisStore
	ad                  Adapter
	query, slug, source string
	key                 string
	onPage              func(*Page)
	groupOK             atomic.Bool
	gmu                 sync.Mutex
}

// reserve waits for a slot of the class's budget; errExhausted once the
// class has its target.
func (f *redisFrontier) reserve(ctx context.Context) (string, error) {
	s := f.s
	s.mu.Lock()
	s.counter++
	field := fmt.Sprintf("%s:%d", s.id, s.counter)
	s.mu.Unlock()
	keys := []string{s.key("epoch"), s.key("settle"), s.key("have", f.slug), s.key("resv", f.slug)}
	for {
		s.mu.Lock()
		epoch := s.epoch
		s.mu.Unlock()
		var r int
		err := s.do(ctx, func(ctx context.Context) (err error) {
			r, err = reserveScript.Run(ctx, s.rdb, keys, epoch, s.target, field, s.t.lease.Milliseconds()).Int()
			return err
		})
		if err != nil {
			return "", err
		}
		switch r {
		case 2:
			return field, nil
		case 0:
			return "", errExhausted
		case -2:
			if err := s.do(ctx, s.rejoinIfRestarted); err != nil {
				return "", err
			}
			s.mu.Lock()
			stale := s.epoch == epoch
			s.mu.Unlock()
			if stale { // same server, epoch key lost or rewritten: join again
				if err := s.join(ctx); err != nil {
					return "", err
				}
			}
		case -1:
			if err := sleepCtx(ctx, s.t.lease/10); err != nil {
				return "", err
			}
		default:
			// Full while others fetch: a returned reservation wakes one
			// waiter; otherwise look again after block.
			err := s.do(ctx, func(ctx context.Context) error {
				// BLPOP takes fractions of a second since Redis 6; the
				// client's read timeout is longer than block (redisClient).
				return s.rdb.Do(ctx, "BLPOP", s.key("wake", f.slug), strconv.FormatFloat(s.t.block.Seconds(), 'f', 3, 64)).Err()
			})
			if err != nil && !errors.Is(err, redis.Nil) {
				return "", err
			}
		}
	}
}

func (f *redisFrontier) unreserve(ctx context.Context, field string) {
	s := f.s
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.t.lease)
	defer cancel()
	_ = s.do(ctx, func(ctx context.Context) error {
		n, err := s.rdb.HDel(ctx, s.key("resv", f.slug), field).Result()
		if err == nil && n > 0 {
			pipe := s.rdb.Pipeline()
			pipe.RPush(ctx, s.key("wake", f.slug), 1)
			pipe.LTrim(ctx, s.key("wake", f.slug), -64, -1)
			pipe.PExpire(ctx, s.key("wake", f.slug), time.Minute)
			_, err = pipe.Exec(ctx)
		}
		return err
	})
}

func (f *redisFrontier) next(ctx context.Context) (context.Context, Post, error) {
	field, err := f.reserve(ctx)
	if err != nil {
		return ctx, Post{}, err
	}
	t := &redisTask{f: f, resv: field}
	f.s.mu.Lock()
	f.s.tasks[t] = true
	f.s.mu.Unlock()
	msg, err := f.take(ctx)
	if err != nil {
		f.forget(t)
		f.unreserve(ctx, field)
		return ctx, Post{}, err
	}
	f.s.mu.Lock()
	t.msgID = msg.ID // read by the heartbeat
	f.s.mu.Unlock()
	var p Post
	raw, _ := msg.Values["post"].(string)
	if err := json.Unmarshal([]byte(raw), &p); err != nil {
		// A foreign entry: acknowledge it so that it does not come back.
		f.ack(ctx, msg.ID)
		f.forget(t)
		f.unreserve(ctx, field)
		return ctx, Post{}, fmt.Errorf("redis %s: bad candidate %s: %w", f.key, msg.ID, err)
	}
	return context.WithValue(ctx, taskKey{}, t), p, nil
}

func (f *redisFrontier) forget(t *redisTask) {
	f.s.mu.Lock()
	delete(f.s.tasks, t)
	f.s.mu.Unlock()
}

func (f *redisFrontier) ack(ctx context.Context, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), f.s.t.lease)
	defer cancel()
	_ = f.s.do(ctx, func(ctx context.Context) error {
		return f.s.rdb.XAck(ctx, f.key+":stream", group, id).Err()
	})
}

// done acknowledges a handled candidate. One not handled (the run stopped,
// the disk failed, another worker holds its claim) stays pending, to be
// reclaimed; its reservation is returned unless its file was counted.
func (f *redisFrontier) done(ctx context.Context, err error) {
	t := taskOf(ctx)
	if t == nil {
		return
	}
	f.forget(t)
	if err == nil && ctx.Err() == nil && !t.contended {
		f.ack(ctx, t.msgID)
	}
	f.unreserve(ctx, t.resv)
}

func (f *redisFrontier) ensureGroup(ctx context.Context) error {
	f.gmu.Lock()
	defer f.gmu.Unlock()
	err := f.s.rdb.XGroupCreateMkStream(ctx, f.key+":stream", group, "0").Err()
	if err != nil && !strings.HasPrefix(err.Error(), "BUSYGROUP") {
		return err
	}
	f.groupOK.Store(true)
	return nil
}

func isNoGroup(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "NOGROUP") }

// take returns the next candidate: a dead worker's first, then a new one;
// when the stream is drained, one worker (the lease holder) lists the next
// page while the others block on the stream.
func (f *redisFrontier) take(ctx context.Context) (redis.XMessage, error) {
	s, stream := f.s, f.key+":stream"
	for {
		if err := ctx.Err(); err != nil {
			return redis.XMessage{}, err
		}
		var msg *redis.XMessage
		var ended bool
		var pending int64
		err := s.do(ctx, func(ctx context.Context) error {
			if !f.groupOK.Load() {
				if err := f.ensureGroup(ctx); err != nil {
					return err
				}
			}
			msgs, _, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: stream, Group: group,
				Consumer: s.id, MinIdle: 2 * s.t.lease, Start: "0-0", Count: 1}).Result()
			if isNoGroup(err) {
				f.groupOK.Store(false) // Redis lost it: create it again
				return f.ensureGroup(ctx)
			}
			if err != nil {
				return err
			}
			if len(msgs) > 0 {
				msg = &msgs[0]
				return nil
			}
			res, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: s.id,
				Streams: []string{stream, ">"}, Count: 1, Block: -1}).Result()
			if isNoGroup(err) {
				// Redis restarted empty between the two calls.
				f.groupOK.Store(false)
				return f.ensureGroup(ctx)
			}
			if err == nil && len(res) > 0 && len(res[0].Messages) > 0 {
				msg = &res[0].Messages[0]
				return nil
			}
			if err != nil && !errors.Is(err, redis.Nil) {
				return err
			}
			n, err := s.rdb.Exists(ctx, f.key+":end").Result()
			if err != nil {
				return err
			}
			if ended = n > 0; ended {
				p, err := s.rdb.XPending(ctx, stream, group).Result()
				if isNoGroup(err) {
					f.groupOK.Store(false)
					ended = false // the restarted server knows no end: list again
					return f.ensureGroup(ctx)
				}
				if err != nil {
					return err
				}
				pending = p.Count
			}
			return nil
		})
		if err != nil {
			return redis.XMessage{}, err
		}
		if msg != nil {
			return *msg, nil
		}
		if ended {
			if pending == 0 {
				var restarted int
				err := s.do(ctx, func(ctx context.Context) (err error) {
					restarted, err = restartScript.Run(ctx, s.rdb, []string{f.key + ":end", f.key + ":cursor", f.key + ":seen"}, s.started.UnixMilli()).Int()
					return err
				})
				if err != nil {
					return redis.XMessage{}, err
				}
				if restarted == 1 {
					continue
				}
				return redis.XMessage{}, errExhausted
			}
			// Others hold the last candidates: wait for them to be
			// acknowledged, or to go stale and be reclaimed.
			if err := sleepCtx(ctx, min(s.t.block, s.t.lease/2)); err != nil {
				return redis.XMessage{}, err
			}
			continue
		}
		fence, err := f.lease(ctx)
		if err != nil {
			return redis.XMessage{}, err
		}
		if fence != "" {
			err := f.list(ctx, fence)
			f.unlease(ctx)
			if err != nil {
				return redis.XMessage{}, err
			}
			continue
		}
		// Someone else lists: block until its candidates arrive.
		err = s.do(ctx, func(ctx context.Context) error {
			res, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: group, Consumer: s.id,
				Streams: []string{stream, ">"}, Count: 1, Block: s.t.block}).Result()
			if isNoGroup(err) {
				f.groupOK.Store(false)
				return nil
			}
			if err == nil && len(res) > 0 && len(res[0].Messages) > 0 {
				msg = &res[0].Messages[0]
			}
			if errors.Is(err, redis.Nil) {
				return nil
			}
			return err
		})
		if err != nil {
			return redis.XMessage{}, err
		}
		if msg != nil {
			return *msg, nil
		}
	}
}

// leaseScript grants the lister's lease and a new fence token.
var leaseScript = redis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return redis.call('INCR', KEYS[2])
end
return 0`)

var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`)

// appendScript writes a listed page only while the writer holds the lease
// with the latest fence: a lister that stalled past its lease can never
// move the cursor or add candidates twice. A next cursor the listing has
// already been at ends it (a gallery whose "next" links go round): the
// listed cursors are kept in Redis, since any worker may list any page.
var appendScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] or redis.call('GET', KEYS[2]) ~= ARGV[2] then return 0 end
if redis.call('GET', KEYS[3]) ~= ARGV[3] and not (ARGV[3] == '' and redis.call('EXISTS', KEYS[3]) == 0) then return 0 end
for i = 6, #ARGV do redis.call('XADD', KEYS[5], '*', 'post', ARGV[i]) end
redis.call('SET', KEYS[3], ARGV[4])
redis.call('SADD', KEYS[6], ARGV[3])
if ARGV[5] == '1' or redis.call('SISMEMBER', KEYS[6], ARGV[4]) == 1 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[4], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
end
return 1`)

// restartScript starts a listing afresh (at the newest posts) when it
// ended before this worker's run began, as a local run's listing does: the
// end mark holds when (unix ms) the listing ended.
var restartScript = redis.NewScript(`
local e = redis.call('GET', KEYS[1])
if e and tonumber(e) < tonumber(ARGV[1]) then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
  return 1
end
return 0`)

func (f *redisFrontier) lease(ctx context.Context) (string, error) {
	var fence int64
	err := f.s.do(ctx, func(ctx context.Context) (err error) {
		fence, err = leaseScript.Run(ctx, f.s.rdb, []string{f.key + ":lease", f.key + ":fence"}, f.s.id, f.s.t.lease.Milliseconds()).Int64()
		return err
	})
	if err != nil || fence == 0 {
		return "", err
	}
	return strconv.FormatInt(fence, 10), nil
}

func (f *redisFrontier) unlease(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = releaseScript.Run(ctx, f.s.rdb, []string{f.key + ":lease"}, f.s.id).Err()
}

// list fetches the next page under the lease (renewed meanwhile) and
// appends it, fenced.
func (f *redisFrontier) list(ctx context.Context, fence string) error {
	s := f.s
	var cursor string
	err := s.do(ctx, func(ctx context.Context) error {
		v, err := s.rdb.Get(ctx, f.key+":cursor").Result()
		if errors.Is(err, redis.Nil) {
			v, err = "", nil
		}
		cursor = v
		return err
	})
	if err != nil {
		return err
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(s.t.lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				rctx, cancel := context.WithTimeout(ctx, s.t.lease/3)
				_ = renewScript.Run(rctx, s.rdb, []string{f.key + ":lease"}, s.id, s.t.lease.Milliseconds()).Err()
				cancel()
			}
		}
	}()
	if g, ok := f.ad.(*guardedAdapter); ok {
		// The guard's own cycle check knows only the pages this process
		// listed, and a listing starts over after Redis lost it: the
		// shared check is appendScript's.
		g.seen = map[string]bool{}
	}
	pg, err := f.ad.Page(withSource(ctx, f.source), f.query, cursor)
	close(stop)
	wg.Wait()
	if err != nil {
		return err
	}
	ended := "0"
	if pg.Next == "" || pg.Next == cursor {
		ended = "1"
	}
	args := []any{s.id, fence, cursor, pg.Next, ended}
	for i := range pg.Posts {
		b, _ := json.Marshal(&pg.Posts[i])
		args = append(args, string(b))
	}
	var ok int
	err = s.do(ctx, func(ctx context.Context) (err error) {
		ok, err = appendScript.Run(ctx, s.rdb, []string{f.key + ":lease", f.key + ":fence", f.key + ":cursor", f.key + ":end", f.key + ":stream", f.key + ":seen"}, args...).Int()
		return err
	})
	if err != nil {
		return err
	}
	if ok == 1 && f.onPage != nil {
		f.onPage(pg)
	}
	if ok == 0 {
		s.rep.Logf("%s: %s: page listed after the lease passed to another worker; discarded", f.slug, f.source)
	}
	return nil
}
