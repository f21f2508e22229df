// Command curatebench measures curation (BENCHMARKS.md, section curate):
//
//	go run ./curate/internal/curatebench -mode quality   # pair precision/recall/F1 at pHash thresholds 0..12
//	go run ./curate/internal/curatebench -mode speed     # validate+hash images/s vs Python imagehash
//	go run ./curate/internal/curatebench -mode scale     # 1,000,000 hashes, all pairs within 8
//	go run ./curate/internal/curatebench -mode real      # real images (scripts/realbench.sh): chara vs reference pHash
//	go run ./curate/internal/curatebench -mode realspeed # only the speed part of real
package main

import (
	"context"
	"flag"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/chara-dev/chara/curate"
	"github.com/chara-dev/chara/curate/internal/realbench"
	"github.com/chara-dev/chara/curate/internal/synth"
	"github.com/chara-dev/chara/curate/phashindex"
)

func main() {
	mode := flag.String("mode", "quality", "quality, speed or scale")
	n := flag.Int("n", 1_000_000, "scale: number of hashes")
	chars := flag.Int("chars", 30, "quality: characters (3 poses each)")
	py := flag.String("python", "/usr/bin/python3", "speed, real: Debian python3 with python3-pil and python3-scipy, for the reference")
	dir := flag.String("dir", realbench.DefaultDir(), "real: the benchmark built by scripts/realbench.sh")
	sweep := flag.String("sweep", "", "real: also chara at these pHash thresholds (comma separated)")
	limits := flag.String("limits", "", "real: also chara at these limits: pHash,dHash,colour,aspect,fine;... (negative: off)")
	diag := flag.Bool("diag", false, "real: count the wrong pairs of the defaults by set and operation")
	flag.Parse()
	var err error
	switch *mode {
	case "quality":
		err = quality(*chars)
	case "speed":
		err = speed(*py)
	case "scale":
		err = scale(*n)
	case "realspeed":
		var b *realbench.Bench
		if b, err = realbench.Load(*dir); err == nil {
			err = realSpeed(*py, b)
		}
	case "real":
		var ts []int
		for _, f := range strings.FieldsFunc(*sweep, func(r rune) bool { return r == ',' }) {
			t, perr := strconv.Atoi(f)
			if perr != nil {
				err = fmt.Errorf("-sweep %q: %w", *sweep, perr)
				break
			}
			ts = append(ts, t)
		}
		var ls []curate.Limits
		for _, f := range strings.FieldsFunc(*limits, func(r rune) bool { return r == ';' }) {
			l := curate.Limits{Mirror: true}
			if _, perr := fmt.Sscanf(f, "%d,%d,%g,%g,%g", &l.PHash, &l.DHash, &l.Color, &l.Aspect, &l.Fine); perr != nil {
				err = fmt.Errorf("-limits %q: %w", f, perr)
				break
			}
			ls = append(ls, l)
		}
		if err == nil {
			err = real(*dir, *py, ts, ls, *diag)
		}
	default:
		err = fmt.Errorf("unknown mode %q", *mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "curatebench:", err)
		os.Exit(1)
	}
}

type item struct {
	family int // original it derives from; copies share it
	kind   string
	fp     curate.Fingerprint
}

func dist(a, b *curate.Fingerprint) int {
	d := bits.OnesCount64(a.PHash ^ b.PHash)
	d = min(d, bits.OnesCount64(a.PHashFlip^b.PHash), bits.OnesCount64(a.PHash^b.PHashFlip))
	return d
}

