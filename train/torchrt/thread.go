package torchrt

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"
	"sync"
)

// Thread runs functions one at a time on a single goroutine locked to its
// OS thread. libgomp builds one OpenMP thread team per OS thread, so
// libtorch work that hops between threads is about 2x slower on a CPU;
// running all of it here avoids that, and also serialises access to
// libtorch state that is per thread: grad mode, and gotch's last-error
// slot (a gotch call and its error check on two OS threads lose the error,
// and gotch then wraps a garbage result that its finalizer frees later).
type Thread struct {
	work chan func()
	once sync.Once
	done chan struct{}
}

// ErrThreadClosed is returned by Do after Close.
var ErrThreadClosed = errors.New("torch thread closed")

// NewThread starts the locked goroutine. threads > 0 sets libtorch's
// intra-op thread count from that thread.
func NewThread(threads int) *Thread {
	t := &Thread{work: make(chan func()), done: make(chan struct{})}
	ready := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		if threads > 0 {
			SetNumThreads(threads)
		}
		close(ready)
		for {
			select {
			case f := <-t.work:
				f()
			case <-t.done:
				return
			}
		}
	}()
	<-ready
	return t
}

// PanicError is a panic inside a function run on the Thread.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic in libtorch work: %v", e.Value) }

// Do runs f on the locked thread and waits for it. A panic in f (gotch's
// Must* functions panic) comes back as a *PanicError. If ctx ends first, Do
// returns ctx.Err() without waiting for f to start; once started, f runs to
// completion (libtorch cannot be interrupted mid-op) and its own ctx checks
// decide.
func (t *Thread) Do(ctx context.Context, f func() error) error {
	res := make(chan error, 1)
	job := func() {
		defer func() {
			if r := recover(); r != nil {
				res <- &PanicError{Value: r, Stack: debug.Stack()}
			}
		}()
		res <- f()
	}
	select {
	case t.work <- job:
	case <-t.done:
		return ErrThreadClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	return <-res
}

// Close stops the thread after the running function, if any.
func (t *Thread) Close() { t.once.Do(func() { close(t.done) }) }
