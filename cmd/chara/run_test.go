package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/internal/demosite"
	"github.com/chara-dev/chara/internal/synth"
	"github.com/chara-dev/chara/manifests"
)

// End-to-end tests of chara run against the built-in demo site, at a tiny
// size: two characters (a third is added later), a few dozen posts each,
// the cnn for two epochs.

var tinySizes = demosite.Sizes{Candidates: 200, PerClass: 8, Width: 24, Height: 48, Epochs: 2, Models: "cnn"}

// startSite serves Ichika, Nino and Raiha; the workspace's chara.yaml lists
// only the first two.
func startSite(t *testing.T, ws string) *demosite.Site {
	t.Helper()
	chars := append(synth.Characters()[:2], synth.Extra()[0])
	site := demosite.New(7, 30, demosite.Characters(chars...))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	base, stop, err := site.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	cfgPath := filepath.Join(ws, "chara.yaml")
	if err := os.MkdirAll(ws, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfgPath, []byte(site.Config(base, tinySizes)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := config.RemoveClass(cfgPath, chars[2].Name); err != nil {
		t.Fatal(err)
	}
	return site
}

// chara runs the CLI in-process; cancelAt cancels its context as soon as
// stderr announces that stage ("== NAME").
func chara(t *testing.T, ws, cancelAt string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	errw := &watchWriter{w: &out, marker: "== " + cancelAt + "\n", hit: cancel}
	if cancelAt == "" {
		errw.marker = ""
	}
	code := run(ctx, append([]string{"chara", "--workspace", ws, "--log-format", "text"}, args...), &out, errw)
	return code, out.String()
}

type watchWriter struct {
	mu     sync.Mutex
	w      io.Writer
	buf    strings.Builder
	marker string
	hit    func()
}

func (w *watchWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if w.marker != "" && strings.Contains(w.buf.String(), w.marker) {
		w.hit()
	}
	return w.w.Write(p)
}

// splitOf maps source sha256 -> split for the dataset's manifests.
func splitOf(t *testing.T, ws string) map[string]manifests.Split {
	t.Helper()
	d, err := manifests.ReadDataset(manifests.DatasetDir(ws, "default"))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]manifests.Split{}
	for s, rows := range d.Rows {
		for _, r := range rows {
			m[r.SHA256] = s
		}
	}
	return m
}

// rawFiles lists a class's raw files with their modification times.
func rawFiles(t *testing.T, ws, class string) map[string]int64 {
	t.Helper()
	slug, _ := manifests.Slug(class)
	ents, err := os.ReadDir(manifests.RawDir(ws, slug))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]int64{}
	for _, e := range ents {
		if info, err := e.Info(); err == nil {
			m[e.Name()] = info.ModTime().UnixNano()
		}
	}
	return m
}

func finishedRuns(t *testing.T, ws string) []*manifests.RunCard {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(ws, "runs", "*", "run.json"))
	var out []*manifests.RunCard
	for _, p := range paths {
		c, err := manifests.ReadRunCard(p)
		if err != nil {
			t.Fatal(err)
		}
		if c.Finished {
			out = append(out, c)
		}
	}
	return out
}

