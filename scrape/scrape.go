// Package scrape collects candidate images per class from booru sites:
// one adapter per site (danbooru, gelbooru, moebooru, zerochan, html)
// behind the Adapter interface, each site's facts in its own file; API
// pages through a colly collector per source (LimitRule, MaxBodySize,
// redirects within the site, robots.txt for html galleries only), throttling
// waited out and listings resumed; files streamed to
// raw/<slug>/<sha256>.<ext> while hashed, atomically, their slots handed
// out in listing order so that the files kept do not depend on timing; a
// download archive (archive.db, SQLite) checked before every file request
// and written only once the file is on disk, which also keeps where each
// listing stopped; and, with Redis, one crawl shared by several processes.
// docs/sources.md describes each site.
package scrape

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/internal/progress"
	"github.com/chara-dev/chara/manifests"
)

// Scraper runs scrapes in one workspace.
type Scraper struct {
	workspace string
	o         options
}

// New configures a scraper for workspace.
func New(workspace string, opts ...Option) *Scraper {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	return &Scraper{workspace: workspace, o: o}
}

// source at run time.
type runSource struct {
	Source
	ad   Adapter
	ua   string
	pace *pacer         // shared by pages and files, where the site has one
	jar  http.CookieJar // cookies.txt

	warnMu sync.Mutex
	warned map[string]bool // warnings already logged, once per run
}

// warnOnce reports whether w is new for this source.
func (rs *runSource) warnOnce(w string) bool {
	rs.warnMu.Lock()
	defer rs.warnMu.Unlock()
	if rs.warned[w] {
		return false
	}
	if rs.warned == nil {
		rs.warned = map[string]bool{}
	}
	rs.warned[w] = true
	return true
}

// run is the state of one Run.
type run struct {
	s       *Scraper
	o       *options
	st      store
	dl      *downloader
	sources map[string]*runSource
	order   []string
	rep     progress.Reporter
	filters Filters
	arc     *Archive // where listings' cursors are kept (local mode, not dry runs)
}

