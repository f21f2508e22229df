package predict

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/chara-dev/chara/manifests"
)

// With a threshold in run.json, images whose top probability is below it
// are answered "none of these characters" (JSON none, the table's line);
// the others, and every image with the open set off, get a class.
func TestOpenSetAnswersNone(t *testing.T) {
	th := newThread(t)
	ws := t.TempDir()
	dir := filepath.Join(ws, "runs", "r1")
	makeRun(t, th, dir, runSpec{model: "tiny", h: 40, w: 30, seed: 2})
	var files []string
	for i := 0; i < 8; i++ {
		p := filepath.Join(ws, "img", string(rune('a'+i))+".png")
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, encodePNG(t, testImage(int64(i+1), 50, 60)), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	p := load(t, dir, WithThread(th))
	res, err := p.PredictFiles(context.Background(), files, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	var tops []float64
	for _, r := range res {
		if r.Err != nil || r.None {
			t.Fatalf("%s: %v, none %v without a threshold", r.Path, r.Err, r.None)
		}
		tops = append(tops, r.Predictions[0].Prob)
	}
	sort.Float64s(tops)
	if tops[3] == tops[4] {
		t.Fatalf("top probabilities do not differ: %v", tops)
	}
	threshold := (tops[3] + tops[4]) / 2
	card, err := manifests.ReadRunCard(filepath.Join(dir, RunFile))
	if err != nil {
		t.Fatal(err)
	}
	card.OpenSet = &manifests.OpenSet{Score: "max_prob", Threshold: threshold, TargetFRR: 0.05}
	if err := manifests.WriteRunCard(filepath.Join(dir, RunFile), card); err != nil {
		t.Fatal(err)
	}
	p.Close()

	p = load(t, dir, WithThread(th))
	res, err = p.PredictFiles(context.Background(), files, 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	none := 0
	for _, r := range res {
		if want := r.Predictions[0].Prob < threshold; r.None != want {
			t.Errorf("%s: top %.4f, threshold %.4f: none %v", r.Path, r.Predictions[0].Prob, threshold, r.None)
		}
		if r.None {
			none++
		}
	}
	if none != 4 {
		t.Errorf("%d answered none, want 4", none)
	}
	var table, js bytes.Buffer
	WriteTable(&table, res)
	WriteJSON(&js, res)
	if strings.Count(table.String(), NoneOfThese) != 4 || strings.Count(js.String(), `"none": true`) != 4 {
		t.Errorf("table or JSON lacks the none answers:\n%s\n%s", table.String(), js.String())
	}
	p.Close()

	p = load(t, dir, WithThread(th), WithOpenSet(false))
	defer p.Close()
	res, _ = p.PredictFiles(context.Background(), files, 1, 2)
	for _, r := range res {
		if r.None {
			t.Errorf("%s: none with the open set off", r.Path)
		}
	}
}