func TestRunEndToEndThenAddAClass(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	ws := t.TempDir()
	site := startSite(t, ws)
	code, out := chara(t, ws, "", "run")
	if code != 0 {
		t.Fatalf("chara run: exit %d\n%s", code, out)
	}
	for _, want := range []string{"# chara report", "Ichika", "Nino", "cnn"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if _, err := os.Stat(filepath.Join(ws, "report.md")); err != nil {
		t.Error(err)
	}
	runs := finishedRuns(t, ws)
	if len(runs) != 1 || runs[0].Model != "cnn" {
		t.Fatalf("runs after the first chara run: %+v", runs)
	}
	beforeRaw := map[string]map[string]int64{}
	for _, c := range []string{"Ichika", "Nino"} {
		beforeRaw[c] = rawFiles(t, ws, c)
	}
	classesBefore, err := manifests.ReadClasses(filepath.Join(manifests.DatasetDir(ws, "default"), "classes.json"))
	if err != nil {
		t.Fatal(err)
	}

	// A second run with nothing changed skips every stage and asks the site nothing.
	reqs := site.Board().Requests()
	code, out = chara(t, ws, "", "run")
	if code != 0 {
		t.Fatalf("second chara run: exit %d\n%s", code, out)
	}
	if n := strings.Count(out, "skipped"); n != 4 {
		t.Errorf("second run skipped %d stages, want 4:\n%s", n, out)
	}
	if got := site.Board().Requests(); got != reqs {
		t.Errorf("second run made %d requests", got-reqs)
	}

	// The README's loop: review, reject one picture, rebuild. The existing
	// run predicts every picture exactly as before (its own recipe), and is
	// then marked stale.
	first := runs[0].Name
	var pics []string // kept source pictures, three per class
	for _, slug := range []string{"ichika", "nino"} {
		decs, err := manifests.ReadDecisions(manifests.DecisionsPath(ws, slug))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, d := range decs {
			if d.Decision == manifests.Keep && n < 3 {
				pics = append(pics, filepath.Join(ws, filepath.FromSlash(d.File)))
				n++
			}
		}
	}
	predictJSON := func(name string) []byte {
		t.Helper()
		out := filepath.Join(t.TempDir(), name)
		args := append([]string{"predict", "--run", first, "--json", "--device", "cpu", "--out", out}, pics...)
		if code, o := chara(t, ws, "", args...); code != 0 {
			t.Fatalf("predict: exit %d\n%s", code, o)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	predBefore := predictJSON("before.json")
	ds, err := manifests.ReadDataset(manifests.DatasetDir(ws, "default"))
	if err != nil {
		t.Fatal(err)
	}
	victim := ds.Rows[manifests.Train][0]
	if err := manifests.AppendReview(manifests.ReviewPath(ws), manifests.ReviewAction{SHA256: victim.SHA256, Class: victim.Class, Action: "reject", At: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	if code, out := chara(t, ws, "", "run"); code != 0 {
		t.Fatalf("chara run after a rejection: exit %d\n%s", code, out)
	}
	if card, err := manifests.ReadCard(manifests.CardPath(manifests.DatasetDir(ws, "default"))); err != nil || card.Version == ds.Card.Version {
		t.Fatalf("the rejection did not rebuild the dataset: %v", err)
	}
	if predAfter := predictJSON("after.json"); !samePredictions(t, predBefore, predAfter) {
		t.Errorf("run %s predicts differently after the dataset was rebuilt:\n%s\nvs\n%s", first, predBefore, predAfter)
	}
	if code, out := chara(t, ws, "", "compare", first); code != 0 || !strings.Contains(out, "stale") {
		t.Errorf("compare does not mark %s stale: exit %d\n%s", first, code, out)
	}
	beforeSplit := splitOf(t, ws)

	// Add a character and run again.
	raiha := synth.Extra()[0]
	if code, out := chara(t, ws, "", "classes", "add", raiha.Name, "--query", "demo="+raiha.Tag); code != 0 {
		t.Fatalf("classes add: exit %d\n%s", code, out)
	}
	code, out = chara(t, ws, "", "run")
	if code != 0 {
		t.Fatalf("chara run after adding a class: exit %d\n%s", code, out)
	}
	for c, before := range beforeRaw {
		after := rawFiles(t, ws, c)
		if len(after) != len(before) {
			t.Errorf("%s: %d raw files before, %d after adding a class", c, len(before), len(after))
		}
		for name, mt := range before {
			if after[name] != mt {
				t.Errorf("%s: raw file %s was rewritten or removed", c, name)
			}
		}
	}
	afterSplit := splitOf(t, ws)
	for sha, s := range beforeSplit {
		if got, ok := afterSplit[sha]; !ok || got != s {
			t.Errorf("image %s moved from %s to %q after adding a class", sha[:12], s, got)
		}
	}
	classesAfter, err := manifests.ReadClasses(filepath.Join(manifests.DatasetDir(ws, "default"), "classes.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(classesAfter) != 3 || classesAfter[2].Name != raiha.Name {
		t.Fatalf("classes after adding: %+v", classesAfter)
	}
	for i, c := range classesBefore {
		if classesAfter[i] != c {
			t.Errorf("label %d was %+v, now %+v", i, c, classesAfter[i])
		}
	}
	runs = finishedRuns(t, ws)
	if len(runs) != 3 {
		t.Fatalf("want a run per dataset version (3), have %d finished runs", len(runs))
	}
	sort.Slice(runs, func(i, j int) bool { return runs[i].CreatedAt.Before(runs[j].CreatedAt) })
	if len(runs[2].Classes) != 3 {
		t.Errorf("the retrained model has %d classes", len(runs[2].Classes))
	}
}

// outputs are what a finished chara run leaves that must not depend on
// whether it was interrupted: the manifests and the training metrics
// (without the seconds column).
func outputs(t *testing.T, ws string) map[string]string {
	t.Helper()
	out := map[string]string{}
	dir := manifests.DatasetDir(ws, "default")
	for _, f := range []string{"train.csv", "val.csv", "test.csv", "classes.json"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		out[f] = string(b)
	}
	paths, _ := filepath.Glob(filepath.Join(ws, "runs", "*", "metrics.csv"))
	if len(paths) != 1 {
		t.Fatalf("want one run, found %v", paths)
	}
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	head := strings.Split(lines[0], ",")
	skip := -1
	for i, h := range head {
		if strings.Contains(h, "second") || h == "time" {
			skip = i
		}
	}
	var kept []string
	for _, l := range lines {
		f := strings.Split(l, ",")
		if skip >= 0 && skip < len(f) {
			f = append(f[:skip], f[skip+1:]...)
		}
		kept = append(kept, strings.Join(f, ","))
	}
	out["runs/"+filepath.Base(filepath.Dir(paths[0]))+"/metrics.csv"] = strings.Join(kept, "\n")
	return out
}

func TestRunInterruptedInEachStageResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("end to end")
	}
	ref := t.TempDir()
	startSite(t, ref)
	if code, out := chara(t, ref, "", "run"); code != 0 {
		t.Fatalf("reference run: exit %d\n%s", code, out)
	}
	want := outputs(t, ref)
	for _, stage := range []string{"scrape", "curate", "dataset", "train:cnn"} {
		t.Run(strings.ReplaceAll(stage, ":", "_"), func(t *testing.T) {
			ws := t.TempDir()
			startSite(t, ws)
			code, out := chara(t, ws, stage, "run")
			if code != exitInterrupted {
				t.Fatalf("interrupted at %s: exit %d, want %d\n%s", stage, code, exitInterrupted, out)
			}
			if code, out := chara(t, ws, "", "run"); code != 0 {
				t.Fatalf("resumed run: exit %d\n%s", code, out)
			}
			got := outputs(t, ws)
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s differs after an interruption in %s:\n got %q\nwant %q", k, stage, got[k], v)
				}
			}
		})
	}
}

// samePredictions reports whether two predict --json outputs give every
// picture the same ranked classes and the same answer, with probabilities
// equal up to 1e-6: libtorch's CPU kernels may sum in another order from one
// process to the next (thread scheduling), which moves the last digits.
func samePredictions(t *testing.T, a, b []byte) bool {
	t.Helper()
	type pred struct {
		Path        string `json:"path"`
		None        bool   `json:"none"`
		Predictions []struct {
			Label int     `json:"label"`
			Class string  `json:"class"`
			Prob  float64 `json:"prob"`
		} `json:"predictions"`
	}
	var pa, pb []pred
	if err := json.Unmarshal(a, &pa); err != nil {
		t.Fatalf("predict output: %v", err)
	}
	if err := json.Unmarshal(b, &pb); err != nil {
		t.Fatalf("predict output: %v", err)
	}
	if len(pa) != len(pb) || len(pa) == 0 {
		return false
	}
	for i := range pa {
		x, y := pa[i], pb[i]
		if x.Path != y.Path || x.None != y.None || len(x.Predictions) != len(y.Predictions) {
			return false
		}
		for j := range x.Predictions {
			p, q := x.Predictions[j], y.Predictions[j]
			if p.Label != q.Label || p.Class != q.Class || math.Abs(p.Prob-q.Prob) > 1e-6 {
				return false
			}
		}
	}
	return true
}
