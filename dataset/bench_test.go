//go:build unix

package dataset

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand"
	rand2 "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/recipe"
	"github.com/chara-dev/chara/internal/synth"
	"github.com/chara-dev/chara/manifests"
)

// photoJPEG is synth's illustration-like JPEG (about 360 KB at 1200x1800).
func photoJPEG(tb testing.TB, rng *rand.Rand, w, h int) []byte {
	data, err := synth.IllustrationJPEG(rand2.New(rand2.NewPCG(rng.Uint64(), 0)), w, h)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// BenchmarkBuild measures dataset build throughput from 1200x1800 JPEGs:
// read, decode, resize to 300x150 (pad), encode, write atomically. Each
// iteration builds a fresh dataset, so nothing is reused.
//
//	go test ./dataset -run '^$' -bench Build -benchtime 3x
func BenchmarkBuild(b *testing.B) {
	const perClass = 60
	dir := b.TempDir()
	rng := rand.New(rand.NewSource(1))
	classes := []string{"A", "B"}
	for _, class := range classes {
		slug, _ := manifests.Slug(class)
		var decs []manifests.Decision
		for i := 0; i < perClass; i++ {
			data := photoJPEG(b, rng, 1200, 1800)
			s := sha256.Sum256(data)
			sha := hex.EncodeToString(s[:])
			rel := "raw/" + slug + "/" + sha + ".jpg"
			p := filepath.Join(dir, filepath.FromSlash(rel))
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				b.Fatal(err)
			}
			decs = append(decs, manifests.Decision{SHA256: sha, File: rel, Class: class, Decision: manifests.Keep,
				PHash: fmt.Sprintf("%016x", rng.Uint64()), Source: "bench"})
		}
		if err := manifests.WriteDecisions(manifests.DecisionsPath(dir, slug), decs); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	images := 0
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		res, err := Build(context.Background(), dir, "b"+strconv.Itoa(i), classes, WithPerClass(perClass))
		if err != nil {
			b.Fatal(err)
		}
		images += res.Processed
	}
	cpu := cpuTime() - cpu0
	b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "images/s")
	// CPU time per image does not depend on what else the machine runs:
	// GOMAXPROCS / (cpu-ms/image) is the rate on an idle machine.
	b.ReportMetric(float64(cpu.Milliseconds())/float64(images), "cpu-ms/image")
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLoad is the per-image work without any file writes: the
// recipe's decode (1/8 scale for large JPEGs) and fit.
func BenchmarkLoad(b *testing.B) {
	data := photoJPEG(b, rand.New(rand.NewSource(2)), 1200, 1800)
	for _, fit := range []string{FitPad, FitCrop, FitStretch} {
		b.Run(fit, func(b *testing.B) {
			m := recipe.Default()
			m.Fit = fit
			rc, err := recipe.New(m, false)
			if err != nil {
				b.Fatal(err)
			}
			cpu0 := cpuTime()
			for i := 0; i < b.N; i++ {
				if _, _, err := rc.Load(data, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/float64(b.N), "cpu-ms/op")
		})
	}
}