// quality builds chars characters x 3 poses (poses of one character are the
// hard negatives), and for each original: a half-size PNG, a JPEG at
// quality 60, 4 % and 8 % crops, a mirror image and a recoloured copy.
func quality(chars int) error {
	var items []item
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for c := 0; c < chars; c++ {
		for p := 0; p < 3; p++ {
			wg.Add(1)
			sem <- struct{}{}
			go func(c, p int) {
				defer wg.Done()
				defer func() { <-sem }()
				fam := c*3 + p
				w, h := 600, 800
				if p == 1 {
					w, h = 800, 600
				}
				orig := synth.Picture(uint64(c+1), uint64(p+1), w, h)
				copies := []struct {
					kind string
					b    []byte
				}{
					{"original", synth.JPEG(orig, 92)},
					{"resized", synth.PNG(synth.Resize(orig, w/2, h/2))},
					{"jpeg-q60", synth.JPEG(orig, 60)},
					{"crop-4%", synth.JPEG(synth.Crop(orig, 0.04), 90)},
					{"crop-8%", synth.JPEG(synth.Crop(orig, 0.08), 90)},
					{"flipped", synth.JPEG(synth.FlipH(orig), 90)},
					{"recoloured", synth.JPEG(synth.Recolor(orig, 0.2), 90)},
				}
				var local []item
				for _, cp := range copies {
					local = append(local, item{family: fam, kind: cp.kind, fp: curate.Analyze(cp.b, 1<<30)})
				}
				mu.Lock()
				items = append(items, local...)
				mu.Unlock()
			}(c, p)
		}
	}
	wg.Wait()
	sort.Slice(items, func(i, j int) bool {
		if items[i].family != items[j].family {
			return items[i].family < items[j].family
		}
		return items[i].kind < items[j].kind
	})
	n := len(items)
	fmt.Printf("%d images: %d characters x 3 poses x 7 (original, resized, jpeg-q60, crop-4%%, crop-8%%, flipped, recoloured)\n", n, chars)
	// Hardest negatives: the closest pair of different images of one character.
	hist := map[int]int{}
	for i := 0; i < n; i++ {
		for j := i + 1; j < n; j++ {
			if items[i].family != items[j].family && items[i].family/3 == items[j].family/3 {
				hist[dist(&items[i].fp, &items[j].fp)]++
			}
		}
	}
	var hk []string
	for d := 0; d <= 24; d++ {
		if hist[d] > 0 {
			hk = append(hk, fmt.Sprintf("%d:%d", d, hist[d]))
		}
	}
	fmt.Printf("hard negatives (same character, different image) at distance <= 24: %s\n", strings.Join(hk, " "))
	fmt.Println("| threshold | TP | FP | FN | precision | recall | F1 | recall by kind |")
	fmt.Println("|---:|---:|---:|---:|---:|---:|---:|---|")
	bestT, bestF1 := 0, -1.0
	for t := 0; t <= 16; t++ {
		var tp, fp, fn int
		missed := map[string]int{}
		total := map[string]int{}
		for i := 0; i < n; i++ {
			for j := i + 1; j < n; j++ {
				same := items[i].family == items[j].family
				hit := dist(&items[i].fp, &items[j].fp) <= t
				if same && (items[i].kind == "original" || items[j].kind == "original") {
					k := items[i].kind
					if k == "original" {
						k = items[j].kind
					}
					total[k]++
					if !hit {
						missed[k]++
					}
				}
				switch {
				case same && hit:
					tp++
				case same:
					fn++
				case hit:
					fp++
				}
			}
		}
		p := float64(tp) / float64(max(tp+fp, 1))
		r := float64(tp) / float64(max(tp+fn, 1))
		f1 := 0.0
		if p+r > 0 {
			f1 = 2 * p * r / (p + r)
		}
		if f1 > bestF1 && t <= 12 {
			bestT, bestF1 = t, f1
		}
		var kinds []string
		for k, tot := range total {
			kinds = append(kinds, fmt.Sprintf("%s %.2f", k, float64(tot-missed[k])/float64(tot)))
		}
		sort.Strings(kinds)
		fmt.Printf("| %d | %d | %d | %d | %.3f | %.3f | %.3f | %s |\n", t, tp, fp, fn, p, r, f1, strings.Join(kinds, ", "))
	}
	fmt.Printf("best F1 in 0..12: %.3f at threshold %d\n", bestF1, bestT)
	return nil
}