// Run scrapes every class (or the one chosen with WithOnlyClass) until it
// has the requested number of candidates or its sources run dry. A source
// that keeps failing is reported in the summary and the others carry on;
// Run's error is for what stops the whole run (bad configuration, the
// archive or the disk failing, cancellation), and comes with the summary
// so far.
func (s *Scraper) Run(ctx context.Context) (*Summary, error) {
	start := time.Now()
	o := s.o
	sum := &Summary{DryRun: o.dryRun}
	if o.candidates <= 0 {
		return sum, fmt.Errorf("%w: candidates must be positive, got %d", ErrConfig, o.candidates)
	}
	r := &run{s: s, o: &o, sources: map[string]*runSource{}, rep: o.reporter, filters: o.filters.normalized()}
	transport := o.transport
	if transport == nil {
		transport = defaultTransport()
	}
	fleet := newFleetTransport(transport) // the shared crawl's site budget, once attached
	if o.redisURL != "" {
		transport = fleet
	}
	for _, src := range o.sources {
		src, err := src.withDefaults()
		if err != nil {
			return sum, err
		}
		if src.Name == "sha256" || src.Name == "md5" {
			return sum, fmt.Errorf("source %q: %w: the name is reserved", src.Name, ErrConfig)
		}
		if _, dup := r.sources[src.Name]; dup {
			return sum, fmt.Errorf("source %q: %w: defined twice", src.Name, ErrConfig)
		}
		if o.delay != nil {
			src.Delay, src.RandomDelay, src.FileDelay, src.Pace = *o.delay, 0, *o.delay, *o.delay
		}
		rs := &runSource{Source: src, ua: o.userAgent, pace: newPacer(src.Pace)}
		if src.UserAgent != "" {
			rs.ua = src.UserAgent
		}
		if src.Cookies != "" {
			jar, err := LoadCookies(src.Cookies)
			if err != nil {
				return sum, fmt.Errorf("source %q: cookies: %w", src.Name, err)
			}
			rs.jar = jar
		}
		u, _ := url.Parse(src.URL)
		pg, err := newPager(pagerConfig{source: src.Name, host: u.Host, ua: rs.ua, delay: src.Delay, randomDelay: src.RandomDelay,
			parallelism: 1, robots: src.honourRobots && !o.ignoreRobots, keepQuery: src.Kind == "zerochan",
			maxBody: o.maxPage, transport: transport, policy: o.retry.withDefaults(), pace: rs.pace, jar: rs.jar})
		if err != nil {
			return sum, fmt.Errorf("source %q: %w", src.Name, err)
		}
		ad, err := newAdapter(src, pg)
		if err != nil {
			return sum, err
		}
		if hg, ok := ad.(*htmlGallery); ok && src.Render {
			hg.render, hg.pace = &renderer{ua: rs.ua}, newPacer(src.Delay)
			defer hg.render.close()
		}
		if g, ok := ad.(*gelbooru); ok && r.filters.SingleCharacter {
			g.types = newGelbooruTagTypes() // its listing does not say which tags are characters
		}
		rs.ad = ad
		r.sources[src.Name] = rs
		r.order = append(r.order, src.Name)
	}
	classes, err := r.selectClasses()
	if err != nil {
		return sum, err
	}
	r.dl = newDownloader(transport, o.retry.withDefaults(), r.filters.MaxFileSize, r.filters)

	arc, err := s.openArchive()
	if err != nil {
		return sum, err
	}
	defer arc.Close()
	local := newLocalStore(arc)
	r.st = local
	if o.redisURL == "" && !o.dryRun {
		r.arc = arc
	}
	if o.redisURL != "" {
		rs, err := newRedisStore(ctx, &o, local, s.workspace)
		if err != nil {
			return sum, err
		}
		defer rs.close()
		r.st = rs
		fleet.attach(rs, r.sources, o.retry)
	}
	if !o.dryRun && !o.skipCurated {
		n, err := markCurated(ctx, s.workspace, r.st)
		if err != nil {
			return sum, err
		}
		sum.Curated = n
	}
	for _, c := range classes {
		cs, err := r.class(ctx, c)
		sum.Classes = append(sum.Classes, cs)
		if err != nil {
			sum.Elapsed = time.Since(start)
			return sum, err
		}
	}
	sum.Elapsed = time.Since(start)
	return sum, ctx.Err()
}

func (s *Scraper) openArchive() (*Archive, error) {
	path := ArchivePath(s.workspace)
	if s.o.dryRun {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return OpenArchive(":memory:") // a dry run writes nothing
		}
	} else if err := os.MkdirAll(s.workspace, 0o755); err != nil {
		return nil, fmt.Errorf("workspace %s: %w", s.workspace, err)
	}
	return OpenArchive(path)
}

func (r *run) selectClasses() ([]Class, error) {
	var out []Class
	names := make([]string, 0, len(r.o.classes))
	for _, c := range r.o.classes {
		names = append(names, c.Name)
		for src := range c.Queries {
			if _, ok := r.sources[src]; !ok {
				return nil, fmt.Errorf("class %q: queries.%s: %w: no source named %q", c.Name, src, ErrConfig, src)
			}
		}
		if r.o.only == "" || r.o.only == c.Name {
			out = append(out, c)
		}
	}
	if err := manifests.CheckSlugs(names); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if r.o.only != "" && len(out) == 0 {
		return nil, fmt.Errorf("%w: no class named %q", ErrConfig, r.o.only)
	}
	return out, nil
}

// classRun is one class's shared state.
type classRun struct {
	name, slug, dir, index string
	target                 int
	mu                     sync.Mutex // index and shas
	slots                  *slots
	shas                   map[string]bool
	commits                *groupCommit // files, index lines and archive entries, in groups
}

