package scrape

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/chara-dev/chara/internal/booru"
	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/internal/progress"
	"github.com/chara-dev/chara/internal/testutil"
	"github.com/chara-dev/chara/manifests"
)

// redisServer is the tests' redis-server (internal/testutil), without
// persistence: stop and start lose everything.
type redisServer struct {
	*testutil.RedisServer
	url string
}

func newRedisServer(t testing.TB) *redisServer {
	r := testutil.StartRedis(t)
	return &redisServer{RedisServer: r, url: r.URL}
}

func (r *redisServer) start(t testing.TB) { r.Start(t) }

// stop kills the server (SIGKILL: nothing saved).
func (r *redisServer) stop() { r.Kill() }

func (r *redisServer) client() *redis.Client { return r.Client() }

// digest is Redis's digest of the whole dataset: it changes with any write.
func (r *redisServer) digest(t *testing.T) string {
	t.Helper()
	rdb := r.client()
	defer rdb.Close()
	d, err := rdb.Do(context.Background(), "DEBUG", "DIGEST").Text()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// workerSpec is one scrape worker of a test fleet.
type workerSpec struct {
	WS, Site, Redis, Job, Gate, Out string
	Classes                         map[string]string // class name -> danbooru query
	Candidates, Parallelism         int
	Lease, Block                    time.Duration
	DryRun, NoRedis                 bool
	OwnSite                         bool // no fleet site budget (benchmark only)
}

func (w workerSpec) options() []Option {
	names := make([]string, 0, len(w.Classes))
	for n := range w.Classes {
		names = append(names, n)
	}
	sort.Strings(names)
	var classes []Class
	for _, n := range names {
		classes = append(classes, Class{Name: n, Queries: map[string]string{"danbooru": w.Classes[n]}})
	}
	opts := []Option{
		WithSources(Source{Name: "danbooru", Kind: "danbooru", URL: w.Site, Limit: 10, Parallelism: w.Parallelism}),
		WithClasses(classes...), WithCandidates(w.Candidates), WithDelay(0), WithRetry(fastRetry()),
		WithFilters(testFilters()), WithDryRun(w.DryRun),
	}
	if !w.NoRedis {
		opts = append(opts, WithRedis(w.Redis), WithRedisJob(w.Job), WithRedisLease(w.Lease), WithRedisBlock(w.Block),
			func(o *options) { o.redisT.ownSite = w.OwnSite })
	}
	return opts
}

// TestRedisWorkerProcess is not a test: the fleet tests re-execute the
// test binary with CHARA_REDIS_WORKER set to a workerSpec to run a worker
// in its own process (so that it can be killed).
func TestRedisWorkerProcess(t *testing.T) {
	specJSON := os.Getenv("CHARA_REDIS_WORKER")
	if specJSON == "" {
		t.Skip("helper process for the Redis fleet tests")
	}
	var w workerSpec
	if err := json.Unmarshal([]byte(specJSON), &w); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for w.Gate != "" {
		if _, err := os.Stat(w.Gate); err == nil {
			break
		}
		time.Sleep(2 * time.Millisecond)
	}
	logf, err := os.Create(w.Out + ".log")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer logf.Close()
	sum, err := New(w.WS, append(w.options(), WithReporter(progress.Lines(logf, time.Hour)))...).Run(context.Background())
	b, _ := json.Marshal(sum)
	_ = os.WriteFile(w.Out, b, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	os.Exit(0)
}

func startWorker(t *testing.T, w workerSpec) *exec.Cmd {
	t.Helper()
	b, _ := json.Marshal(w)
	return testutil.StartHelper(t, "TestRedisWorkerProcess", "CHARA_REDIS_WORKER="+string(b))
}

func readSummary(t *testing.T, path string) *Summary {
	t.Helper()
	var s Summary
	b, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(b, &s) != nil {
		t.Fatalf("summary %s: %v", path, err)
	}
	return &s
}

// fleetFiles checks every workspace's raw/<slug> and returns, per slug,
// how often each sha256 occurs across the workspaces.
func fleetFiles(t *testing.T, wss []string, slugs ...string) map[string]map[string]int {
	t.Helper()
	out := map[string]map[string]int{}
	for _, slug := range slugs {
		out[slug] = map[string]int{}
		for _, ws := range wss {
			for _, r := range checkRaw(t, ws, slug) {
				out[slug][r.SHA256]++
			}
		}
	}
	return out
}

func indexTotal(wss []string, slugs ...string) int {
	n := 0
	for _, ws := range wss {
		for _, s := range slugs {
			n += indexLines(manifests.RawIndexPath(ws, s))
		}
	}
	return n
}

func waitFor(t *testing.T, what string, d time.Duration, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(3 * time.Millisecond)
	}
}

// checkExact: each class has exactly target distinct files across the
// workspaces, none of them in two workspaces.
func checkExact(t *testing.T, files map[string]map[string]int, target int) {
	t.Helper()
	for slug, shas := range files {
		if len(shas) != target {
			t.Errorf("%s: %d distinct files in the fleet, want exactly %d", slug, len(shas), target)
		}
		for sha, n := range shas {
			if n > 1 {
				t.Errorf("%s: %s in %d workspaces", slug, sha, n)
			}
		}
	}
}

func TestRedisFleetSurvivesKillAndRedisRestart(t *testing.T) {
	rs := newRedisServer(t)
	const perClass, target, par = 40, 24, 2
	posts := append(makePosts(1, perClass, "nakano_miku"), makePosts(101, perClass, "nakano_nino")...)
	b := booru.New(posts, booru.WithFaults(booru.Fault{Kind: booru.Slow, On: booru.Files, Delay: 30 * time.Millisecond}))
	ts := start(t, b)
	dir := t.TempDir()
	gate := filepath.Join(dir, "go")
	base := workerSpec{Site: ts.URL, Redis: rs.url, Job: "fleet", Gate: gate, Candidates: target, Parallelism: par,
		Lease: 600 * time.Millisecond, Block: 150 * time.Millisecond,
		Classes: map[string]string{"Nakano Miku": "nakano_miku", "Nakano Nino": "nakano_nino"}}
	slugs := []string{"nakano_miku", "nakano_nino"}
	var wss []string
	var cmds []*exec.Cmd
	var outs []string
	for i := 0; i < 3; i++ {
		w := base
		w.WS = filepath.Join(dir, fmt.Sprintf("ws%d", i))
		w.Out = filepath.Join(dir, fmt.Sprintf("sum%d.json", i))
		wss, outs = append(wss, w.WS), append(outs, w.Out)
		cmds = append(cmds, startWorker(t, w))
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	// Redis dies and comes back empty while the fleet works.
	waitFor(t, "8 files", 30*time.Second, func() bool { return indexTotal(wss, slugs...) >= 8 })
	rs.stop()
	time.Sleep(300 * time.Millisecond)
	rs.start(t)
	// Then one worker is killed, and started again on its workspace.
	waitFor(t, "20 files", 30*time.Second, func() bool { return indexTotal(wss, slugs...) >= 20 })
	if err := cmds[0].Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if err := cmds[0].Wait(); err == nil {
		t.Fatal("the killed worker exited 0")
	}
	restarted := base
	restarted.WS, restarted.Out, restarted.Gate = wss[0], outs[0], ""
	cmds[0] = startWorker(t, restarted)
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
	}
	checkExact(t, fleetFiles(t, wss, slugs...), target)
	restarts := 0
	for _, out := range outs {
		b, _ := os.ReadFile(out + ".log")
		if strings.Contains(string(b), "the server restarted") {
			restarts++
		}
	}
	if t.Failed() {
		for _, out := range outs {
			b, _ := os.ReadFile(out + ".log")
			t.Logf("%s:\n%s", out, b)
		}
	}
	if restarts < 2 { // the restarted worker 0 joined a new server anyway
		t.Errorf("%d workers noticed the Redis restart, want 2", restarts)
	}
	for i, out := range outs {
		for _, c := range readSummary(t, out).Classes {
			for _, s := range c.Sources {
				if s.Failed != 0 || s.Error != "" {
					t.Errorf("worker %d, %s: %d failed downloads (%v), error %q: a Redis outage must not count", i, c.Class, s.Failed, s.Failures, s.Error)
				}
			}
		}
	}
	// Only the files in flight in the killed worker may be asked for twice,
	// and none of them was completed twice.
	twice := 0
	for id, n := range b.FileRequests() {
		if n > 2 {
			t.Errorf("post %d fetched %d times", id, n)
		}
		if n == 2 {
			twice++
		}
	}
	if twice > par {
		t.Errorf("%d posts fetched twice, want at most %d (in flight at the kill)", twice, par)
	}

	// One dataset: the fleet's files collected into one workspace.
	into := filepath.Join(dir, "all")
	cs, err := Collect(context.Background(), into, wss)
	if err != nil {
		t.Fatal(err)
	}
	got := fleetFiles(t, []string{into}, slugs...)
	checkExact(t, got, target)
	if cs.Added != 2*target || cs.Duplicates != 0 {
		t.Errorf("collect: %+v, want %d added, no duplicates", cs, 2*target)
	}
	checkCollectedArchive(t, into, slugs...)
}

// checkCollectedArchive: every collected file's post, md5 and sha256 are
// in the archive of the collecting workspace.
func checkCollectedArchive(t *testing.T, ws string, slugs ...string) {
	t.Helper()
	arc, err := OpenArchive(ArchivePath(ws))
	if err != nil {
		t.Fatal(err)
	}
	defer arc.Close()
	for _, slug := range slugs {
		recs, _ := manifests.ReadRawIndex(manifests.RawIndexPath(ws, slug))
		for _, r := range recs {
			keys := []string{MD5Key(r.MD5), SHA256Key(r.SHA256)}
			if r.PostID != "" {
				keys = append(keys, PostKey(r.Source, r.PostID))
			}
			for _, k := range keys {
				if st, ok, err := arc.Status(context.Background(), k); err != nil || !ok || st != StatusDownloaded {
					t.Errorf("%s: archive has %q %v %v, want downloaded", k, st, ok, err)
				}
			}
			if r.Source != "recovered" && (r.Rating == "" || len(r.Tags) == 0) {
				t.Errorf("%s: record lost its rating or tags: %+v", r.SHA256, r)
			}
		}
	}
}

func runWorkers(t testing.TB, ws ...workerSpec) []*Summary {
	t.Helper()
	sums := make([]*Summary, len(ws))
	errs := make([]error, len(ws))
	var wg sync.WaitGroup
	for i, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			sums[i], errs[i] = New(w.WS, w.options()...).Run(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
	}
	return sums
}

func TestRedisJoiningWorkspacePublishesWhatItHas(t *testing.T) {
	rs := newRedisServer(t)
	b := booru.New(makePosts(1, 40, "nakano_miku"), booru.WithFaults(booru.Fault{Kind: booru.Slow, On: booru.Files, Delay: 10 * time.Millisecond}))
	ts := start(t, b)
	dir := t.TempDir()
	base := workerSpec{Site: ts.URL, Redis: rs.url, Job: "join", Candidates: 30, Parallelism: 2,
		Lease: 600 * time.Millisecond, Block: 100 * time.Millisecond, Classes: map[string]string{"Nakano Miku": "nakano_miku"}}
	j := base
	j.WS, j.NoRedis, j.Candidates = filepath.Join(dir, "joiner"), true, 10
	runWorkers(t, j)
	had := map[string]bool{}
	for _, r := range checkRaw(t, j.WS, "nakano_miku") {
		had[r.PostID] = true
	}
	if len(had) != 10 {
		t.Fatalf("the joiner has %d files before joining, want 10", len(had))
	}
	a, c := base, base
	a.WS, c.WS, j.NoRedis, j.Candidates = filepath.Join(dir, "a"), filepath.Join(dir, "c"), false, 30
	runWorkers(t, a, c, j)
	checkExact(t, fleetFiles(t, []string{a.WS, c.WS, j.WS}, "nakano_miku"), 30)
	for id, n := range b.FileRequests() {
		if n != 1 {
			t.Errorf("post %d fetched %d times (joiner had it: %v)", id, n, had[strconv.Itoa(id)])
		}
	}
	if n := totalFileRequests(b); n != 30 {
		t.Errorf("%d file requests, want 30", n)
	}
}

func TestRedisDryRunBetweenRealRunsReadsOnly(t *testing.T) {
	rs := newRedisServer(t)
	b := booru.New(makePosts(1, 40, "nakano_miku"))
	ts := start(t, b)
	dir := t.TempDir()
	w := workerSpec{Site: ts.URL, Redis: rs.url, Job: "dry", Candidates: 15, Parallelism: 2,
		Lease: 600 * time.Millisecond, Block: 100 * time.Millisecond, Classes: map[string]string{"Nakano Miku": "nakano_miku"}}
	w.WS = filepath.Join(dir, "a")
	runWorkers(t, w)
	before, files := rs.digest(t), totalFileRequests(b)

	d := w
	d.WS, d.DryRun, d.Candidates = filepath.Join(dir, "b"), true, 30
	sums := runWorkers(t, d)
	if after := rs.digest(t); after != before {
		t.Errorf("the dry run changed Redis (digest %s -> %s)", before, after)
	}
	if n := totalFileRequests(b); n != files {
		t.Errorf("the dry run fetched %d files", n-files)
	}
	if _, err := os.Stat(d.WS); err == nil {
		t.Errorf("the dry run created its workspace")
	}
	planned := map[string]bool{}
	for _, p := range src0(t, sums[0]).Planned {
		planned[p.PostID] = true
	}
	a := map[string]bool{}
	for _, r := range checkRaw(t, w.WS, "nakano_miku") {
		a[r.PostID] = true
		if planned[r.PostID] {
			t.Errorf("the dry run plans post %s, which the job has", r.PostID)
		}
	}
	if len(planned) != 15 {
		t.Errorf("the dry run plans %d files, want the 15 the job lacks", len(planned))
	}

	d.DryRun = false
	runWorkers(t, d)
	checkExact(t, fleetFiles(t, []string{w.WS, d.WS}, "nakano_miku"), 30)
	for id, n := range b.FileRequests() {
		if n != 1 {
			t.Errorf("post %d fetched %d times", id, n)
		}
	}
}

// A lister that stalls past its lease can neither add its page nor move
// the cursor: the fence token it holds is stale.
func TestRedisListingLeaseIsFenced(t *testing.T) {
	rs := newRedisServer(t)
	ctx := context.Background()
	arc, err := OpenArchive(":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer arc.Close()
	o := defaultOptions()
	o.redisURL, o.redisNS, o.redisT.lease = rs.url, JobNamespace("fence"), 300*time.Millisecond
	ws := t.TempDir()
	s1, err := newRedisStore(ctx, &o, newLocalStore(arc), ws)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.close()
	s2, err := newRedisStore(ctx, &o, newLocalStore(arc), ws)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.close()
	f1 := s1.frontier("c", "src", "q", nil, nil).(*redisFrontier)
	f2 := s2.frontier("c", "src", "q", nil, nil).(*redisFrontier)
	fence1, err := f1.lease(ctx)
	if err != nil || fence1 == "" {
		t.Fatalf("first lease: %q %v", fence1, err)
	}
	if fence, _ := f2.lease(ctx); fence != "" {
		t.Fatalf("a second lister got the lease while it was held (fence %s)", fence)
	}
	time.Sleep(400 * time.Millisecond) // the first lister stalls past its lease
	fence2, err := f2.lease(ctx)
	if err != nil || fence2 == "" || fence2 == fence1 {
		t.Fatalf("lease after expiry: %q %v (first %q)", fence2, err, fence1)
	}
	keys := []string{f1.key + ":lease", f1.key + ":fence", f1.key + ":cursor", f1.key + ":end", f1.key + ":stream", f1.key + ":seen"}
	if n, err := appendScript.Run(ctx, s2.rdb, keys, s2.id, fence2, "", "page2", "0", `{"id":"1"}`).Int(); err != nil || n != 1 {
		t.Fatalf("the holder's append: %d %v", n, err)
	}
	if n, err := appendScript.Run(ctx, s1.rdb, keys, s1.id, fence1, "", "page2", "0", `{"id":"1"}`).Int(); err != nil || n != 0 {
		t.Fatalf("the stale lister's append: %d %v, want refused", n, err)
	}
	if n, _ := s1.rdb.XLen(ctx, f1.key+":stream").Result(); n != 1 {
		t.Errorf("%d candidates in the stream, want 1", n)
	}
	if c, _ := s1.rdb.Get(ctx, f1.key+":cursor").Result(); c != "page2" {
		t.Errorf("cursor %q, want page2", c)
	}
}

func TestRedisURLPasswordNeverShown(t *testing.T) {
	u := "redis://user:s3cret@127.0.0.1:1/0"
	if got := RedactURL(u); got != "redis://user:REDACTED@127.0.0.1:1/0" {
		t.Errorf("RedactURL: %s", got)
	}
	_, _, err := redisClient(context.Background(), u, 0, 0)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v", err)
	}
	_, _, err = redisClient(context.Background(), "redis://user:s3cret@[bad", 0, 0)
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v", err)
	}
}

