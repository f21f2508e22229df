package scrape

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/manifests"
)

// DefaultJobName names the shared crawl of a config when scrape.job is
// not set: "chara-" and a hash of the sources (name, kind, url) and the
// classes (name, queries). Workers with the same chara.yaml join the same
// job; another project on the same Redis gets its own. The target
// (scrape.candidates) and the filters are not part of it: raising the
// target continues the job.
func DefaultJobName(cfg *config.Config) string {
	type src struct{ Name, Kind, URL string }
	type class struct {
		Name    string
		Queries [][2]string
	}
	var v struct {
		Sources []src
		Classes []class
	}
	for n, s := range cfg.Sources {
		v.Sources = append(v.Sources, src{n, s.Kind, strings.TrimRight(s.URL, "/")})
	}
	sort.Slice(v.Sources, func(i, j int) bool { return v.Sources[i].Name < v.Sources[j].Name })
	for _, c := range cfg.Classes {
		cl := class{Name: c.Name}
		for k, q := range c.Queries {
			cl.Queries = append(cl.Queries, [2]string{k, strings.Join(strings.Fields(q), " ")})
		}
		sort.Slice(cl.Queries, func(i, j int) bool { return cl.Queries[i][0] < cl.Queries[j][0] })
		v.Classes = append(v.Classes, cl)
	}
	sort.Slice(v.Classes, func(i, j int) bool { return v.Classes[i].Name < v.Classes[j].Name })
	b, _ := json.Marshal(v)
	h := sha256.Sum256(b)
	return "chara-" + hex.EncodeToString(h[:5])
}

// JobStatus is a shared crawl's state in Redis.
type JobStatus struct {
	Redis     string           `json:"redis" doc:"the server, password redacted"`
	Namespace string           `json:"namespace" doc:"prefix of the job's keys"`
	Classes   []JobClass       `json:"classes"`
	Listings  []JobListing     `json:"listings"`
	Workers   []JobWorker      `json:"workers"`
	Paused    map[string]int64 `json:"paused_ms,omitempty" doc:"host: milliseconds left of a Retry-After pause"`
}

// JobClass is one class's budget: files in any workspace of the job, and
// files being fetched now.
type JobClass struct {
	Class    string `json:"class"`
	Have     int64  `json:"have" doc:"files in any workspace of the job"`
	Fetching int64  `json:"fetching" doc:"files being fetched now"`
	Target   int    `json:"target"`
}

// JobListing is one (class, source) listing: candidates not yet handed out
// (queued), handed out and not yet acknowledged (pending).
type JobListing struct {
	Class   string `json:"class"`
	Source  string `json:"source"`
	Listed  int64  `json:"listed" doc:"candidates listed"`
	Queued  int64  `json:"queued" doc:"not yet handed out"`
	Pending int64  `json:"pending" doc:"handed out, not yet acknowledged"`
	Ended   bool   `json:"ended"`
	Cursor  string `json:"cursor" doc:"the next page's"`
	Lister  string `json:"lister,omitempty" doc:"the worker holding the listing's lease"`
}

// JobWorker is a worker that joined the job.
type JobWorker struct {
	ID        string    `json:"id"`
	Workspace string    `json:"workspace"`
	Host      string    `json:"host"`
	Seen      time.Time `json:"seen"`
	Left      bool      `json:"left" doc:"ended its run (a killed worker never says so)"`
}

