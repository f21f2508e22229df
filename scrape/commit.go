package scrape

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/manifests"
)

// maxCommitGroup bounds the files (and refused candidates' archive
// entries) of one group commit, and as many more may wait for the next:
// beyond that the downloads wait for the disk. A run killed loses at most
// that many downloads besides those in flight (they are fetched again).
const maxCommitGroup = 32

// groupCommit records a class's downloads in groups, in the order that a
// crash must find them: every file of the group durable under its final
// name (the files fsynced together, then renamed; the directory fsynced
// once), then their index lines (one append, one fsync), then
// their archive entries (one SQLite transaction). A group is whatever is
// waiting when the previous one is done, so a slow site's file is
// committed at once, alone, and a fast site's files share the fsyncs.
//
// A run killed inside a group leaves files renamed but not indexed, which
// the next run removes and fetches again (reconcileDisk), or indexed files
// the archive does not know yet, which it adds (reconcile): nothing is
// lost and nothing recorded is fetched twice.
type groupCommit struct {
	c    *classRun
	st   store
	ctx  context.Context // the class's, without its cancellation: what is on disk is recorded
	in   chan *commitItem
	done chan struct{}
	// indexDurable: the index file's directory entry has been synced
	// since this run first appended to it.
	indexDurable bool
}

// commitItem is one candidate's part of a group: a downloaded file with
// its index line and archive entry, or (f nil) only an archive entry.
// Once the group is durable (or failed), then does the candidate's
// bookkeeping and after what its worker does next.
type commitItem struct {
	ctx   context.Context // the candidate's
	f     *fetched
	rec   manifests.RawRecord
	put   Put
	then  func(commitResult) error
	after func(error)
	res   chan commitResult // a waiting submit's
}

type commitResult struct {
	dup bool // the class already had the content: no file, no index line
	err error
}

func newGroupCommit(ctx context.Context, c *classRun, st store) *groupCommit {
	g := &groupCommit{c: c, st: st, ctx: context.WithoutCancel(ctx),
		in: make(chan *commitItem, maxCommitGroup), done: make(chan struct{})}
	go g.loop()
	return g
}

// submit queues it for the next group. With async, it returns at once
// (unless the queue is full: the downloads wait for the disk) and the
// committer runs then and after; otherwise it waits and runs them itself.
func (g *groupCommit) submit(it *commitItem, async bool) {
	if !async {
		it.res = make(chan commitResult, 1)
	}
	g.in <- it
	if !async {
		it.finish(<-it.res)
	}
}

func (it *commitItem) finish(r commitResult) {
	err := r.err
	if it.then != nil {
		err = it.then(r)
	}
	if it.after != nil {
		it.after(err)
	}
}

// close commits what is waiting and stops; no submit may follow.
func (g *groupCommit) close() {
	close(g.in)
	<-g.done
}

func (g *groupCommit) loop() {
	defer close(g.done)
	for it := range g.in {
		group := []*commitItem{it}
	gather:
		for len(group) < maxCommitGroup {
			select {
			case it, ok := <-g.in:
				if !ok {
					break gather
				}
				group = append(group, it)
			default:
				break gather
			}
		}
		g.commit(group)
	}
}

func (g *groupCommit) commit(group []*commitItem) {
	res := make([]commitResult, len(group))
	defer func() {
		for i, it := range group {
			if it.f != nil {
				it.f.pending.Discard() // the ones not renamed
			}
			if it.res != nil {
				it.res <- res[i]
			} else {
				it.finish(res[i])
			}
		}
	}()
	fail := func(err error) {
		for i := range res {
			res[i].err = err
		}
	}
	if err := g.files(group, res); err != nil {
		fail(err)
		return
	}
	puts := make([]storePut, len(group))
	for i, it := range group {
		puts[i] = storePut{ctx: it.ctx, Put: it.put}
	}
	if err := g.st.putMany(g.ctx, puts); err != nil {
		fail(err)
	}
}

// files renames the group's new files into place, syncs the directory and
// appends their index lines; a content the class already has is a
// duplicate, its temp file removed.
func (g *groupCommit) files(group []*commitItem, res []commitResult) error {
	c := g.c
	c.mu.Lock()
	defer c.mu.Unlock()
	var recs []manifests.RawRecord
	var paths []string
	var keep []*commitItem
	fresh := map[string]bool{}
	for i, it := range group {
		if it.f == nil {
			continue
		}
		if sha := it.f.SHA256; c.shas[sha] || fresh[sha] {
			res[i].dup = true
			continue
		}
		fresh[it.f.SHA256] = true
		keep = append(keep, it)
	}
	if len(keep) == 0 {
		return nil
	}
	// The files' contents first, all at once: the file system commits
	// concurrent fsyncs together.
	errs := make([]error, len(keep))
	var wg sync.WaitGroup
	for i, it := range keep {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = it.f.pending.Sync(0o644) }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for _, it := range keep {
		path, err := it.f.pending.Rename(it.f.Name)
		if err != nil {
			return err
		}
		paths = append(paths, path)
		recs = append(recs, it.rec)
	}
	if err := atomicfile.SyncDir(c.dir); err != nil {
		return err
	}
	for _, p := range paths {
		atomicfile.Boundary("after rename " + p)
	}
	if err := manifests.AppendRawIndex(c.index, recs...); err != nil {
		return fmt.Errorf("%s: %w", c.index, err)
	}
	// The append marked one boundary; one more per further line keeps
	// their count per file, so that the crash harness's k-th boundary
	// does not depend on how the files happened to group.
	for range recs[1:] {
		atomicfile.Boundary("after append " + c.index)
	}
	if !g.indexDurable {
		// The index may have just been created: its name must be as
		// durable as its lines.
		if err := atomicfile.SyncDir(c.dir); err != nil {
			return err
		}
		g.indexDurable = true
	}
	for sha := range fresh {
		c.shas[sha] = true
	}
	return nil
}
