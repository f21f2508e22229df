package scrape

import (
	"context"
	"errors"
	"sync"
)

// errExhausted: a listing has no more candidates.
var errExhausted = errors.New("no more candidates")

// store is where a run keeps what must survive it or be shared: the
// archive, claims on posts being fetched, the per-class count, and the
// crawl frontier. localStore serves one process; redisStore shares all of
// it between processes.
type store interface {
	has(ctx context.Context, keys ...string) (bool, error)
	put(ctx context.Context, e Entry, overwrite bool, keys ...string) error
	// putMany records several puts together (a group commit: one local
	// transaction), each with its candidate's context.
	putMany(ctx context.Context, puts []storePut) error
	// markSHA gives the keys linked to a content (post, md5) a status.
	markSHA(ctx context.Context, sha, status string) error
	// claim takes an exclusive, expiring right to fetch key.
	claim(ctx context.Context, key string) (bool, error)
	release(ctx context.Context, key string)
	// fetchedCount is how many files of the class the crawl has; local is
	// this workspace's count.
	fetchedCount(ctx context.Context, slug string, local int) (int, error)
	addFetched(ctx context.Context, slug string) error
	frontier(slug, source, query string, ad Adapter, onPage func(*Page)) frontier
	close() error
}

// frontier hands out the candidates of one (class, source) listing.
type frontier interface {
	// next returns a candidate and the context to handle it in.
	next(ctx context.Context) (context.Context, Post, error)
	// done is called with next's context once the candidate is handled:
	// err nil means its file, index line and archive entry are on disk, or
	// it was refused. A shared frontier acknowledges it only then.
	done(ctx context.Context, err error)
}

// storePut is one archive put of a group commit, with the context of its
// candidate (a shared crawl's reservation travels in it).
type storePut struct {
	ctx context.Context
	Put
}

type localStore struct {
	arc    *Archive
	mu     sync.Mutex
	claims map[string]bool
}

func newLocalStore(arc *Archive) *localStore {
	return &localStore{arc: arc, claims: map[string]bool{}}
}

func (s *localStore) has(ctx context.Context, keys ...string) (bool, error) {
	return s.arc.Has(ctx, keys...)
}

func (s *localStore) put(ctx context.Context, e Entry, overwrite bool, keys ...string) error {
	return s.arc.Put(ctx, e, overwrite, keys...)
}

func (s *localStore) putMany(ctx context.Context, puts []storePut) error {
	all := make([]Put, len(puts))
	for i, p := range puts {
		all[i] = p.Put
	}
	return s.arc.PutMany(ctx, all...)
}

func (s *localStore) markSHA(ctx context.Context, sha, status string) error {
	_, err := s.arc.SetStatusBySHA256(ctx, sha, status)
	return err
}

func (s *localStore) claim(_ context.Context, key string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.claims[key] {
		return false, nil
	}
	s.claims[key] = true
	return true, nil
}

func (s *localStore) release(_ context.Context, key string) {
	s.mu.Lock()
	delete(s.claims, key)
	s.mu.Unlock()
}

func (s *localStore) fetchedCount(_ context.Context, _ string, local int) (int, error) {
	return local, nil
}

func (s *localStore) addFetched(context.Context, string) error { return nil }

func (s *localStore) frontier(_, _, query string, ad Adapter, onPage func(*Page)) frontier {
	return &localFrontier{ad: ad, query: query, onPage: onPage}
}

func (s *localStore) close() error { return nil }

// localFrontier pages through a listing on demand; one page at a time.
type localFrontier struct {
	mu      sync.Mutex
	ad      Adapter
	query   string
	cursor  string
	started bool
	ended   bool
	err     error
	buf     []Post
	onPage  func(*Page)
}

func (f *localFrontier) done(context.Context, error) {}

func (f *localFrontier) next(ctx context.Context) (context.Context, Post, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(f.buf) == 0 {
		if f.err != nil {
			return ctx, Post{}, f.err
		}
		if f.ended {
			return ctx, Post{}, errExhausted
		}
		pg, err := f.ad.Page(ctx, f.query, f.cursor)
		if err != nil {
			if ctx.Err() == nil {
				f.err = err // a failing source stays failed
			}
			return ctx, Post{}, err
		}
		if f.onPage != nil {
			f.onPage(pg)
		}
		f.buf = pg.Posts
		f.ended = pg.Next == "" || (f.started && pg.Next == f.cursor)
		f.cursor = pg.Next
		f.started = true
	}
	p := f.buf[0]
	f.buf = f.buf[1:]
	return ctx, p, nil
}
