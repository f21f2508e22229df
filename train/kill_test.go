package train

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chara-dev/chara/manifests"
)

// killOpts are the options of the killed runs and of their reference.
func killOpts(name string) []Option {
	forced := map[int]float64{1: 0.5, 2: 0.7, 3: 0.6, 4: 0.8, 5: 0.75}
	return quick("cnn", "toy", name, 5, WithPatience(0),
		func(o *options) { o.valAcc = func(e int, _ float64) float64 { return forced[e] } })
}

// TestKillChild is the process that TestSIGKILLResumes kills: it trains
// the run named by CHARA_KILL_RUN in CHARA_KILL_WS, resuming it when it has
// a checkpoint, as chara run does.
func TestKillChild(t *testing.T) {
	ws, name := os.Getenv("CHARA_KILL_WS"), os.Getenv("CHARA_KILL_RUN")
	if ws == "" {
		t.Skip("run by TestSIGKILLResumes")
	}
	_, err := os.Stat(filepath.Join(manifests.RunDir(ws, name), "last.json"))
	if _, err := Run(context.Background(), ws, append(killOpts(name), WithResume(err == nil))...); err != nil {
		t.Fatal(err)
	}
}

// Training killed with SIGKILL at random moments (CHARA_KILLS times,
// default 3) always resumes, and ends with the metrics and the card of an
// uninterrupted run.
func TestSIGKILLResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts subprocesses")
	}
	kills := 3
	if n, err := strconv.Atoi(os.Getenv("CHARA_KILLS")); err == nil {
		kills = n
	}
	ws := t.TempDir()
	makeDataset(t, ws, "toy", 2, 100, 75, [3]int{6, 4, 4}, 13)
	full, err := Run(context.Background(), ws, killOpts("full")...)
	if err != nil {
		t.Fatal(err)
	}
	child := func() *exec.Cmd {
		c := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
		c.Env = append(os.Environ(), "CHARA_KILL_WS="+ws, "CHARA_KILL_RUN=part")
		return c
	}
	// How long a whole child run takes, to aim the kills inside it.
	start := time.Now()
	if out, err := child().CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	span := time.Since(start)
	os.RemoveAll(manifests.RunDir(ws, "part"))
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	killed := 0
	for i := 0; i < kills; i++ {
		c := child()
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(rng.Int64N(int64(span))))
		c.Process.Kill() // SIGKILL
		if err := c.Wait(); err != nil {
			killed++
		}
	}
	out, err := child().CombinedOutput()
	if err != nil {
		t.Fatalf("the run does not resume after %d kills: %v\n%s", killed, err, out)
	}
	if a, b := metricsNoTime(t, ws, "full"), metricsNoTime(t, ws, "part"); !reflect.DeepEqual(a, b) {
		t.Errorf("after %d kills: metrics\n%s\nwant\n%s", killed, strings.Join(b, "\n"), strings.Join(a, "\n"))
	}
	card, err := manifests.ReadRunCard(filepath.Join(manifests.RunDir(ws, "part"), "run.json"))
	if err != nil || card.TestAcc != full.TestAcc || card.BestEpoch != full.BestEpoch || !card.Finished {
		t.Errorf("after %d kills: card %+v (%v), want %+v", killed, card, err, full)
	}
	assertCheckpointFiles(t, manifests.RunDir(ws, "part"), 5, full.BestEpoch)
	t.Logf("%d kills (%d during the run), child run %v", kills, killed, span)
}
