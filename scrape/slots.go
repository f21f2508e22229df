package scrape

import (
	"context"
	"sync"
)

// ticket orders a class's candidates: the seq-th candidate of the src-th
// source. Tickets compare by (seq, src), so the sources of a class take
// turns, one candidate each.
type ticket struct{ seq, src int }

func (a ticket) less(b ticket) bool { return a.seq < b.seq || a.seq == b.seq && a.src < b.src }

// slots hands out a class's download slots in ticket order, whatever the
// timing: a candidate gets a slot only once every earlier one has one or
// has been passed over, and it waits (rather than being dropped) while
// earlier downloads might still fail and free theirs. The files a class
// ends with are then the first that succeed in ticket order, as a serial
// run would choose, for any parallelism.
type slots struct {
	mu       sync.Mutex
	cond     *sync.Cond
	target   int
	done     int // files the class has
	inflight int
	srcs     []*srcTickets
}

type srcTickets struct {
	issued int
	open   map[int]bool // issued, neither granted nor passed over
	active bool
}

func newSlots(target, done, sources int) *slots {
	s := &slots{target: target, done: done}
	s.cond = sync.NewCond(&s.mu)
	for i := 0; i < sources; i++ {
		s.srcs = append(s.srcs, &srcTickets{open: map[int]bool{}, active: true})
	}
	return s
}

// issue numbers the next candidate of source src.
func (s *slots) issue(src int) ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.srcs[src]
	t := ticket{seq: st.issued, src: src}
	st.issued++
	st.open[t.seq] = true
	return t
}

// skip passes over a candidate that will not be fetched.
func (s *slots) skip(t ticket) {
	s.mu.Lock()
	delete(s.srcs[t.src].open, t.seq)
	s.mu.Unlock()
	s.cond.Broadcast()
}

// finish says source src will issue no more tickets.
func (s *slots) finish(src int) {
	s.mu.Lock()
	s.srcs[src].active = false
	s.mu.Unlock()
	s.cond.Broadcast()
}

// first reports whether t is the earliest open ticket, counting each
// active source's next ticket as open.
func (s *slots) first(t ticket) bool {
	for i, st := range s.srcs {
		for seq := range st.open {
			if o := (ticket{seq, i}); o.less(t) {
				return false
			}
		}
		if st.active && len(st.open) == 0 {
			if o := (ticket{st.issued, i}); o.less(t) {
				return false
			}
		}
	}
	return true
}

// reserve waits for t's turn and a free slot; false when the class is full
// (or ctx is done), and t is then passed over.
func (s *slots) reserve(ctx context.Context, t ticket) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if s.done >= s.target || ctx.Err() != nil {
			delete(s.srcs[t.src].open, t.seq)
			s.cond.Broadcast()
			return false
		}
		if s.first(t) && s.done+s.inflight < s.target {
			delete(s.srcs[t.src].open, t.seq)
			s.inflight++
			s.cond.Broadcast()
			return true
		}
		s.cond.Wait()
	}
}

func (s *slots) unreserve() { s.mu.Lock(); s.inflight--; s.mu.Unlock(); s.cond.Broadcast() }
func (s *slots) commit()    { s.mu.Lock(); s.inflight--; s.done++; s.mu.Unlock(); s.cond.Broadcast() }

// full: the class has its files (in-flight downloads not counted: they may
// fail).
func (s *slots) full() bool { s.mu.Lock(); defer s.mu.Unlock(); return s.done >= s.target }

// setDone replaces the count (Redis mode: the shared count).
func (s *slots) setDone(n int) { s.mu.Lock(); s.done = n; s.mu.Unlock(); s.cond.Broadcast() }

// wake makes waiters look at ctx again. Taking the lock first means no
// waiter is between its look at ctx and its Wait, so none misses it.
func (s *slots) wake() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cond.Broadcast()
}