func TestRedisSharedCrawlFetchesEachFileOnce(t *testing.T) {
	rs := newRedisServer(t)
	const total = 40
	b := booru.New(makePosts(1, total, "nakano_miku"),
		booru.WithFaults(booru.Fault{Kind: booru.Slow, On: booru.Files, Delay: 25 * time.Millisecond}))
	ts := start(t, b)
	dir := t.TempDir()
	gate := filepath.Join(dir, "go")
	base := workerSpec{Site: ts.URL, Redis: rs.url, Job: "once", Gate: gate, Candidates: 100, Parallelism: 2,
		Lease: 600 * time.Millisecond, Block: 100 * time.Millisecond, Classes: map[string]string{"Nakano Miku": "nakano_miku"}}
	var ws []workerSpec
	var cmds []*exec.Cmd
	for i := 0; i < 2; i++ {
		w := base
		w.WS, w.Out = filepath.Join(dir, fmt.Sprint("ws", i)), filepath.Join(dir, fmt.Sprint("sum", i))
		ws = append(ws, w)
		cmds = append(cmds, startWorker(t, w))
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("worker: %v", err)
		}
	}
	var downloaded []int
	for _, w := range ws {
		downloaded = append(downloaded, src0(t, readSummary(t, w.Out)).Downloaded)
	}
	for id, n := range b.FileRequests() {
		if n != 1 {
			t.Errorf("post %d fetched %d times", id, n)
		}
	}
	if n := totalFileRequests(b); n != total {
		t.Errorf("%d file requests, want %d", n, total)
	}
	// 4 full pages and the empty one that ends the listing, each listed once.
	if n := b.APIRequests(); n != 5 {
		t.Errorf("%d page requests, want 5", n)
	}
	checkExact(t, fleetFiles(t, []string{ws[0].WS, ws[1].WS}, "nakano_miku"), total)
	if downloaded[0]+downloaded[1] != total || downloaded[0] == 0 || downloaded[1] == 0 {
		t.Errorf("downloads %v: want %d in all, both processes taking part", downloaded, total)
	}
	// A rerun of either lists again from the newest posts (as a local run
	// does) and fetches nothing: every file is known to the job.
	before := b.APIRequests()
	sum := runWorkers(t, ws[0])[0]
	if s := src0(t, sum); s.Downloaded != 0 || totalFileRequests(b) != total || b.APIRequests() != before+5 {
		t.Errorf("rerun downloaded %d (file requests %d, pages +%d)", s.Downloaded, totalFileRequests(b), b.APIRequests()-before)
	}
}

