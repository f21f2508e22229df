package scrape

import (
	"fmt"
	"time"

	"github.com/chara-dev/chara/internal/config"
)

// redisTimes are the shared crawl's clocks.
type redisTimes struct {
	// lease bounds how long a dead worker holds anything: its claims, its
	// reservations of a class's budget and the lister's lease expire unless
	// renewed (every lease/3). Its candidates are reclaimed after 2*lease
	// without renewal; a join or a restart of Redis holds downloads back for
	// lease/3 (one heartbeat), so that every live worker can publish what
	// it has first.
	lease time.Duration
	// block is the longest blocking read (XREADGROUP BLOCK, BLPOP) before a
	// worker looks again.
	block time.Duration
	// outage is the longest Redis outage waited out before the run fails.
	outage time.Duration
	// ownSite leaves out the fleet's site budget (each worker keeps only
	// its own limits): for the benchmark that measures what the budget
	// does, never for a real site.
	ownSite bool
}

func defaultRedisTimes() redisTimes {
	return redisTimes{lease: 10 * time.Second, block: 2 * time.Second, outage: 30 * time.Minute}
}

// CheckJobName refuses a job name that could not be a Redis key part.
func CheckJobName(name string) error {
	if !config.ValidJobName(name) {
		return fmt.Errorf("%w: job name %q: 1-64 letters, digits, '.', '_' or '-'", ErrConfig, name)
	}
	return nil
}

// JobNamespace is the prefix of every Redis key of the job name:
// "chara:{name}:" (the braces keep a job's keys in one Redis Cluster slot,
// as its Lua scripts need).
func JobNamespace(name string) string { return "chara:{" + name + "}:" }

// WithRedisJob shares the crawl as the job name: every key lives under
// JobNamespace(name). Workers with the same Redis and job share one crawl.
func WithRedisJob(name string) Option {
	return func(o *options) { o.redisNS = JobNamespace(name) }
}

// WithRedisLease sets how long a dead worker's claims, reservations and
// lister lease last (default 15s); see redisTimes.
func WithRedisLease(d time.Duration) Option { return func(o *options) { o.redisT.lease = d } }

// WithRedisBlock sets the longest blocking read on Redis (default 2s).
func WithRedisBlock(d time.Duration) Option { return func(o *options) { o.redisT.block = d } }

// WithRedisOutage sets how long a lost Redis is waited out before the run
// fails (default 30m).
func WithRedisOutage(d time.Duration) Option { return func(o *options) { o.redisT.outage = d } }