func (r *run) class(ctx context.Context, cl Class) (ClassSummary, error) {
	slug, err := manifests.Slug(cl.Name)
	if err != nil {
		return ClassSummary{Class: cl.Name}, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	c := &classRun{name: cl.Name, slug: slug, dir: manifests.RawDir(r.s.workspace, slug),
		index: manifests.RawIndexPath(r.s.workspace, slug), target: r.o.candidates, shas: map[string]bool{}}
	cs := ClassSummary{Class: cl.Name, Slug: slug, Target: c.target}
	recs, err := manifests.ReadRawIndex(c.index)
	if err != nil {
		return cs, err
	}
	for _, rec := range recs {
		c.shas[rec.SHA256] = true
	}
	cs.Before = len(c.shas)
	if !r.o.dryRun {
		if _, err := atomicfile.CleanTemp(c.dir); err != nil {
			return cs, fmt.Errorf("clean %s: %w", c.dir, err)
		}
		if err := r.reconcileDisk(ctx, c, recs); err != nil {
			return cs, err
		}
		if err := r.reconcile(ctx, slug, recs); err != nil {
			return cs, err
		}
	}
	done, err := r.st.fetchedCount(ctx, slug, cs.Before)
	if err != nil {
		return cs, err
	}
	task := r.rep.Start(cl.Name, int64(c.target))
	task.Add(int64(min(done, c.target)))
	defer task.Done()

	var jobs []*job
	for _, name := range r.order {
		q, ok := cl.Queries[name]
		if !ok || strings.TrimSpace(q) == "" {
			continue
		}
		jobs = append(jobs, &job{r: r, c: c, src: r.sources[name], task: task, idx: len(jobs),
			sum: SourceSummary{Source: name, Query: q, Filtered: map[string]int{}, Failures: map[string]int{}}})
	}
	c.slots = newSlots(c.target, done, len(jobs))
	if len(jobs) == 0 {
		r.rep.Logf("%s: no source has a query for this class", cl.Name)
	}
	c.commits = newGroupCommit(ctx, c, r.st)
	if !c.slots.full() {
		stop := context.AfterFunc(ctx, c.slots.wake)
		var wg sync.WaitGroup
		for _, j := range jobs {
			wg.Add(1)
			go func() { defer wg.Done(); j.run(ctx) }()
		}
		wg.Wait()
		stop()
	}
	c.commits.close()
	var fatal error
	for _, j := range jobs {
		if len(j.sum.Failures) == 0 {
			j.sum.Failures = nil
		}
		cs.Sources = append(cs.Sources, j.sum)
		if j.fatal != nil && fatal == nil {
			fatal = j.fatal
		}
	}
	cs.After = cs.Before
	for _, s := range cs.Sources {
		cs.After += s.Downloaded + len(s.Planned)
	}
	if rs, ok := r.st.(*redisStore); ok && ctx.Err() == nil {
		if n, err := rs.fetchedCount(ctx, slug, cs.After); err == nil {
			cs.Shared = n // a dry run: the job's and this workspace's, with what it would fetch
			if rs.dry {
				cs.Shared = min(n+cs.After-cs.Before, cs.Target)
			}
		}
	}
	if fatal == nil {
		fatal = ctx.Err()
	}
	return cs, fatal
}

// reconcile makes the archive know every file of the index: a run killed
// between the index append and the archive write loses nothing.
func (r *run) reconcile(ctx context.Context, slug string, recs []manifests.RawRecord) error {
	for _, rec := range recs {
		keys := []string{SHA256Key(rec.SHA256)}
		if rec.PostID != "" {
			keys = append(keys, PostKey(rec.Source, rec.PostID))
		}
		if rec.MD5 != "" {
			keys = append(keys, MD5Key(strings.ToLower(rec.MD5)))
		}
		// Keys are written together, so the most specific one tells.
		if has, err := r.st.has(ctx, keys[len(keys)-1]); err != nil || has {
			if err != nil {
				return err
			}
			continue // the common case: one lookup, no write
		}
		if err := r.st.put(ctx, Entry{Status: StatusDownloaded, Class: slug, SHA256: rec.SHA256}, false, keys...); err != nil {
			return err
		}
	}
	return nil
}

// job is one source working for one class.
type job struct {
	r     *run
	c     *classRun
	src   *runSource
	idx   int // the source's place in the class: its tickets' src
	task  progress.Task
	take  sync.Mutex // a candidate and its ticket are taken together
	mu    sync.Mutex
	sum   SourceSummary
	fatal error
	stop  bool
	fails int // consecutive failed downloads
	// md5ok and md5bad count verified files and mismatches: a source whose
	// md5 never matches is stopped once, saying how to turn the check off.
	md5ok, md5bad int

	// Where the listing stands, for the next run: posts taken but not yet
	// dealt with, per page cursor, pages in listing order.
	guard   *guardedAdapter
	pending map[string]int
	pages   []string
	saved   string
}

// md5Hopeless is how many mismatches without one match stop a source.
const md5Hopeless = 3

// maxConsecutiveFailures stops a source whose files keep failing.
const maxConsecutiveFailures = 20

func (j *job) count(f func(s *SourceSummary)) { j.mu.Lock(); f(&j.sum); j.mu.Unlock() }

func (j *job) stopped() bool { j.mu.Lock(); defer j.mu.Unlock(); return j.stop }

// fail stops the source; fatal errors stop the run.
func (j *job) fail(err error, fatal bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.stop {
		return
	}
	j.stop = true
	j.sum.Error = err.Error()
	if fatal {
		j.fatal = err
	}
	j.r.rep.Logf("%s: %s: %v", j.c.name, j.src.Name, err)
}

func (j *job) run(ctx context.Context) {
	ad := guard(j.src.ad, j.r.o.retry.withDefaults(), func(err error, d time.Duration) {
		j.r.rep.Logf("%s: %s: %v; asking again in %s", j.c.name, j.src.Name, err, d.Round(time.Second))
	})
	if j.r.arc != nil {
		// Other filters may want posts the last run passed over, and
		// another order or selection of the site's listing is another
		// listing: the position is kept per query, filters and the
		// source's listing options.
		key := fmt.Sprintf("%+v", j.r.filters)
		if s := j.src.Source; s.Strict || s.Sort != "" || s.Dimension != "" {
			key += fmt.Sprintf("\x00strict=%v sort=%s d=%s", s.Strict, s.Sort, s.Dimension)
		}
		fp := sha256.Sum256([]byte(key))
		ad.cursors = archiveCursor{arc: j.r.arc, class: j.c.slug, source: j.src.Name,
			query: j.sum.Query + "\x00" + hex.EncodeToString(fp[:8])}
	}
	j.guard, j.pending = ad, map[string]int{}
	fr := j.r.st.frontier(j.c.slug, j.src.Name, j.sum.Query, ad, func(pg *Page) {
		j.count(func(s *SourceSummary) {
			s.Pages++
			s.Found += len(pg.Posts)
			for k, v := range pg.Skipped {
				s.Found += v
				s.Filtered[k] += v
			}
			for _, w := range pg.Warnings {
				if !slices.Contains(s.Warnings, w) {
					s.Warnings = append(s.Warnings, w)
				}
			}
		})
		for _, w := range pg.Warnings {
			if j.src.warnOnce(w) {
				j.r.rep.Logf("%s: %s", j.src.Name, w)
			}
		}
	})
	var wg sync.WaitGroup
	for i := 0; i < j.src.Parallelism; i++ {
		wg.Add(1)
		go func() { defer wg.Done(); j.worker(ctx, fr) }()
	}
	wg.Wait()
	j.c.slots.finish(j.idx)
}

// next takes the listing's next candidate and numbers it.
func (j *job) next(ctx context.Context, fr frontier) (context.Context, Post, ticket, error) {
	j.take.Lock()
	defer j.take.Unlock()
	tctx, p, err := fr.next(ctx)
	if err != nil {
		return ctx, p, ticket{}, err
	}
	j.mu.Lock()
	if _, ok := j.pending[p.listedAt]; !ok {
		j.pages = append(j.pages, p.listedAt)
	}
	j.pending[p.listedAt]++
	j.mu.Unlock()
	return tctx, p, j.c.slots.issue(j.idx), nil
}

// settle marks a taken post dealt with and records where the next run
// should start: the earliest page with posts not yet dealt with, else the
// last page read, or nothing once the listing's end is reached (local
// mode only; a shared crawl keeps its cursor in Redis).
func (j *job) settle(ctx context.Context, p *Post) error {
	j.mu.Lock()
	j.pending[p.listedAt]--
	for len(j.pages) > 0 && j.pending[j.pages[0]] <= 0 {
		delete(j.pending, j.pages[0])
		j.pages = j.pages[1:]
	}
	at := ""
	if len(j.pages) > 0 {
		at = j.pages[0]
	} else if last, ended := j.guard.position(); !ended {
		at = last
	}
	changed := at != j.saved
	j.saved = at
	j.mu.Unlock()
	if !changed || j.guard.cursors == nil {
		return nil
	}
	return j.guard.cursors.save(ctx, at)
}

func (j *job) worker(ctx context.Context, fr frontier) {
	for ctx.Err() == nil && !j.stopped() {
		if j.c.slots.full() {
			return
		}
		tctx, p, t, err := j.next(ctx, fr)
		if errors.Is(err, errExhausted) || ctx.Err() != nil {
			return
		}
		var se *StoreError
		if err != nil {
			j.fail(err, errors.As(err, &se))
			return
		}
		done := func(err error) {
			fr.done(tctx, err)
			if err != nil {
				j.fail(err, true)
				return
			}
			if ctx.Err() == nil {
				if err := j.settle(ctx, &p); err != nil {
					j.fail(err, true)
				}
			}
		}
		it, err := j.handle(tctx, &p, t)
		if it == nil {
			done(err)
			continue
		}
		// The file is downloaded and durable under its temp name: the
		// class's group commit records it, and this worker goes on to
		// the next candidate meanwhile (a shared crawl waits: its
		// candidate's reservation is acknowledged in order).
		it.after = done
		_, shared := j.r.st.(*redisStore)
		j.c.commits.submit(it, !shared)
	}
}

// handle decides about one candidate and fetches it. Only archive, index
// and disk failures are returned. A downloaded file comes back as a
// commit item for the class's group commit, which then does the rest
// (the slot, the counts, the claims' release).
func (j *job) handle(ctx context.Context, p *Post, t ticket) (*commitItem, error) {
	st, src := j.r.st, j.src
	reserved := false
	defer func() {
		if !reserved {
			j.c.slots.skip(t)
		}
	}()
	p.Tags = normalizeTags(p.Tags)
	p.Characters = normalizeTags(p.Characters)
	p.MD5 = strings.ToLower(p.MD5)
	fileURL := p.FileURL
	if v := j.r.filters.pickVariant(p); v != nil {
		// A smaller rendition does: its size, not the original's, is what
		// the filters see; the md5 listed is the original's.
		fileURL = v.URL
		p.Ext, p.FileSize = v.Ext, 0
	}
	if reason := j.r.filters.Check(p); reason != "" {
		j.count(func(s *SourceSummary) { s.Filtered[reason]++ })
		return nil, nil
	}
	if reason := j.r.filters.CheckCharacters(p, j.sum.Query, j.c.name); reason != "" {
		j.count(func(s *SourceSummary) { s.Filtered[reason]++ })
		return nil, nil
	}
	postKey := PostKey(src.Name, p.ID)
	keys := []string{postKey}
	if p.MD5 != "" {
		keys = append(keys, MD5Key(p.MD5))
	}
	known, err := st.has(ctx, keys...)
	if err != nil {
		return nil, err
	}
	if known {
		j.count(func(s *SourceSummary) { s.Known++ })
		return nil, nil
	}
	var claimed []string
	handedOff := false // to the commit item, which releases the claims and the slot
	release := func() {
		for _, k := range claimed {
			st.release(ctx, k)
		}
	}
	defer func() {
		if !handedOff {
			release()
		}
	}()
	for _, k := range keys {
		ok, err := st.claim(ctx, k)
		if err != nil {
			return nil, err
		}
		if !ok {
			j.count(func(s *SourceSummary) { s.Known++ })
			return nil, nil
		}
		claimed = append(claimed, k)
	}
	// The claim is ours: look again, in case another process finished it
	// between our look and our claim.
	if known, err := st.has(ctx, keys...); err != nil || known {
		if known {
			j.count(func(s *SourceSummary) { s.Known++ })
		}
		return nil, err
	}
	reserved = true // reserve passes t over itself when it refuses
	if !j.c.slots.reserve(ctx, t) {
		return nil, nil
	}
	committed := false
	defer func() {
		if !committed && !handedOff {
			j.c.slots.unreserve()
		}
	}()
	if res, ok := src.ad.(Resolver); ok && p.FileURL == "" {
		if err := res.Resolve(ctx, p); err != nil {
			j.failed(ctx, p, err)
			return nil, nil
		}
		p.Tags = normalizeTags(p.Tags)
		fileURL = p.FileURL
		if reason := j.r.filters.Check(p); reason != "" {
			j.count(func(s *SourceSummary) { s.Filtered[reason]++ })
			return nil, nil
		}
	}
	if j.r.o.dryRun {
		j.count(func(s *SourceSummary) { s.Planned = append(s.Planned, Planned{PostID: p.ID, URL: fileURL}) })
		j.c.slots.commit()
		committed = true
		return nil, nil
	}
	hdr := http.Header{"User-Agent": {src.ua}}
	if src.Kind == "zerochan" {
		hdr.Set("User-Agent", src.ua+" - "+src.Login)
	}
	if p.PageURL != "" {
		hdr.Set("Referer", p.PageURL)
	}
	f, err := j.r.dl.fetch(ctx, fileRequest{post: p, url: fileURL, source: src.Name, dir: j.c.dir, header: hdr,
		parallelism: src.Parallelism, delay: src.FileDelay, pace: src.pace, jar: src.jar, verify: !src.NoVerify,
		admit: func(ctx context.Context, sha string) error {
			known, err := st.has(ctx, SHA256Key(sha))
			if err != nil {
				return err
			}
			if known {
				return errDuplicate
			}
			ok, err := st.claim(ctx, SHA256Key(sha))
			if err != nil {
				return err
			}
			if !ok {
				return errDuplicate
			}
			claimed = append(claimed, SHA256Key(sha))
			return nil
		}})
	var fe *filteredError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, nil
	case errors.Is(err, errDuplicate):
		j.count(func(s *SourceSummary) { s.Filtered["duplicate"]++ })
		handedOff = true
		return j.refused(ctx, StatusDuplicate, keys, release), nil
	case errors.As(err, &fe):
		j.count(func(s *SourceSummary) { s.Filtered[fe.reason]++ })
		handedOff = true
		return j.refused(ctx, StatusFiltered, keys, release), nil
	default:
		j.failed(ctx, p, err)
		return nil, nil
	}
	rec := manifests.RawRecord{
		SHA256: f.SHA256, File: f.Name, Source: src.Name, PostID: p.ID, URL: fileURL,
		MD5: f.MD5, Width: f.Width, Height: f.Height, Rating: p.Rating, Tags: p.Tags,
		FetchedAt: time.Now().UTC().Truncate(time.Second),
	}
	if rec.Width == 0 && fileURL == p.FileURL {
		rec.Width, rec.Height = p.Width, p.Height
	}
	verified := p.MD5 != "" && fileURL == p.FileURL && !src.NoVerify
	handedOff = true
	// The file, its index line and its archive entry, in that order, in
	// the class's next group commit; then the slot and the counts.
	return &commitItem{ctx: ctx, f: f, rec: rec,
		put: Put{Entry: Entry{Status: StatusDownloaded, Class: j.c.slug, SHA256: f.SHA256}, Keys: append(keys, SHA256Key(f.SHA256), MD5Key(f.MD5))},
		then: func(r commitResult) error {
			defer release()
			if r.err == nil && !r.dup {
				r.err = st.addFetched(ctx, j.c.slug)
			}
			if r.err != nil || r.dup {
				j.c.slots.unreserve()
				if r.dup {
					j.count(func(s *SourceSummary) { s.Filtered["duplicate"]++ })
				}
				return r.err
			}
			j.c.slots.commit()
			j.task.Add(1)
			j.mu.Lock()
			j.sum.Downloaded++
			j.fails = 0
			if verified {
				j.md5ok++
			}
			j.mu.Unlock()
			return nil
		}}, nil
}

