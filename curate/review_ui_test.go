package curate

import (
	"context"
	"html"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/chara-dev/chara/curate/internal/synth"
	"github.com/chara-dev/chara/manifests"
)

func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping the browser test: %s not found (apt-get install chromium)", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func keptInFile(t *testing.T, ws, class string) int {
	n := 0
	for _, d := range readDecisions(t, ws, class) {
		if d.Decision == manifests.Keep {
			n++
		}
	}
	return n
}

// TestReviewPageKeyboardCountsStatusBarPaging drives the review page with
// the keyboard in headless Chromium: the status bar stays in view while the
// page scrolls, the counts follow every change, the message says
// "rejected"/"restored", and large classes are paged.
func TestReviewPageKeyboardCountsStatusBarPaging(t *testing.T) {
	defer func(n int) { reviewPageSize = n }(reviewPageSize)
	reviewPageSize = 2
	ws, _, _ := fixture(t)
	h, err := NewReviewServer(ws, []string{"Alice", "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx := browser(t)

	count := func(kind string) int {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#statusbar .count[data-kind="`+kind+`"]`)))
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			t.Fatalf("count %q: %v", s, err)
		}
		return n
	}
	barInView := `(() => { const r = document.getElementById("statusbar").getBoundingClientRect();
		return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight + 1; })()`
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(900, 400),
		chromedp.Navigate(srv.URL+"/class/alice"),
		chromedp.WaitVisible(chromedp.CSS("#kept figure")),
	); err != nil {
		t.Fatal(err)
	}
	kept := keptInFile(t, ws, "Alice")
	if got := count("keep"); got != kept || kept < 3 {
		t.Fatalf("status bar: kept %d, file %d (want at least 3 to page)", got, kept)
	}
	for _, scroll := range []string{"window.scrollTo(0, 0)", "window.scrollTo(0, document.body.scrollHeight)"} {
		in, err := chromedp.Run(ctx, chromedp.Evaluate[bool](scroll+"; "+barInView))
		if err != nil || !in {
			t.Errorf("after %s the status bar is not in view (%v)", scroll, err)
		}
	}
	tall, _ := chromedp.Run(ctx, chromedp.Evaluate[bool]("document.body.scrollHeight > window.innerHeight"))
	if !tall {
		t.Error("the page does not scroll at 900x400: the status bar test proves nothing")
	}

	// Keyboard: the first arrow selects the first card; x rejects it.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void]("window.scrollTo(0, 0)"), chromedp.KeyEvent(kb.ArrowRight)); err != nil {
		t.Fatal(err)
	}
	sha, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.dataset.sha || ""`))
	if err != nil || sha == "" {
		t.Fatalf("no card selected by the arrow key (%v)", err)
	}
	sel := `#kept figure[data-sha="` + sha + `"]`
	if err := chromedp.Do(ctx, chromedp.KeyEvent("x"), chromedp.WaitVisible(chromedp.CSS(sel+`[data-decision="rejected"]`))); err != nil {
		t.Fatalf("x did not reject: %v", err)
	}
	st, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#status")))
	if !strings.HasPrefix(st, "rejected "+sha[:10]) {
		t.Errorf("status %q after x", st)
	}
	if got, file := count("keep"), keptInFile(t, ws, "Alice"); got != file || file >= kept {
		t.Errorf("after rejecting: the bar says kept %d, the file %d (was %d)", got, file, kept)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("x"), chromedp.WaitVisible(chromedp.CSS(sel+`[data-decision="keep"]`))); err != nil {
		t.Fatalf("x did not restore: %v", err)
	}
	st, _ = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#status")))
	if !strings.HasPrefix(st, "restored "+sha[:10]) || strings.Contains(st, "restoreed") {
		t.Errorf("status %q after restoring", st)
	}
	if got := count("keep"); got != kept {
		t.Errorf("after restoring: kept %d, want %d", got, kept)
	}

	// Paging: two kept images a page; ] goes to the next page.
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#kept figure").length`)); n != 2 {
		t.Errorf("page 1 shows %d kept images, want 2", n)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent("]"), chromedp.WaitVisible(chromedp.CSS(`body[data-prev]`))); err != nil {
		t.Fatalf("] did not page: %v", err)
	}
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	pager, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(".pager")))
	pages := (kept + 1) / 2
	if !strings.HasSuffix(loc, "/class/alice?page=2") || !strings.Contains(pager, "page 2 of "+strconv.Itoa(pages)) {
		t.Errorf("after ]: %s, pager %q", loc, pager)
	}
	if got := count("keep"); got != kept {
		t.Errorf("page 2: the bar counts %d kept, want the class's %d", got, kept)
	}
	// ? shows the keys.
	if err := chromedp.Do(ctx, chromedp.KeyEvent("?"), chromedp.WaitVisible(chromedp.CSS("#keyhelp"))); err != nil {
		t.Errorf("? did not show the keys: %v", err)
	}
}

// TestReviewUnicodeClass serves a class whose folder keeps its CJK name:
// the index links to it, its page and thumbnails load.
func TestReviewUnicodeClass(t *testing.T) {
	ws := t.TempDir()
	a := addRaw(t, ws, "中野三玖", []wsFile{
		{name: "one", data: synth.JPEG(synth.Picture(1, 1, 300, 400), 90), post: "1"},
		{name: "two", data: synth.JPEG(synth.Picture(2, 1, 300, 400), 90), post: "2"},
	})
	addRaw(t, ws, "Nino", []wsFile{{name: "n", data: synth.JPEG(synth.Picture(3, 1, 300, 400), 90), post: "3"}})
	h, err := NewReviewServer(ws, []string{"中野三玖", "Nino"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	code, index := get(t, srv.URL+"/")
	link := "/class/" + url.PathEscape("中野三玖")
	if code != 200 || !strings.Contains(strings.ToLower(index), strings.ToLower(`href="`+link+`"`)) {
		t.Fatalf("index %d, no link %s:\n%s", code, link, index)
	}
	code, page := get(t, srv.URL+link)
	if code != 200 || !strings.Contains(page, "<h1>中野三玖</h1>") || !strings.Contains(page, a["one"]) {
		t.Fatalf("class page %d:\n%s", code, page)
	}
	i := strings.Index(page, `src="/thumb/`)
	if i < 0 {
		t.Fatal("no thumbnail on the page")
	}
	src := page[i+5:]
	src = src[:strings.Index(src, `"`)]
	if code, _ := get(t, srv.URL+html.UnescapeString(src)); code != 200 {
		t.Errorf("thumbnail %s: %d", src, code)
	}
}
