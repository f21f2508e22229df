package scrape

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/atomicfile"
	"github.com/chara-dev/chara/internal/booru"
	"github.com/chara-dev/chara/internal/testutil"
	"github.com/chara-dev/chara/manifests"
)

// TestCommitGroupHelper is not a test: TestKillInsideCommitGroup runs it
// in a child process. It scrapes with a boundary hook that holds the
// first group commit's index append for a while (so that the next group
// gathers many files) and then SIGKILLs the process inside the second
// group: at its second rename (CHARA_GROUP_KILL=rename: one file renamed,
// the others still temp files, none indexed) or just after its index
// append (=append: files and index lines durable, no archive entry yet).
func TestCommitGroupHelper(t *testing.T) {
	mode := os.Getenv("CHARA_GROUP_KILL")
	if mode == "" {
		t.Skip("run by TestKillInsideCommitGroup")
	}
	var mu sync.Mutex
	groups, renames := 0, 0
	atomicfile.SetBoundaryHook(func(point string) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case strings.HasPrefix(point, "before rename "):
			renames++
			if mode == "rename" && groups == 1 && renames == 2 {
				os.WriteFile(os.Getenv("CHARA_GROUP_OUT"), []byte("rename"), 0o644)
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
		case strings.HasPrefix(point, "after append ") && renames > 0: // a group's first (one per line follows)
			groups++
			if mode == "append" && groups == 2 && renames >= 2 {
				os.WriteFile(os.Getenv("CHARA_GROUP_OUT"), []byte("append "+strconv.Itoa(renames)), 0o644)
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
				select {}
			}
			if groups == 1 {
				time.Sleep(300 * time.Millisecond) // the committer waits; downloads pile up
			}
			renames = 0
		}
	})
	cand, _ := strconv.Atoi(os.Getenv("CHARA_GROUP_CANDIDATES"))
	opts := baseOpts(Source{Kind: "danbooru", URL: os.Getenv("CHARA_GROUP_URL"), Limit: 50, Parallelism: 4}, "nakano_miku", cand)
	if _, err := New(os.Getenv("CHARA_GROUP_WS"), opts...).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	os.Exit(0) // not killed: the parent sees exit 0 and fails
}

