package scrape

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisStore shares a crawl between processes (on one machine or many):
//
//	<ns>archive:<key>            archive entries (also written to the local archive.db)
//	<ns>claim:<key>              who is fetching a post or content now (expiring)
//	<ns>count:<slug>             files fetched for a class by all processes
//	<ns>crawl:<slug>:<src>:<q>:queue   candidates listed but not yet taken
//	<ns>crawl:<slug>:<src>:<q>:cursor  the next page's cursor
//	<ns>crawl:<slug>:<src>:<q>:end     set once the last page is listed
//	<ns>crawl:<slug>:<src>:<q>:lock    held by the process fetching a page
//	<ns>visited                  page URLs fetched
//
// Only the lock holder fetches a page; every process takes candidates from
// the shared queue, so no page and no file is fetched twice. The crawl keys
// expire after crawlTTL without activity, so that a later run starts the
// listing afresh; the archive keys are permanent.
type redisStore struct {
	local    *localStore
	rdb      *redis.Client
	ns       string
	token    string
	claimTTL time.Duration
	crawlTTL time.Duration
	lockTTL  time.Duration
}

func newRedisStore(ctx context.Context, rawURL, ns string, local *localStore, claimTTL, crawlTTL, lockTTL time.Duration) (*redisStore, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("scrape.redis %q: %w: %v", rawURL, ErrConfig, err)
	}
	rdb := redis.NewClient(opt)
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis %s: %w", opt.Addr, err)
	}
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return &redisStore{local: local, rdb: rdb, ns: ns, token: hex.EncodeToString(b),
		claimTTL: claimTTL, crawlTTL: crawlTTL, lockTTL: lockTTL}, nil
}

func (s *redisStore) has(ctx context.Context, keys ...string) (bool, error) {
	if ok, err := s.local.has(ctx, keys...); ok || err != nil {
		return ok, err
	}
	rk := make([]string, 0, len(keys))
	for _, k := range keys {
		if k != "" {
			rk = append(rk, s.ns+"archive:"+k)
		}
	}
	if len(rk) == 0 {
		return false, nil
	}
	n, err := s.rdb.Exists(ctx, rk...).Result()
	if err != nil {
		return false, fmt.Errorf("redis: %w", err)
	}
	return n > 0, nil
}

