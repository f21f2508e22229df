package progress

import (
	"fmt"
	"io"
	"sync"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Terminal draws one progress bar per task on a terminal (mpb). Logf lines
// are printed above the bars.
func Terminal(w io.Writer) Reporter {
	return &term{p: mpb.New(mpb.WithOutput(w), mpb.WithAutoRefresh()), w: w}
}

type term struct {
	mu sync.Mutex
	p  *mpb.Progress
	w  io.Writer
}

func (t *term) Logf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.p, format+"\n", args...)
}

func (t *term) Start(name string, total int64) Task {
	tt := &termTask{}
	bar := t.p.New(total, mpb.BarStyle(),
		mpb.PrependDecorators(decor.Name(name, decor.WCSyncSpaceR), decor.CountersNoUnit("%d/%d", decor.WCSyncSpace)),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return tt.status() }), decor.Percentage(decor.WCSyncSpace)),
		mpb.BarFillerOnComplete("done"),
	)
	tt.bar = bar
	return tt
}

type termTask struct {
	bar  *mpb.Bar
	mu   sync.Mutex
	stat string
}

func (t *termTask) status() string       { t.mu.Lock(); defer t.mu.Unlock(); return t.stat }
func (t *termTask) Add(n int64)          { t.bar.IncrInt64(n) }
func (t *termTask) SetTotal(total int64) { t.bar.SetTotal(total, false) }
func (t *termTask) SetStatus(s string)   { t.mu.Lock(); t.stat = s; t.mu.Unlock() }
func (t *termTask) Done() {
	t.bar.SetTotal(-1, true)
}
