package serve

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chara-dev/chara/internal/testutil"
	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// browser starts Debian's headless Chromium with its own temporary
// profile and returns a tab context, or skips when Chromium is missing.
func browser(t *testing.T) context.Context {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		t.Skipf("browser test needs Chromium at %s (apt-get install chromium): %v", chromiumPath, err)
	}
	profile, err := os.MkdirTemp("", "chara-serve-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
	)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
		// Chromium's children may still write to the profile briefly.
		for i := 0; i < 50 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	})
	// The first Run starts the browser and must not carry a timeout.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", chromiumPath, err)
	}
	return ctx
}

// step runs actions with a timeout.
func step[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// readResult waits for a result and returns the name and percentage shown.
func readResult(t *testing.T, ctx context.Context) (string, string, int) {
	t.Helper()
	step(t, ctx, "wait for the result", chromedp.WaitVisible("#result"))
	name := step(t, ctx, "name", chromedp.Text("#result-name"))
	prob := step(t, ctx, "percentage", chromedp.Text("#result-prob"))
	bars := step(t, ctx, "bars", chromedp.Evaluate[int](`document.querySelectorAll("#chart li").length`))
	// The reference picture loads (the API serves it).
	step(t, ctx, "reference picture", chromedp.Poll[bool](`document.getElementById("result-picture").complete && document.getElementById("result-picture").naturalWidth > 0`, chromedp.WithPollingTimeout(20*time.Second)))
	return name, prob, bars
}

func TestBrowserUploadAndSample(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	f := newFixture(t)
	s, hs := f.server(t)
	ctx := browser(t)

	// 1. Upload a file with the button.
	img := pngBytes(t, picture(4242, 240, 320))
	path := filepath.Join(t.TempDir(), "mine.png")
	if err := os.WriteFile(path, img, 0o644); err != nil {
		t.Fatal(err)
	}
	want, err := f.p.PredictBytes(context.Background(), img, 5)
	if err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "open the page", chromedp.Steps(
		chromedp.Navigate(hs.URL+"/"),
		chromedp.WaitVisible(`#samples button.sample`),
		chromedp.SetUploadFiles("#file", []string{path}),
	))
	name, prob, bars := readResult(t, ctx)
	// The header comes from GET /api/classes.
	known := step(t, ctx, "known classes", chromedp.Text("#known"))
	run := step(t, ctx, "run", chromedp.Text("#run"))
	if known != strings.Join(testClasses, ", ") || !strings.Contains(run, "Run r1 · model cnn") || !strings.Contains(run, "3 characters") {
		t.Fatalf("header: %q / %q", run, known)
	}
	if dir := os.Getenv("CHARA_SCREENSHOT_DIR"); dir != "" {
		png := step(t, ctx, "screenshot", chromedp.FullScreenshot(100))
		os.WriteFile(filepath.Join(dir, "serve-result.png"), png, 0o644)
	}
	if name != want[0].Class || prob != fmt.Sprintf("%.1f%%", 100*want[0].Prob) || bars != len(want) {
		t.Fatalf("upload: page shows %q %q with %d bars, predictor says %s %.1f%% of %d", name, prob, bars, want[0].Class, 100*want[0].Prob, len(want))
	}

	// 2. Click a sample: the page fetches it and posts it to the API.
	id := 4
	sample := s.Samples()[id]
	b, err := os.ReadFile(filepath.Join(f.dsDir, sample.path))
	if err != nil {
		t.Fatal(err)
	}
	want, err = f.p.PredictBytes(context.Background(), b, 5)
	if err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "reload", chromedp.Steps(chromedp.Navigate(hs.URL+"/"), chromedp.WaitVisible(fmt.Sprintf(`button.sample[data-id="%d"]`, id))))
	step(t, ctx, "click the sample", chromedp.Click(fmt.Sprintf(`button.sample[data-id="%d"]`, id)))
	name, prob, _ = readResult(t, ctx)
	if name != want[0].Class || prob != fmt.Sprintf("%.1f%%", 100*want[0].Prob) {
		t.Fatalf("sample %d: page shows %q %q, predictor says %s %.1f%%", id, name, prob, want[0].Class, 100*want[0].Prob)
	}

	// 3. Drop a file on the drop zone (a real DragEvent with a File).
	step(t, ctx, "reload", chromedp.Steps(chromedp.Navigate(hs.URL+"/"), chromedp.WaitVisible(`#drop`)))
	step(t, ctx, "drop", chromedp.Evaluate[bool](`(async () => {
		const blob = await (await fetch("/samples/0")).blob();
		const dt = new DataTransfer();
		dt.items.add(new File([blob], "dropped.png", {type: "image/png"}));
		document.getElementById("drop").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true}));
		return true;
	})()`, chromedp.EvalAwaitPromise))
	want, err = f.p.PredictBytes(context.Background(), f.test[0], 5)
	if err != nil {
		t.Fatal(err)
	}
	name, prob, _ = readResult(t, ctx)
	if name != want[0].Class || prob != fmt.Sprintf("%.1f%%", 100*want[0].Prob) {
		t.Fatalf("drop: page shows %q %q, predictor says %s %.1f%%", name, prob, want[0].Class, 100*want[0].Prob)
	}

	// 4. A non-image and a bomb: a clear message on the page, no result.
	for _, bad := range []struct {
		name string
		body []byte
		says string
	}{
		{"notes.png", []byte("these are my notes, not a picture"), "not an image"},
		{"bomb.png", testutil.PNGHeader(100000, 100000), "too many pixels"},
	} {
		p := filepath.Join(t.TempDir(), bad.name)
		os.WriteFile(p, bad.body, 0o644)
		step(t, ctx, "reload", chromedp.Steps(chromedp.Navigate(hs.URL+"/"), chromedp.WaitVisible(`#drop`)))
		step(t, ctx, "upload "+bad.name, chromedp.SetUploadFiles("#file", []string{p}))
		step(t, ctx, "error shown", chromedp.WaitVisible("#error"))
		msg := step(t, ctx, "error text", chromedp.Text("#error"))
		if !strings.Contains(msg, bad.says) {
			t.Fatalf("%s: page says %q, want it to mention %q", bad.name, msg, bad.says)
		}
		if hidden := step(t, ctx, "result hidden", chromedp.Evaluate[bool](`document.getElementById("result").hidden`)); !hidden {
			t.Fatalf("%s: a result is shown next to the error", bad.name)
		}
	}
}