// The fleet goes as fast as one worker: three workers of parallelism 3 keep
// at most the source's 3 file downloads in flight between them, and a 429
// with Retry-After seen by one of them holds every worker's requests.
func TestRedisFleetSharesTheSiteBudget(t *testing.T) {
	rs := newRedisServer(t)
	b := booru.New(makePosts(1, 40, "nakano_miku"), booru.WithFaults(
		booru.Fault{Kind: booru.RateLimit, On: booru.Files, PostIDs: []int{30}, Times: 1, RetryAfter: "1"},
		booru.Fault{Kind: booru.Slow, On: booru.Files, Delay: 20 * time.Millisecond}))
	ts := start(t, b)
	dir := t.TempDir()
	base := workerSpec{Site: ts.URL, Redis: rs.url, Job: "budget", Candidates: 40, Parallelism: 3,
		Lease: 600 * time.Millisecond, Block: 100 * time.Millisecond, Classes: map[string]string{"Nakano Miku": "nakano_miku"}}
	var ws []workerSpec
	for i := 0; i < 3; i++ {
		w := base
		w.WS = filepath.Join(dir, fmt.Sprint("ws", i))
		ws = append(ws, w)
	}
	runWorkers(t, ws...)
	checkExact(t, fleetFiles(t, []string{ws[0].WS, ws[1].WS, ws[2].WS}, "nakano_miku"), 40)
	// 3 file slots for the fleet, and at most one page being listed.
	if n := b.MaxConcurrent(); n > 4 {
		t.Errorf("%d requests at once, want at most the source's 3 files and a page", n)
	}
	times := b.RequestTimes()
	var gap time.Duration
	for i := 1; i < len(times); i++ {
		gap = max(gap, times[i].Sub(times[i-1]))
	}
	if gap < 900*time.Millisecond {
		t.Errorf("longest pause between requests %s: the fleet did not wait out the Retry-After of 1s", gap)
	}
	if n := b.FileRequests()[30]; n != 2 {
		t.Errorf("post 30 requested %d times, want 2 (429, then the file)", n)
	}
}