func (s *redisStore) put(ctx context.Context, e Entry, overwrite bool, keys ...string) error {
	if err := s.local.put(ctx, e, overwrite, keys...); err != nil {
		return err
	}
	pipe := s.rdb.Pipeline()
	for _, k := range keys {
		if k == "" {
			continue
		}
		if overwrite {
			pipe.Set(ctx, s.ns+"archive:"+k, e.Status, 0)
		} else {
			pipe.SetNX(ctx, s.ns+"archive:"+k, e.Status, 0)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

func (s *redisStore) markSHA(ctx context.Context, sha, status string) error {
	keys, err := s.local.arc.SetStatusBySHA256(ctx, sha, status)
	if err != nil || len(keys) == 0 {
		return err
	}
	pipe := s.rdb.Pipeline()
	for _, k := range keys {
		pipe.Set(ctx, s.ns+"archive:"+k, status, 0)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

func (s *redisStore) claim(ctx context.Context, key string) (bool, error) {
	if ok, _ := s.local.claim(ctx, key); !ok {
		return false, nil
	}
	ok, err := s.rdb.SetNX(ctx, s.ns+"claim:"+key, s.token, s.claimTTL).Result()
	if err != nil || !ok {
		s.local.release(ctx, key)
	}
	if err != nil {
		return false, fmt.Errorf("redis: %w", err)
	}
	return ok, nil
}

var releaseScript = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

func (s *redisStore) release(ctx context.Context, key string) {
	s.local.release(ctx, key)
	// Release even when ctx is cancelled, so that another process can go on.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = releaseScript.Run(rctx, s.rdb, []string{s.ns + "claim:" + key}, s.token).Err()
}

func (s *redisStore) fetchedCount(ctx context.Context, slug string, local int) (int, error) {
	k := s.ns + "count:" + slug
	if err := s.rdb.SetNX(ctx, k, local, 0).Err(); err != nil {
		return 0, fmt.Errorf("redis: %w", err)
	}
	n, err := s.rdb.Get(ctx, k).Int()
	if err != nil {
		return 0, fmt.Errorf("redis: %w", err)
	}
	return n, nil
}

func (s *redisStore) addFetched(ctx context.Context, slug string) error {
	if err := s.rdb.Incr(ctx, s.ns+"count:"+slug).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

func (s *redisStore) frontier(slug, source, query string, ad Adapter, onPage func(*Page)) frontier {
	q := sha256.Sum256([]byte(query))
	return &redisFrontier{s: s, ad: ad, query: query, onPage: onPage,
		key: fmt.Sprintf("%scrawl:%s:%s:%s", s.ns, slug, source, hex.EncodeToString(q[:6]))}
}

func (s *redisStore) close() error { return s.rdb.Close() }

type redisFrontier struct {
	s      *redisStore
	ad     Adapter
	query  string
	key    string
	onPage func(*Page)
}

func (f *redisFrontier) next(ctx context.Context) (Post, error) {
	rdb := f.s.rdb
	for {
		v, err := rdb.LPop(ctx, f.key+":queue").Result()
		if err == nil {
			var p Post
			if err := json.Unmarshal([]byte(v), &p); err != nil {
				return Post{}, fmt.Errorf("redis %s: bad queue entry: %w", f.key, err)
			}
			return p, nil
		}
		if !errors.Is(err, redis.Nil) {
			return Post{}, fmt.Errorf("redis: %w", err)
		}
		n, err := rdb.Exists(ctx, f.key+":end").Result()
		if err != nil {
			return Post{}, fmt.Errorf("redis: %w", err)
		}
		if n > 0 {
			return Post{}, errExhausted
		}
		ok, err := rdb.SetNX(ctx, f.key+":lock", f.s.token, f.s.lockTTL).Result()
		if err != nil {
			return Post{}, fmt.Errorf("redis: %w", err)
		}
		if !ok {
			if err := sleepCtx(ctx, 20*time.Millisecond); err != nil {
				return Post{}, err
			}
			continue
		}
		err = f.fetchPage(ctx)
		_ = releaseScript.Run(context.WithoutCancel(ctx), rdb, []string{f.key + ":lock"}, f.s.token).Err()
		if err != nil {
			return Post{}, err
		}
	}
}

// fetchPage lists the next page into the shared queue; the caller holds the lock.
func (f *redisFrontier) fetchPage(ctx context.Context) error {
	rdb := f.s.rdb
	if n, err := rdb.LLen(ctx, f.key+":queue").Result(); err != nil || n > 0 {
		return err // someone filled it meanwhile
	}
	if n, err := rdb.Exists(ctx, f.key+":end").Result(); err != nil || n > 0 {
		return err
	}
	cursor, err := rdb.Get(ctx, f.key+":cursor").Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("redis: %w", err)
	}
	pg, err := f.ad.Page(ctx, f.query, cursor)
	if err != nil {
		return err
	}
	if f.onPage != nil {
		f.onPage(pg)
	}
	pipe := rdb.TxPipeline()
	if len(pg.Posts) > 0 {
		vals := make([]any, len(pg.Posts))
		for i := range pg.Posts {
			b, _ := json.Marshal(&pg.Posts[i])
			vals[i] = b
		}
		pipe.RPush(ctx, f.key+":queue", vals...)
	}
	if pg.Next == "" || pg.Next == cursor {
		pipe.Set(ctx, f.key+":end", "1", f.s.crawlTTL)
	}
	pipe.Set(ctx, f.key+":cursor", pg.Next, f.s.crawlTTL)
	pipe.Expire(ctx, f.key+":queue", f.s.crawlTTL)
	pipe.SAdd(ctx, f.s.ns+"visited", redact(pg.URL))
	pipe.Expire(ctx, f.s.ns+"visited", f.s.crawlTTL)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}
