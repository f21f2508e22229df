// Package progress is how library code reports progress without printing:
// stages take a Reporter; cmd/ picks the implementation (progress bars on a
// terminal, plain lines otherwise, JSON lines for machines, or nothing).
package progress

import (
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"
)

// Reporter receives progress from a stage. Implementations are safe for
// concurrent use.
type Reporter interface {
	// Start begins a task of total units (0 if unknown).
	Start(name string, total int64) Task
	// Logf reports one line of information.
	Logf(format string, args ...any)
}

// Task is one unit of progress, such as one class being scraped.
type Task interface {
	Add(n int64)
	SetTotal(total int64)
	// SetStatus sets a short free-form status (e.g. "loss 0.41").
	SetStatus(s string)
	Done()
}

// Eventer is a Reporter that also takes structured events (such as one per
// training epoch): JSON writes v's fields under "event": name, the others
// print text.
type Eventer interface {
	Event(name string, v any, text string)
}

// Event reports a structured event through r: as an event where r takes
// them, else as the line text.
func Event(r Reporter, name string, v any, text string) {
	if e, ok := r.(Eventer); ok {
		e.Event(name, v, text)
		return
	}
	r.Logf("%s", text)
}

// Close stops r's live display (the terminal's bars) if it has one.
func Close(r Reporter) error {
	if c, ok := r.(io.Closer); ok {
		return c.Close()
	}
	return nil
}

// Nop reports nothing.
func Nop() Reporter { return nop{} }

type nop struct{}

func (nop) Start(string, int64) Task { return nopTask{} }
func (nop) Logf(string, ...any)      {}

type nopTask struct{}

func (nopTask) Add(int64)        {}
func (nopTask) SetTotal(int64)   {}
func (nopTask) SetStatus(string) {}
func (nopTask) Done()            {}

// Lines writes plain lines: one per Logf, and one per task at most every
// interval plus one when it ends. For logs and pipes.
func Lines(w io.Writer, interval time.Duration) Reporter {
	return &lines{w: w, interval: interval}
}

type lines struct {
	mu       sync.Mutex
	w        io.Writer
	interval time.Duration
}

func (l *lines) Logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", args...)
}

func (l *lines) Start(name string, total int64) Task {
	return &lineTask{l: l, name: name, total: total, last: time.Now()}
}

type lineTask struct {
	l      *lines
	mu     sync.Mutex
	name   string
	total  int64
	n      int64
	status string
	last   time.Time
	done   bool
}

func (t *lineTask) Add(n int64) {
	t.mu.Lock()
	t.n += n
	emit := time.Since(t.last) >= t.l.interval
	if emit {
		t.last = time.Now()
	}
	t.mu.Unlock()
	if emit {
		t.emit("")
	}
}
func (t *lineTask) SetTotal(total int64) { t.mu.Lock(); t.total = total; t.mu.Unlock() }
func (t *lineTask) SetStatus(s string)   { t.mu.Lock(); t.status = s; t.mu.Unlock() }
func (t *lineTask) Done() {
	t.mu.Lock()
	if t.done {
		t.mu.Unlock()
		return
	}
	t.done = true
	t.mu.Unlock()
	t.emit(" done")
}

func (t *lineTask) emit(suffix string) {
	t.mu.Lock()
	n, total, status := t.n, t.total, t.status
	t.mu.Unlock()
	msg := fmt.Sprintf("%s: %d", t.name, n)
	if total > 0 {
		msg += fmt.Sprintf("/%d", total)
	}
	if status != "" {
		msg += " " + status
	}
	t.l.Logf("%s%s", msg, suffix)
}

// JSON writes one JSON object per event: {"event":"log"|"progress"|"done",...}.
func JSON(w io.Writer) Reporter { return &jsonRep{enc: json.NewEncoder(w)} }

type jsonRep struct {
	mu  sync.Mutex
	enc *json.Encoder
}

func (j *jsonRep) write(v map[string]any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	v["time"] = time.Now().UTC().Format(time.RFC3339Nano)
	_ = j.enc.Encode(v)
}

// Event writes v's JSON fields with "event": name and "time".
func (j *jsonRep) Event(name string, v any, _ string) {
	m := map[string]any{}
	if b, err := json.Marshal(v); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	m["event"] = name
	j.write(m)
}

func (j *jsonRep) Logf(format string, args ...any) {
	j.write(map[string]any{"event": "log", "msg": fmt.Sprintf(format, args...)})
}

func (j *jsonRep) Start(name string, total int64) Task {
	return &jsonTask{j: j, name: name, total: total}
}

type jsonTask struct {
	j        *jsonRep
	mu       sync.Mutex
	name     string
	total, n int64
	status   string
	last     time.Time
}

func (t *jsonTask) Add(n int64) {
	t.mu.Lock()
	t.n += n
	emit := time.Since(t.last) >= time.Second
	if emit {
		t.last = time.Now()
	}
	v := map[string]any{"event": "progress", "task": t.name, "n": t.n, "total": t.total, "status": t.status}
	t.mu.Unlock()
	if emit {
		t.j.write(v)
	}
}
func (t *jsonTask) SetTotal(total int64) { t.mu.Lock(); t.total = total; t.mu.Unlock() }
func (t *jsonTask) SetStatus(s string)   { t.mu.Lock(); t.status = s; t.mu.Unlock() }
func (t *jsonTask) Done() {
	t.mu.Lock()
	v := map[string]any{"event": "done", "task": t.name, "n": t.n, "total": t.total, "status": t.status}
	t.mu.Unlock()
	t.j.write(v)
}
