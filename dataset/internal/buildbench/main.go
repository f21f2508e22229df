// Command buildbench measures dataset build against a Python PIL pipeline
// doing the same work (BENCHMARKS.md, section dataset), side by side in one
// run:
//
//	go run ./dataset/internal/buildbench [-n 120] [-rounds 3] [-python /usr/bin/python3]
//
// It writes n JPEGs of 1200x1800 (generated illustrations, quality 90) into
// a workspace as two kept classes, then alternates, rounds times: chara
// (dataset.Build into a fresh dataset, in a child process so that both
// sides pay a process start) and dataset/testdata/pil_build.py (draft
// decode, LANCZOS pad to 300x150, JPEG q95, fsync, 2 processes). It prints
// each wall time, the best of each side and the ratio of the bests (PIL's
// time over chara's: above 1, chara is faster).
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"time"

	"github.com/chara-dev/chara/dataset"
	"github.com/chara-dev/chara/internal/synth"
	"github.com/chara-dev/chara/manifests"
)

func main() {
	n := flag.Int("n", 120, "source JPEGs (two classes)")
	rounds := flag.Int("rounds", 3, "alternating rounds")
	py := flag.String("python", "/usr/bin/python3", "python3 with PIL (Debian python3-pil)")
	draft := flag.String("draft", "fit", "PIL's draft request: fit (the fitted size, 1/8 here) or box (the 150x300 output box, 1/4 here)")
	child := flag.String("child", "", "internal: build the dataset of this name in workspace -ws")
	ws := flag.String("ws", "", "internal: workspace")
	flag.Parse()
	if *child != "" {
		if err := build(*ws, *child, *n); err != nil {
			fmt.Fprintln(os.Stderr, "buildbench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*n, *rounds, *py, *draft); err != nil {
		fmt.Fprintln(os.Stderr, "buildbench:", err)
		os.Exit(1)
	}
}

var classes = []string{"Alpha", "Beta"}

func build(ws, name string, n int) error {
	opts := []dataset.Option{dataset.WithPerClass(n / len(classes))}
	if w, err := strconv.Atoi(os.Getenv("BUILDBENCH_WORKERS")); err == nil {
		opts = append(opts, dataset.WithWorkers(w))
	}
	start := time.Now()
	_, err := dataset.Build(context.Background(), ws, name, classes, opts...)
	if os.Getenv("BUILDBENCH_VERBOSE") != "" {
		fmt.Fprintf(os.Stderr, "build %.3fs\n", time.Since(start).Seconds())
	}
	return err
}

func run(n, rounds int, py, draft string) error {
	ws, err := os.MkdirTemp("", "buildbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(ws)
	if err := writeSources(ws, n); err != nil {
		return err
	}
	script, err := filepath.Abs(filepath.Join("dataset", "testdata", "pil_build.py"))
	if err != nil {
		return err
	}
	if _, err := os.Stat(script); err != nil {
		return fmt.Errorf("run from the repository root: %w", err)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	fmt.Printf("%d JPEGs of 1200x1800 -> 300x150 (pad), PIL draft %s, GOMAXPROCS %d, NumCPU %d\n", n, draft, runtime.GOMAXPROCS(0), runtime.NumCPU())
	bestC, bestP := time.Duration(1<<62), time.Duration(1<<62)
	var ratios, cpuRatios []float64
	for r := 0; r < rounds; r++ {
		name := "bench" + strconv.Itoa(r)
		c, cc, err := timed(exec.Command(self, "-child", name, "-ws", ws, "-n", strconv.Itoa(n)))
		if err != nil {
			return fmt.Errorf("chara: %w", err)
		}
		p, pc, err := timed(exec.Command(py, script, filepath.Join(ws, "raw"), filepath.Join(ws, "pil"+strconv.Itoa(r)), "300", "150", draft))
		if err != nil {
			return fmt.Errorf("pil: %w", err)
		}
		ratios = append(ratios, p.Seconds()/c.Seconds())
		cpuRatios = append(cpuRatios, pc.Seconds()/cc.Seconds())
		fmt.Printf("round %d: chara %.3fs (%.1f images/s, CPU %.3fs), PIL %.3fs (%.1f images/s, CPU %.3fs), wall ratio %.2f, CPU ratio %.2f\n",
			r+1, c.Seconds(), float64(n)/c.Seconds(), cc.Seconds(), p.Seconds(), float64(n)/p.Seconds(), pc.Seconds(), ratios[r], cpuRatios[r])
		bestC, bestP = min(bestC, c), min(bestP, p)
	}
	sort.Float64s(ratios)
	sort.Float64s(cpuRatios)
	fmt.Printf("best: chara %.3fs, PIL %.3fs; chara is %.2fx PIL's speed (best over best); medians of the rounds' ratios: wall %.2fx, CPU %.2fx\n",
		bestC.Seconds(), bestP.Seconds(), bestP.Seconds()/bestC.Seconds(), ratios[len(ratios)/2], cpuRatios[len(cpuRatios)/2])
	return nil
}

// timed runs cmd and returns its wall time and its CPU time (user +
// system, including the processes it waited for: PIL's pool workers).
func timed(cmd *exec.Cmd) (time.Duration, time.Duration, error) {
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return d, 0, fmt.Errorf("%w: %s", err, stderr.String())
	}
	return d, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), nil
}

// writeSources writes n distinct 1200x1800 JPEGs as kept images of the two
// classes, with their curation decisions.
func writeSources(ws string, n int) error {
	rng := rand.New(rand.NewPCG(1, 2))
	for ci, class := range classes {
		slug, err := manifests.Slug(class)
		if err != nil {
			return err
		}
		var decs []manifests.Decision
		for i := 0; i < n/len(classes); i++ {
			data, err := synth.IllustrationJPEG(rng, 1200, 1800)
			if err != nil {
				return err
			}
			s := sha256.Sum256(data)
			sha := hex.EncodeToString(s[:])
			rel := "raw/" + slug + "/" + sha + ".jpg"
			p := filepath.Join(ws, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, data, 0o644); err != nil {
				return err
			}
			decs = append(decs, manifests.Decision{SHA256: sha, File: rel, Class: class, Decision: manifests.Keep,
				Group: sha, PHash: fmt.Sprintf("%016x", rng.Uint64()), Width: 1200, Height: 1800, Source: "bench", PostID: strconv.Itoa(ci*n + i)})
		}
		if err := manifests.WriteDecisions(manifests.DecisionsPath(ws, slug), decs); err != nil {
			return err
		}
	}
	return nil
}
