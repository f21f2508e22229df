// Command scrapebench measures `chara scrape` against gallery-dl on the same
// local Danbooru-shaped site, side by side in one run (BENCHMARKS.md,
// "Performance (issue 19)"):
//
//	go run ./scrape/internal/scrapebench -chara bin/chara [-posts 300] [-pairs 5] [-baseline OLD/chara] [-gallery-dl gallery-dl]
//
// scripts/bench-scrape-vs-gallerydl.sh runs it with bin/chara.
//
// The site is the demo's (internal/demosite: the fake booru of
// internal/booru speaking Danbooru's /posts.json, with the demo corpus's
// planted near-duplicates, broken files and off-topic pictures) with one
// character and -posts posts, served from this process on 127.0.0.1. Each
// round runs every tool once as a child process, each into a fresh
// directory, with no delay between requests, each tool first in turn
// (with two tools: alternating pairs). Both list the same tag with 200
// posts a page. -baseline adds another chara binary (the code before a
// change). It prints every wall time and peak RSS (GNU time's %M, where
// /usr/bin/time exists), the medians and the ratio of the medians
// (gallery-dl's over chara's: at or above 1, chara is at least as fast),
// and what each saved: file counts, which files (by content) only one of
// them has, and what both saved that does not decode.
//
// Without gallery-dl it says so and exits 0 (Debian: apt-get install
// gallery-dl, or scripts/deps.sh bench).
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"image"
	_ "image/gif"  // Decode
	_ "image/jpeg" // Decode
	_ "image/png"  // Decode
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/chara-dev/chara/internal/demosite"
	"github.com/chara-dev/chara/internal/imageio"
	"github.com/chara-dev/chara/internal/synth"
)