// refused is the commit item of a downloaded file that is not kept (a
// duplicate, or filtered): its archive entry, then the slot and claims
// freed.
func (j *job) refused(ctx context.Context, status string, keys []string, release func()) *commitItem {
	return &commitItem{ctx: ctx, put: Put{Entry: Entry{Status: status, Class: j.c.slug}, Keys: keys},
		then: func(r commitResult) error {
			release()
			j.c.slots.unreserve()
			return r.err
		}}
}

// failed counts a failed file; a source whose files keep failing stops.
func (j *job) failed(ctx context.Context, p *Post, err error) {
	if ctx.Err() != nil {
		return
	}
	reason := failureReason(err)
	j.mu.Lock()
	j.sum.Failed++
	j.sum.Failures[reason]++
	j.fails++
	n := j.fails
	if errors.Is(err, ErrChecksum) {
		j.md5bad++
	}
	hopeless := j.md5ok == 0 && j.md5bad >= md5Hopeless
	j.mu.Unlock()
	j.r.rep.Logf("%s: %s: post %s: %v", j.c.name, j.src.Name, p.ID, err)
	if hopeless {
		j.fail(fmt.Errorf("%w: the first %d files all differ from the md5 the site lists, so its md5 is probably not the file's: set sources.%s.verify_md5: false",
			ErrChecksum, md5Hopeless, j.src.Name), false)
		return
	}
	if n >= maxConsecutiveFailures {
		j.fail(fmt.Errorf("%d files in a row failed, last: %w", n, err), false)
	}
}

func failureReason(err error) string {
	var se *StatusError
	var ne net.Error
	switch {
	case errors.Is(err, ErrNotImage):
		return "not_image"
	case errors.Is(err, ErrTooLarge):
		return "too_large"
	case errors.Is(err, ErrChecksum):
		return "checksum"
	case errors.Is(err, ErrRetryAfterTooLong):
		return "retry_after"
	case errors.As(err, &se):
		return fmt.Sprintf("http_%d", se.Code)
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	}
	return "error"
}

func defaultTransport() http.RoundTripper {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 32
	t.ResponseHeaderTimeout = time.Minute
	return t
}

// archiveCursor keeps a listing's cursor in archive.db.
type archiveCursor struct {
	arc                  *Archive
	class, source, query string
}

func (a archiveCursor) load(ctx context.Context) (string, error) {
	return a.arc.Cursor(ctx, a.class, a.source, a.query)
}

func (a archiveCursor) save(ctx context.Context, c string) error {
	return a.arc.SetCursor(ctx, a.class, a.source, a.query, c)
}
