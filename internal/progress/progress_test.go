package progress

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// screenLines splits terminal output into what ends up on each line:
// escape sequences removed, carriage returns and newlines as breaks.
func screenLines(s string) []string {
	return strings.FieldsFunc(ansi.ReplaceAllString(s, "\n"), func(r rune) bool { return r == '\n' || r == '\r' })
}

func TestTerminalBarsFitAndLinesStayWhole(t *testing.T) {
	var out syncBuf
	r := Terminal(&out)
	long := r.Start("Nakano Itsuki from a very long source name", 1000)
	epoch := r.Start("epoch 3/50", 40)
	epoch.SetStatus("loss 0.41237 and more")
	for i := 0; i < 20; i++ {
		long.Add(7)
		epoch.Add(1)
		time.Sleep(10 * time.Millisecond)
	}
	epoch.Done()
	Event(r, "epoch", struct{ Epoch int }{3}, "Epoch 3/50  12s  loss 0.4123  acc 0.8100  val_loss 0.5000  val_acc 0.7900 *")
	time.Sleep(200 * time.Millisecond) // a refresh with the bar still live
	if err := Close(r); err != nil {
		t.Fatal(err)
	}
	r.Logf("after close")
	s := out.String()
	sawBar := false
	for _, l := range screenLines(s) {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("line of %d columns: %q", n, l)
		}
		if strings.Contains(l, "/s") && strings.Contains(l, "ETA") {
			sawBar = true
		}
		if strings.Contains(l, "Epoch 3/50") && !strings.HasPrefix(l, "Epoch 3/50  12s") {
			t.Errorf("epoch line cut: %q", l)
		}
	}
	if !sawBar {
		t.Errorf("no bar with a rate and an ETA in:\n%q", s)
	}
	if !strings.Contains(s, "Epoch 3/50  12s  loss 0.4123  acc 0.8100  val_loss 0.5000  val_acc 0.7900 *\n") {
		t.Errorf("the epoch line is not whole:\n%q", s)
	}
	if !strings.HasSuffix(s, "after close\n") {
		t.Errorf("output after Close does not end cleanly: %q", s[max(0, len(s)-200):])
	}
}

func TestJSONEventHasNamedFields(t *testing.T) {
	var out bytes.Buffer
	r := JSON(&out)
	Event(r, "epoch", struct {
		Epoch  int     `json:"epoch"`
		ValAcc float64 `json:"val_acc"`
	}{3, 0.79}, "text")
	var m map[string]any
	if err := json.Unmarshal(out.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m["event"] != "epoch" || m["epoch"] != 3.0 || m["val_acc"] != 0.79 || m["time"] == nil {
		t.Errorf("event %v", m)
	}
	var lines bytes.Buffer
	Event(Lines(&lines, time.Hour), "epoch", nil, "Epoch 3/50")
	if lines.String() != "Epoch 3/50\n" {
		t.Errorf("Lines: %q", lines.String())
	}
}