// ReadJobStatus reads the job set by the options (WithRedis, WithRedisJob,
// WithClasses, WithSources, WithCandidates); it writes nothing.
func ReadJobStatus(ctx context.Context, opts ...Option) (*JobStatus, error) {
	o := defaultOptions()
	for _, f := range opts {
		f(&o)
	}
	if o.redisURL == "" {
		return nil, fmt.Errorf("%w: no scrape.redis: this workspace shares no crawl", ErrConfig)
	}
	rdb, addr, err := redisClient(ctx, o.redisURL, 0, o.redisT.block)
	if err != nil {
		return nil, err
	}
	defer rdb.Close()
	s := &redisStore{rdb: rdb, ns: o.redisNS}
	st := &JobStatus{Redis: RedactURL(o.redisURL), Namespace: o.redisNS}
	wrap := func(err error) error { return fmt.Errorf("redis %s: %w", addr, err) }
	for _, c := range o.classes {
		slug, err := manifests.Slug(c.Name)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrConfig, err)
		}
		have, err := rdb.SCard(ctx, s.key("have", slug)).Result()
		if err != nil {
			return nil, wrap(err)
		}
		resv, err := rdb.HGetAll(ctx, s.key("resv", slug)).Result()
		if err != nil {
			return nil, wrap(err)
		}
		var fetching int64
		now := time.Now().UnixMilli()
		for _, v := range resv {
			if exp, _ := strconv.ParseInt(v, 10, 64); exp >= now {
				fetching++
			}
		}
		st.Classes = append(st.Classes, JobClass{Class: c.Name, Have: have, Fetching: fetching, Target: o.candidates})
		names := make([]string, 0, len(c.Queries))
		for n := range c.Queries {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, src := range names {
			q := c.Queries[src]
			if strings.TrimSpace(q) == "" {
				continue
			}
			key := s.listKey(slug, src, q)
			l := JobListing{Class: c.Name, Source: src}
			l.Listed, _ = rdb.XLen(ctx, key+":stream").Result()
			if groups, err := rdb.XInfoGroups(ctx, key+":stream").Result(); err == nil {
				for _, g := range groups {
					if g.Name == group {
						l.Queued, l.Pending = g.Lag, g.Pending
					}
				}
			}
			l.Cursor, _ = rdb.Get(ctx, key+":cursor").Result()
			n, err := rdb.Exists(ctx, key+":end").Result()
			if err != nil {
				return nil, wrap(err)
			}
			l.Ended = n > 0
			l.Lister, _ = rdb.Get(ctx, key+":lease").Result()
			st.Listings = append(st.Listings, l)
		}
	}
	members, err := rdb.HGetAll(ctx, s.key("members")).Result()
	if err != nil {
		return nil, wrap(err)
	}
	for id, v := range members {
		var m struct {
			Workspace, Host string
			Seen            int64
			Left            bool
		}
		_ = json.Unmarshal([]byte(v), &m)
		st.Workers = append(st.Workers, JobWorker{ID: id, Workspace: m.Workspace, Host: m.Host, Seen: time.Unix(m.Seen, 0), Left: m.Left})
	}
	sort.Slice(st.Workers, func(i, j int) bool { return st.Workers[i].Seen.After(st.Workers[j].Seen) })
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, s.key("pause", "*"), 100).Result()
		if err != nil {
			return nil, wrap(err)
		}
		for _, k := range keys {
			if ms, err := rdb.PTTL(ctx, k).Result(); err == nil && ms > 0 {
				if st.Paused == nil {
					st.Paused = map[string]int64{}
				}
				st.Paused[strings.TrimPrefix(k, s.key("pause", ""))] = ms.Milliseconds()
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	return st, nil
}

// ErrJobBusy: workers of the job were seen recently.
var ErrJobBusy = errors.New("workers of the job are running")

// ResetJob deletes every key of the job set by the options and returns
// how many; the workspaces keep their files and archives and publish them
// again when they next join. It refuses while a worker was seen within
// the last 3 leases, unless force.
func ResetJob(ctx context.Context, force bool, opts ...Option) (int, error) {
	o := defaultOptions()
	for _, f := range opts {
		f(&o)
	}
	if o.redisURL == "" {
		return 0, fmt.Errorf("%w: no scrape.redis: this workspace shares no crawl", ErrConfig)
	}
	rdb, addr, err := redisClient(ctx, o.redisURL, 0, o.redisT.block)
	if err != nil {
		return 0, err
	}
	defer rdb.Close()
	s := &redisStore{rdb: rdb, ns: o.redisNS}
	if !force {
		members, err := rdb.HGetAll(ctx, s.key("members")).Result()
		if err != nil {
			return 0, fmt.Errorf("redis %s: %w", addr, err)
		}
		for id, v := range members {
			var m struct {
				Seen int64
				Left bool
			}
			_ = json.Unmarshal([]byte(v), &m)
			if !m.Left && time.Since(time.Unix(m.Seen, 0)) < 3*o.redisT.lease {
				return 0, fmt.Errorf("%w: %s was seen %s ago; stop the workers first", ErrJobBusy, id, time.Since(time.Unix(m.Seen, 0)).Round(time.Second))
			}
		}
	}
	n := 0
	// The pace keys of go-redis/redis_rate carry its "rate:" prefix.
	for _, match := range []string{globEscape(o.redisNS) + "*", "rate:" + globEscape(o.redisNS) + "*"} {
		var cursor uint64
		for {
			keys, next, err := rdb.Scan(ctx, cursor, match, 500).Result()
			if err != nil {
				return n, fmt.Errorf("redis %s: %w", addr, err)
			}
			if len(keys) > 0 {
				if err := rdb.Unlink(ctx, keys...).Err(); err != nil {
					return n, fmt.Errorf("redis %s: %w", addr, err)
				}
				n += len(keys)
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
	}
	return n, nil
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`)
	return r.Replace(s)
}

// PingRedis checks that the server of rawURL answers and returns its
// version; the error never shows the password.
func PingRedis(ctx context.Context, rawURL string) (string, error) {
	rdb, addr, err := redisClient(ctx, rawURL, 0, 0)
	if err != nil {
		return "", err
	}
	defer rdb.Close()
	info, err := rdb.Info(ctx, "server").Result()
	if err != nil {
		return "", fmt.Errorf("redis %s: %w", addr, err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
			return v, nil
		}
	}
	return "unknown", nil
}