// Redis restarted from an old snapshot (persistence, but behind): the
// workers publish what they have, and nothing is fetched twice.
func TestRedisRestartFromStaleSnapshot(t *testing.T) {
	rs := newRedisServer(t)
	b := booru.New(makePosts(1, 40, "nakano_miku"), booru.WithFaults(booru.Fault{Kind: booru.Slow, On: booru.Files, Delay: 30 * time.Millisecond}))
	ts := start(t, b)
	dir := t.TempDir()
	gate := filepath.Join(dir, "go")
	base := workerSpec{Site: ts.URL, Redis: rs.url, Job: "snapshot", Gate: gate, Candidates: 30, Parallelism: 2,
		Lease: 600 * time.Millisecond, Block: 100 * time.Millisecond, Classes: map[string]string{"Nakano Miku": "nakano_miku"}}
	var wss []string
	var cmds []*exec.Cmd
	for i := 0; i < 2; i++ {
		w := base
		w.WS, w.Out = filepath.Join(dir, fmt.Sprint("ws", i)), filepath.Join(dir, fmt.Sprint("sum", i))
		wss = append(wss, w.WS)
		cmds = append(cmds, startWorker(t, w))
	}
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "6 files", 30*time.Second, func() bool { return indexTotal(wss, "nakano_miku") >= 6 })
	rdb := rs.client()
	if err := rdb.Save(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	rdb.Close()
	waitFor(t, "14 files", 30*time.Second, func() bool { return indexTotal(wss, "nakano_miku") >= 14 })
	rs.stop() // SIGKILL: the snapshot of 6 files is what comes back
	time.Sleep(200 * time.Millisecond)
	rs.start(t)
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
	}
	checkExact(t, fleetFiles(t, wss, "nakano_miku"), 30)
	for id, n := range b.FileRequests() {
		if n != 1 {
			t.Errorf("post %d fetched %d times", id, n)
		}
	}
}