func main() {
	chara := flag.String("chara", "bin/chara", "the chara binary")
	gdl := flag.String("gallery-dl", "gallery-dl", "the gallery-dl command")
	posts := flag.Int("posts", 300, "posts on the site (one character)")
	pairs := flag.Int("pairs", 5, "rounds, each tool once per round, each first in turn (alternating pairs without -baseline)")
	seed := flag.Int64("seed", 1, "seed of the generated site")
	keep := flag.String("keep", "", "keep the last pair's output in this directory (default: a temp dir, removed)")
	baseline := flag.String("baseline", "", "another chara binary (the code before a change) run in each round as \"chara-baseline\"")
	only := flag.String("only", "", "run only this tool (chara or gallery-dl), pairs times: for profiling")
	serve := flag.String("serve", "", "only serve the site and write a chara workspace for it in this directory, until interrupted: for profiling")
	flag.Parse()
	if *serve != "" {
		if err := serveOnly(*serve, *posts, *seed); err != nil {
			fmt.Fprintln(os.Stderr, "scrapebench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*chara, *baseline, *gdl, *posts, *pairs, *seed, *keep, *only); err != nil {
		fmt.Fprintln(os.Stderr, "scrapebench:", err)
		os.Exit(1)
	}
}

func run(charaBin, baseline, gdl string, posts, pairs int, seed int64, keep, only string) error {
	if only != "chara" {
		p, err := exec.LookPath(gdl)
		if err != nil {
			fmt.Printf("scrapebench: %s not found (Debian: apt-get install gallery-dl); skipping the comparison\n", gdl)
			return nil
		}
		gdl = p
	}
	if only != "gallery-dl" {
		p, err := filepath.Abs(charaBin)
		if err != nil {
			return err
		}
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("chara binary: %w (make build)", err)
		}
		charaBin = p
	}
	if baseline != "" {
		p, err := filepath.Abs(baseline)
		if err != nil {
			return err
		}
		baseline = p
	}
	ctx := context.Background()
	ch := synth.Characters()[0]
	site := demosite.New(seed, posts, demosite.Characters(ch))
	base, stop, err := site.Start(ctx)
	if err != nil {
		return err
	}
	defer stop()
	root := keep
	if root == "" {
		if root, err = os.MkdirTemp("", "scrapebench-"); err != nil {
			return err
		}
		defer os.RemoveAll(root)
	} else if err := os.MkdirAll(root, 0o755); err != nil {
		return err
	}
	fmt.Printf("site %s: %d posts tagged %s (demo corpus, seed %d); output under %s\n", base, posts, ch.Tag, seed, root)

	tools := map[string]func(dir string) (time.Duration, error){
		"chara":      func(dir string) (time.Duration, error) { return runChara(ctx, charaBin, dir, base, ch, posts) },
		"gallery-dl": func(dir string) (time.Duration, error) { return runGalleryDL(ctx, gdl, dir, base, ch.Tag) },
		"chara-baseline": func(dir string) (time.Duration, error) {
			return runChara(ctx, baseline, dir, base, ch, posts)
		},
	}
	names := []string{"chara", "gallery-dl"}
	if baseline != "" {
		names = append(names, "chara-baseline")
	}
	times, rss := map[string][]time.Duration{}, map[string][]time.Duration{}
	files := map[string]map[string]saved{} // tool -> sha256 -> file, of the last run
	for i := 0; i < pairs; i++ {
		// Each tool goes first in turn: with two, they alternate.
		order := append(append([]string(nil), names[i%len(names):]...), names[:i%len(names)]...)
		if only != "" {
			order = []string{only}
		}
		for _, tool := range order {
			dir := filepath.Join(root, tool)
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			el, err := tools[tool](dir)
			if err != nil {
				return fmt.Errorf("%s, pair %d: %w", tool, i+1, err)
			}
			got, err := images(dir)
			if err != nil {
				return err
			}
			times[tool] = append(times[tool], el)
			rss[tool] = append(rss[tool], time.Duration(lastRSS)) // KiB, sorted as durations
			files[tool] = got
			fmt.Printf("pair %d  %-14s  %6.3f s  %4d MiB  %d files, %d contents\n", i+1, tool, el.Seconds(), lastRSS>>10, count(got), len(got))
		}
	}
	med := map[string]time.Duration{}
	for _, tool := range names {
		if ts := times[tool]; len(ts) > 0 {
			med[tool] = median(ts)
			fmt.Printf("median %-14s %6.3f s, peak RSS %d MiB, over %d runs\n", tool, med[tool].Seconds(), int64(median(rss[tool]))>>10, len(ts))
		}
	}
	if only != "" {
		return nil
	}
	fmt.Printf("ratio (gallery-dl median / chara median): %.2fx\n", med["gallery-dl"].Seconds()/med["chara"].Seconds())
	if baseline != "" {
		fmt.Printf("ratio (gallery-dl median / chara-baseline median): %.2fx\n", med["gallery-dl"].Seconds()/med["chara-baseline"].Seconds())
		fmt.Printf("ratio (chara-baseline median / chara median): %.2fx\n", med["chara-baseline"].Seconds()/med["chara"].Seconds())
	}
	compare(files["chara"], files["gallery-dl"])
	return nil
}

// serveOnly serves the site and writes ws/chara.yaml for it until SIGINT
// or SIGTERM.
func serveOnly(ws string, posts int, seed int64) error {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	ch := synth.Characters()[0]
	base, stop, err := demosite.New(seed, posts, demosite.Characters(ch)).Start(ctx)
	if err != nil {
		return err
	}
	defer stop()
	if err := os.MkdirAll(ws, 0o755); err != nil {
		return err
	}
	if err := writeCharaConfig(ws, base, ch, posts); err != nil {
		return err
	}
	fmt.Printf("site %s; chara workspace %s\n", base, ws)
	fmt.Printf("gallery-dl --config-ignore --sleep-request 0 -D DIR 'Danbooru:%s/posts?tags=%s'\n", base, ch.Tag)
	<-ctx.Done()
	return nil
}

// runChara writes a workspace whose chara.yaml lists the site with no
// delay and no filter the site's posts could fail but content checks, and
// runs chara scrape in it.
func runChara(ctx context.Context, bin, ws, base string, ch synth.Character, posts int) (time.Duration, error) {
	if err := writeCharaConfig(ws, base, ch, posts); err != nil {
		return 0, err
	}
	return timed(ctx, ws, bin, "--workspace", ws, "scrape")
}

func writeCharaConfig(ws, base string, ch synth.Character, posts int) error {
	// delay: 1ms is chara's "none" (0 means the site's default, 1s for
	// Danbooru); ratings and sizes let every listed post through, as
	// gallery-dl does.
	cfg := fmt.Sprintf(`sources:
  demo:
    kind: danbooru
    url: %s
    delay: 1ms
scrape:
  candidates: %d
  min_width: 1
  min_height: 1
  ratings: [g, s, q, e]
classes:
  - name: %s
    queries:
      demo: %s
`, base, posts, ch.Name, ch.Tag)
	return os.WriteFile(filepath.Join(ws, "chara.yaml"), []byte(cfg), 0o644)
}

// runGalleryDL downloads the tag's posts into dir, the site given as a
// Danbooru instance ("Danbooru:<root>" prefix, gallery-dl's BaseExtractor),
// no sleep between requests, no user configuration.
func runGalleryDL(ctx context.Context, bin, dir, base, tag string) (time.Duration, error) {
	return timed(ctx, dir, bin, "--config-ignore", "--sleep-request", "0", "-D", dir,
		"Danbooru:"+base+"/posts?tags="+tag)
}

// lastRSS is the peak resident set of the last command timed, in KiB, as
// GNU time reports it (0 without /usr/bin/time). The child's own
// getrusage is no measure: a child started from this (large) process
// counts its parent's pages until it execs.
var lastRSS int64

func timed(ctx context.Context, dir, bin string, args ...string) (time.Duration, error) {
	name, rssFile := filepath.Base(bin), ""
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		rssFile = filepath.Join(os.TempDir(), fmt.Sprintf("scrapebench-rss-%d", os.Getpid()))
		defer os.Remove(rssFile)
		args = append([]string{"-f", "%M", "-o", rssFile, bin}, args...)
		bin = "/usr/bin/time"
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &out
	t0 := time.Now()
	err := cmd.Run()
	el := time.Since(t0)
	lastRSS = 0
	if b, rerr := os.ReadFile(rssFile); rssFile != "" && rerr == nil {
		lastRSS, _ = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	}
	if err != nil {
		return el, fmt.Errorf("%s: %w\n%s", name, err, tail(out.String(), 2000))
	}
	return el, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// saved is one file a tool kept: its path relative to the tool's
// directory, what its bytes are, and how many files of the tool have the
// same bytes.
type saved struct {
	name, kind string
	copies     int
}

// images lists the saved files under dir by content (sha256), leaving out
// chara's workspace files.
func images(dir string) (map[string]saved, error) {
	out := map[string]saved{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() && rel == ".chara" {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".") || rel == "chara.yaml" || strings.HasPrefix(rel, "archive.db") ||
			strings.HasSuffix(rel, ".jsonl") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		s := sha256.Sum256(b)
		k := hex.EncodeToString(s[:])
		f := out[k]
		if f.copies == 0 {
			f = saved{name: rel, kind: kind(b)}
		}
		f.copies++
		out[k] = f
		return nil
	})
	return out, err
}

// kind says what a file's bytes are: an image format, and whether it
// decodes, or what else.
func kind(b []byte) string {
	if len(b) == 0 {
		return "empty"
	}
	f := imageio.Sniff(b)
	if f == "" {
		head := strings.ToLower(strings.TrimSpace(string(b[:min(len(b), 64)])))
		if strings.HasPrefix(head, "<!doctype html") || strings.HasPrefix(head, "<html") {
			return "an HTML page"
		}
		return "not an image"
	}
	if _, _, err := image.Decode(bytes.NewReader(b)); err != nil {
		return fmt.Sprintf("%s that does not decode: %v", f, err)
	}
	return string(f)
}

func count(fs map[string]saved) int {
	n := 0
	for _, f := range fs {
		n += f.copies
	}
	return n
}

// compare prints which contents only one tool saved, and what they are,
// and what both saved that is not a whole image.
func compare(chara, gdl map[string]saved) {
	both := 0
	var onlyC, onlyG []saved
	for s, f := range chara {
		if _, ok := gdl[s]; ok {
			both++
		} else {
			onlyC = append(onlyC, f)
		}
	}
	for s, f := range gdl {
		if _, ok := chara[s]; !ok {
			onlyG = append(onlyG, f)
		}
	}
	byName := func(fs []saved) { sort.Slice(fs, func(i, j int) bool { return fs[i].name < fs[j].name }) }
	byName(onlyC)
	byName(onlyG)
	fmt.Printf("saved by both (same content): %d; only by chara: %d; only by gallery-dl: %d\n", both, len(onlyC), len(onlyG))
	for _, f := range onlyC {
		fmt.Printf("  only chara:      %s (%s)\n", f.name, f.kind)
	}
	for _, f := range onlyG {
		fmt.Printf("  only gallery-dl: %s (%s)\n", f.name, f.kind)
	}
	for tool, fs := range map[string]map[string]saved{"chara": chara, "gallery-dl": gdl} {
		var same []string
		for _, f := range fs {
			if f.copies > 1 {
				same = append(same, fmt.Sprintf("%s x%d", f.name, f.copies))
			}
		}
		sort.Strings(same)
		for _, n := range same {
			fmt.Printf("  %s saved the same bytes under several names: %s\n", tool, n)
		}
	}
	var bad []string
	for s, f := range chara {
		if _, ok := gdl[s]; ok && f.kind != "jpeg" && f.kind != "png" && f.kind != "gif" && f.kind != "webp" {
			bad = append(bad, f.name+" ("+f.kind+")")
		}
	}
	sort.Strings(bad)
	for _, n := range bad {
		fmt.Printf("  both saved: %s\n", n)
	}
}

func median(ts []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ts...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
