package progress

import (
	"fmt"
	"io"
	"sync"
	"unicode/utf8"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// Terminal draws one live bar per task on a terminal (mpb): name, count,
// bar, rate and ETA, within 80 columns. A finished task's bar goes away;
// Logf and Event lines are printed above the bars, so a line is never cut
// by a bar. Close (Ctrl-C, or the end of the command) drops every bar and
// leaves the cursor on a clean line.
func Terminal(w io.Writer) Reporter {
	return &term{w: w}
}

// Bar geometry: name (nameWidth) count bar rate ETA status fit in 80 columns.
const (
	nameWidth   = 18
	barWidth    = 16
	statusWidth = 12
)

// The mpb container lives while bars do: when the last one ends it is shut
// down (its final frame erases the bars), so that what the command prints
// next starts on a clean screen; the next task starts a new one.
type term struct {
	mu     sync.Mutex
	p      *mpb.Progress // nil while no bar is live
	w      io.Writer
	live   map[*termTask]bool
	closed bool
}

func (t *term) Logf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.p == nil {
		fmt.Fprintf(t.w, format+"\n", args...)
		return
	}
	fmt.Fprintf(t.p, format+"\n", args...)
}

func (t *term) Event(_ string, _ any, text string) { t.Logf("%s", text) }

func (t *term) Start(name string, total int64) Task {
	tt := &termTask{t: t}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nopTask{}
	}
	if t.p == nil {
		t.p = mpb.New(mpb.WithOutput(t.w), mpb.WithAutoRefresh(), mpb.WithWidth(80))
	}
	tt.p = t.p
	bar := t.p.New(total, mpb.BarStyle().Lbound("[").Rbound("]"),
		mpb.BarWidth(barWidth),
		mpb.PrependDecorators(
			decor.Name(clip(name, nameWidth-1), decor.WC{W: nameWidth, C: decor.DindentRight}),
			decor.CountersNoUnit("%d/%d", decor.WC{W: 11, C: decor.DindentRight}),
		),
		mpb.AppendDecorators(
			decor.AverageSpeed(0, "%.1f/s", decor.WC{W: 9}),
			decor.Name(" ETA "),
			decor.AverageETA(decor.ET_STYLE_MMSS, decor.WC{W: 5}),
			decor.Any(func(decor.Statistics) string { return " " + clip(tt.status(), statusWidth) }),
		),
		mpb.BarRemoveOnComplete(),
	)
	tt.bar = bar
	if t.live == nil {
		t.live = map[*termTask]bool{}
	}
	t.live[tt] = true
	return tt
}

// Close drops the live bars and waits until mpb has erased them.
func (t *term) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	for tt := range t.live {
		tt.bar.Abort(true)
	}
	t.live = nil
	p := t.p
	t.p = nil
	t.mu.Unlock()
	if p != nil {
		p.Wait()
	}
	return nil
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

type termTask struct {
	t    *term
	p    *mpb.Progress
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
	t.t.mu.Lock()
	if !t.t.live[t] {
		t.t.mu.Unlock()
		return
	}
	delete(t.t.live, t)
	last := len(t.t.live) == 0 && t.t.p == t.p
	if last {
		t.t.p = nil
	}
	t.t.mu.Unlock()
	if last {
		t.p.Wait() // the bars are gone from the screen before the caller prints anything else
	}
}