func TestRedisSummaryShowsTheJobCount(t *testing.T) {
	rs := newRedisServer(t)
	b := booru.New(makePosts(1, 40, "nakano_miku"))
	ts := start(t, b)
	dir := t.TempDir()
	w := workerSpec{Site: ts.URL, Redis: rs.url, Job: "table", Candidates: 20, Parallelism: 2,
		Lease: 600 * time.Millisecond, Block: 100 * time.Millisecond, Classes: map[string]string{"Nakano Miku": "nakano_miku"}}
	a, c := w, w
	a.WS, c.WS = filepath.Join(dir, "a"), filepath.Join(dir, "c")
	sums := runWorkers(t, a, c)
	for _, s := range sums {
		if s.Classes[0].Shared != 20 {
			t.Errorf("summary: %+v, want the job's 20 files in shared", s.Classes[0])
		}
		var out strings.Builder
		if err := s.WriteTable(&out); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), "20/20 in the job") {
			t.Errorf("table:\n%s", out.String())
		}
	}
}

func TestDefaultJobNameFollowsSourcesAndClasses(t *testing.T) {
	mk := func(q string, extra bool) *config.Config {
		c := &config.Config{
			Sources: map[string]config.Source{"d": {Kind: "danbooru", URL: "https://d.example/"}, "g": {Kind: "gelbooru", URL: "https://g.example"}},
			Classes: []config.Class{{Name: "Nakano Miku", Queries: map[string]string{"d": q, "g": "nakano_miku"}}},
		}
		if extra {
			c.Classes = append(c.Classes, config.Class{Name: "Nakano Nino", Queries: map[string]string{"d": "nakano_nino"}})
		}
		c.Scrape.Candidates = 100
		return c
	}
	a := DefaultJobName(mk("nakano_miku solo", false))
	if err := CheckJobName(a); err != nil {
		t.Fatal(err)
	}
	b := mk("nakano_miku  solo", false) // the same query, spaced otherwise
	b.Scrape.Candidates = 500           // a new target continues the job
	if got := DefaultJobName(b); got != a {
		t.Errorf("same sources and classes: %s and %s", a, got)
	}
	if got := DefaultJobName(mk("nakano_miku", false)); got == a {
		t.Errorf("another query, same job %s", got)
	}
	if got := DefaultJobName(mk("nakano_miku solo", true)); got == a {
		t.Errorf("another class, same job %s", got)
	}
}