// TestKillInsideCommitGroup kills a scrape inside a group commit of
// several files and resumes it: every file ends either fully recorded
// (file, index line, archive entry) by the killed run and never fetched
// again, or fetched again by the rerun; none is lost, none is twice in the
// index, and no stray or temp file is left.
func TestKillInsideCommitGroup(t *testing.T) {
	for _, mode := range []string{"rename", "append"} {
		t.Run(mode, func(t *testing.T) {
			const total = 40
			b := booru.New(makePosts(1, total, "nakano_miku"))
			ts, settled := startTracked(t, b)
			ws := t.TempDir()
			out := filepath.Join(t.TempDir(), "killed")
			cmd := testutil.StartHelper(t, "TestCommitGroupHelper", "CHARA_GROUP_KILL="+mode, "CHARA_GROUP_OUT="+out,
				"CHARA_GROUP_WS="+ws, "CHARA_GROUP_URL="+ts.URL, "CHARA_GROUP_CANDIDATES="+strconv.Itoa(total))
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("helper ended with %v, want killed by SIGKILL inside a group", err)
			}
			why, _ := os.ReadFile(out)
			dir, index := manifests.RawDir(ws, "nakano_miku"), manifests.RawIndexPath(ws, "nakano_miku")
			first, err := manifests.ReadRawIndex(index)
			if err != nil {
				t.Fatal(err)
			}
			indexed := map[string]bool{}
			for _, r := range first {
				indexed[r.File] = true
			}
			arc, err := OpenArchive(ArchivePath(ws))
			if err != nil {
				t.Fatal(err)
			}
			archived := 0
			for _, r := range first {
				if ok, err := arc.Has(context.Background(), PostKey("danbooru", r.PostID)); err != nil {
					t.Fatal(err)
				} else if ok {
					archived++
				}
			}
			arc.Close()
			ents, _ := os.ReadDir(dir)
			var unindexed, temps int
			for _, e := range ents {
				switch {
				case strings.HasPrefix(e.Name(), "."):
					temps++
				case e.Name() != "index.jsonl" && !indexed[e.Name()]:
					unindexed++
				}
			}
			// The state the kill left, as the group's order makes it.
			switch mode {
			case "rename":
				if unindexed != 1 || temps == 0 {
					t.Fatalf("killed at %q: %d renamed files not indexed and %d temp files, want 1 and the rest of the group", why, unindexed, temps)
				}
				if archived != len(first) {
					t.Errorf("%d of %d indexed posts archived, want all (the previous group was committed whole)", archived, len(first))
				}
			case "append":
				if unindexed != 0 {
					t.Errorf("killed at %q: %d renamed files not indexed, want none", why, unindexed)
				}
				if n, _ := strconv.Atoi(strings.TrimPrefix(string(why), "append ")); archived != len(first)-n || n < 2 {
					t.Fatalf("killed at %q: %d of %d indexed posts archived, want all but the group's %d", why, archived, len(first), n)
				}
			}
			settled() // every request the killed run sent has been counted
			before := b.FileRequests()

			sum := runScrape(t, ws, baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 50, Parallelism: 4}, "nakano_miku", total)...)
			recs := checkRaw(t, ws, "nakano_miku")
			if len(recs) != total {
				t.Fatalf("%d files after the rerun, want %d (%+v)", len(recs), total, src0(t, sum))
			}
			ents, _ = os.ReadDir(dir)
			if len(ents) != total+1 {
				t.Errorf("%d entries in raw/nakano_miku, want %d files and the index", len(ents), total)
			}
			after := b.FileRequests()
			for _, r := range first {
				id, _ := strconv.Atoi(r.PostID)
				if after[id] != before[id] {
					t.Errorf("post %d was indexed by the killed run but fetched again", id)
				}
			}
			for id := 1; id <= total; id++ {
				if after[id]-before[id] > 1 {
					t.Errorf("post %d fetched %d times by the rerun", id, after[id]-before[id])
				}
			}
			arc, err = OpenArchive(ArchivePath(ws))
			if err != nil {
				t.Fatal(err)
			}
			defer arc.Close()
			for _, r := range recs {
				for _, k := range []string{PostKey("danbooru", r.PostID), SHA256Key(r.SHA256), MD5Key(r.MD5)} {
					if st, ok, err := arc.Status(context.Background(), k); err != nil || !ok || st != StatusDownloaded {
						t.Errorf("archive %s: %q %v %v, want downloaded", k, st, ok, err)
					}
				}
			}
		})
	}
}

// TestSlowSiteCommitsEachFileAtOnce: a group is what waits when the
// committer is free, so a file from a slow site is recorded (file, index
// line, archive entry) while the next download is still under way, not
// when a group fills up.
func TestSlowSiteCommitsEachFileAtOnce(t *testing.T) {
	b := booru.New(makePosts(1, 3, "nakano_miku"))
	gate := make(chan struct{})
	var files atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/data/") && files.Add(1) >= 2 {
			select { // later files wait until the test has seen the first recorded
			case <-gate:
			case <-r.Context().Done():
				return
			}
		}
		b.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	ws := t.TempDir()
	done := make(chan *Summary, 1)
	go func() {
		sum, err := New(ws, baseOpts(Source{Kind: "danbooru", URL: ts.URL, Limit: 10, Parallelism: 1}, "nakano_miku", 3)...).Run(context.Background())
		if err != nil {
			t.Error(err)
		}
		done <- sum
	}()
	index := manifests.RawIndexPath(ws, "nakano_miku")
	deadline := time.Now().Add(10 * time.Second)
	for indexLines(index) < 1 {
		if time.Now().After(deadline) {
			close(gate)
			t.Fatal("the first file was not recorded while the second download waited")
		}
		time.Sleep(2 * time.Millisecond)
	}
	close(gate)
	sum := <-done
	if s := src0(t, sum); s.Downloaded != 3 {
		t.Fatalf("downloaded %d, want 3", s.Downloaded)
	}
	checkRaw(t, ws, "nakano_miku")
}