// speed writes the two sets to a temp dir and times curate.Analyze (file
// read + sha256 + validation + pHash + mirrored pHash + dHash + statistics)
// with 1 and with GOMAXPROCS workers, then the Python reference on the same
// files.
func speed(py string) error {
	dir, err := os.MkdirTemp("", "curatebench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var jpegs, icons []string
	for i := 0; i < 40; i++ {
		p := filepath.Join(dir, fmt.Sprintf("ill%03d.jpg", i))
		if err := os.WriteFile(p, synth.JPEG(synth.Picture(uint64(i), 1, 1200, 1800), 90), 0o644); err != nil {
			return err
		}
		jpegs = append(jpegs, p)
	}
	for i := 0; i < 400; i++ {
		p := filepath.Join(dir, fmt.Sprintf("icon%03d.png", i))
		if err := os.WriteFile(p, synth.PNG(synth.Picture(uint64(i), 7, 64, 64)), 0o644); err != nil {
			return err
		}
		icons = append(icons, p)
	}
	fmt.Printf("GOMAXPROCS %d, %s\n", runtime.GOMAXPROCS(0), runtime.Version())
	fmt.Println("| set | chara 1 worker | chara all workers | imagehash (Python) | ratio 1 worker | ratio all |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, set := range []struct {
		name  string
		files []string
		reps  int
	}{{"1200x1800 JPEG q90", jpegs, 3}, {"64x64 PNG icon", icons, 3}} {
		one := goRate(set.files, 1, set.reps)
		all := goRate(set.files, runtime.GOMAXPROCS(0), set.reps)
		ref, err := pyRate(py, set.files, set.reps)
		if err != nil {
			return err
		}
		fmt.Printf("| %s | %.1f img/s | %.1f img/s | %.1f img/s | %.2fx | %.2fx |\n", set.name, one, all, ref, one/ref, all/ref)
	}
	return nil
}

func goRate(files []string, workers, reps int) float64 {
	best := 0.0
	for r := 0; r < reps; r++ {
		start := time.Now()
		var wg sync.WaitGroup
		next := make(chan string)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for f := range next {
					b, err := os.ReadFile(f)
					if err != nil {
						panic(err)
					}
					if fp := curate.Analyze(b, 40_000_000); fp.Invalid != "" {
						panic(fp.Detail)
					}
				}
			}()
		}
		for _, f := range files {
			next <- f
		}
		close(next)
		wg.Wait()
		best = max(best, float64(len(files))/time.Since(start).Seconds())
	}
	return best
}

func pyRate(py string, files []string, reps int) (float64, error) {
	best := 0.0
	for r := 0; r < reps; r++ {
		out, err := exec.Command(py, append([]string{"curate/testdata/imagehash_ref.py"}, files...)...).CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("reference: %v: %s", err, out)
		}
		var n int
		var secs, rate float64
		if _, err := fmt.Sscanf(string(out), "%d images in %f s: %f images/s", &n, &secs, &rate); err != nil {
			return 0, fmt.Errorf("reference output %q: %v", out, err)
		}
		best = max(best, rate)
	}
	return best, nil
}

// scale plants near pairs among n random hashes and checks that the index
// finds every one of them.
func scale(n int) error {
	rng := rand.New(rand.NewPCG(42, 42))
	hs := make([]uint64, n)
	for i := range hs {
		hs[i] = rng.Uint64()
	}
	type planted struct{ i, j int }
	var plant []planted
	for k := 0; k < n/20; k++ { // 5 % of hashes get a near copy at distance 0..8
		i, j := rng.IntN(n), rng.IntN(n)
		if i == j {
			continue
		}
		h := hs[i]
		for _, b := range rng.Perm(64)[:rng.IntN(9)] {
			h ^= 1 << b
		}
		hs[j] = h
		plant = append(plant, planted{min(i, j), max(i, j)})
	}
	runtime.GC()
	start := time.Now()
	ix, err := phashindex.New(hs, 8)
	if err != nil {
		return err
	}
	built := time.Since(start)
	pairs, err := ix.Pairs(context.Background(), 0)
	if err != nil {
		return err
	}
	total := time.Since(start)
	found := map[[2]int32]bool{}
	for _, p := range pairs {
		found[[2]int32{p.I, p.J}] = true
	}
	missed := 0
	for _, p := range plant {
		// a later plant may have overwritten one side: check the distance
		if bits.OnesCount64(hs[p.i]^hs[p.j]) <= 8 && !found[[2]int32{int32(p.i), int32(p.j)}] {
			missed++
		}
	}
	// every reported pair is really within 8
	for _, p := range pairs {
		if bits.OnesCount64(hs[p.I]^hs[p.J]) > 8 {
			return fmt.Errorf("false pair %v", p)
		}
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("%d hashes, %d planted pairs, %d pairs within 8 found, %d planted pairs missed\n", n, len(plant), len(pairs), missed)
	fmt.Printf("build %.2f s, build+search %.2f s, max RSS %.0f MB, GOMAXPROCS %d\n",
		built.Seconds(), total.Seconds(), float64(ru.Maxrss)/1024, runtime.GOMAXPROCS(0))
	if missed > 0 {
		return fmt.Errorf("%d planted pairs missed", missed)
	}
	return nil
}