// A worker stopped by Ctrl-C hands its unfinished candidates over at once:
// the next worker need not wait two leases for them.
func TestRedisStoppedWorkerHandsOverItsCandidates(t *testing.T) {
	rs := newRedisServer(t)
	const total = 20 // every candidate is needed: the stopped worker's too
	b := booru.New(makePosts(1, total, "nakano_miku"), booru.WithFaults(booru.Fault{Kind: booru.Slow, On: booru.Files, Delay: 150 * time.Millisecond}))
	ts := start(t, b)
	dir := t.TempDir()
	w := workerSpec{Site: ts.URL, Redis: rs.url, Job: "handover", Candidates: total, Parallelism: 3,
		Lease: 3 * time.Second, Block: 100 * time.Millisecond, Classes: map[string]string{"Nakano Miku": "nakano_miku"}}
	a, c := w, w
	a.WS, c.WS = filepath.Join(dir, "a"), filepath.Join(dir, "c")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := New(a.WS, a.options()...).Run(ctx); done <- err }()
	waitFor(t, "3 files", 30*time.Second, func() bool { return indexLines(manifests.RawIndexPath(a.WS, "nakano_miku")) >= 3 })
	cancel() // Ctrl-C, with downloads in flight
	<-done
	t0 := time.Now()
	runWorkers(t, c)
	if d := time.Since(t0); d > 2*w.Lease-time.Second {
		t.Errorf("the next worker took %s: it waited for the stopped worker's candidates to go stale (2 leases: %s)", d.Round(time.Millisecond), 2*w.Lease)
	}
	checkExact(t, fleetFiles(t, []string{a.WS, c.WS}, "nakano_miku"), total)
	for id, n := range b.FileRequests() {
		if n > 2 {
			t.Errorf("post %d fetched %d times", id, n)
		}
	}
}
