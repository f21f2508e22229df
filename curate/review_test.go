package curate

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/chara-dev/chara/manifests"
)

func post(t *testing.T, srv *httptest.Server, body string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+"/api/review", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

func TestReviewHTTP(t *testing.T) {
	ws, a, b := fixture(t)
	h, err := NewReviewServer(ws, []string{"Alice", "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	code, page := get(t, srv.URL+"/class/alice")
	if code != 200 || !strings.Contains(page, a["orig"]) || !strings.Contains(page, "Duplicate groups") || !strings.Contains(page, "Ambiguous") {
		t.Fatalf("class page: %d\n%s", code, page)
	}
	if code, body := get(t, srv.URL+"/"); code != 200 || !strings.Contains(body, "/class/bob") {
		t.Fatalf("index: %d", code)
	}
	if code, body := get(t, srv.URL+"/thumb/alice/"+a["orig"]+".jpeg"); code != 200 || !strings.HasPrefix(body, "\xff\xd8") {
		t.Errorf("thumbnail: %d", code)
	}
	if code, _ := get(t, srv.URL+"/img/alice/"+a["orig"]+".jpeg"); code != 200 {
		t.Errorf("image: %d", code)
	}
	if code, body := get(t, srv.URL+"/static/review.js"); code != 200 || !strings.Contains(body, "/api/review") {
		t.Errorf("static js: %d", code)
	}
	for _, p := range []string{"/img/alice/..%2f..%2fchara.yaml", "/img/alice/../../raw/alice/index.jsonl", "/img/..%2fraw/x",
		"/static/../review.go", "/static/..%2freview.go", "/img/alice/index.jsonl", "/thumb/nobody/x.jpg", "/class/..%2f"} {
		if code, body := get(t, srv.URL+p); code == 200 {
			t.Errorf("%s served: %.80q", p, body)
		}
	}

	// Reject Bob's copy of pose2 through the API: Alice now keeps pose2.
	resp, body := post(t, srv, `{"sha256":"`+b["pose2copy"]+`","class":"Bob","action":"reject"}`, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("reject: %d %s", resp.StatusCode, body)
	}
	var ar actResponse
	if err := json.Unmarshal([]byte(body), &ar); err != nil || len(ar.Changed) != 2 {
		t.Fatalf("response %s: %v", body, err)
	}
	check(t, readDecisions(t, ws, "Alice"), a, map[string]want{"pose2": {manifests.Keep, "", ""}})
	check(t, readDecisions(t, ws, "Bob"), b, map[string]want{"pose2copy": {manifests.Rejected, ReasonReview, ""}})
	_, state, err := manifests.ReadReview(manifests.ReviewPath(ws))
	if err != nil || !state[b["pose2copy"]] {
		t.Fatalf("journal: %v %v", state, err)
	}

	for _, bad := range []struct {
		body string
		hdr  map[string]string
		code int
	}{
		{`{"sha256":"` + a["orig"] + `","class":"Alice","action":"reject"}`, map[string]string{"Origin": "http://evil.example"}, 403},
		{`{"sha256":"` + a["orig"] + `","class":"Alice","action":"reject"}`, map[string]string{"Content-Type": "text/plain"}, 415},
		{`{"sha256":"` + a["orig"] + `","class":"Carol","action":"reject"}`, nil, 400},
		{`{"sha256":"` + a["orig"] + `","class":"Alice","action":"delete"}`, nil, 400},
		{`{"sha256":"` + b["bob1"] + `","class":"Alice","action":"reject"}`, nil, 400},
		{`{"sha256":1}`, nil, 400},
	} {
		if resp, body := post(t, srv, bad.body, bad.hdr); resp.StatusCode != bad.code {
			t.Errorf("%s %v: %d %s, want %d", bad.body, bad.hdr, resp.StatusCode, body, bad.code)
		}
	}
	check(t, readDecisions(t, ws, "Alice"), a, map[string]want{"orig": {manifests.Keep, "", ""}})

	// A rerun of curate keeps the rejection.
	if _, err := Run(context.Background(), ws, []string{"Alice", "Bob"}); err != nil {
		t.Fatal(err)
	}
	check(t, readDecisions(t, ws, "Bob"), b, map[string]want{"pose2copy": {manifests.Rejected, ReasonReview, ""}})
}

const chromiumPath = "/usr/bin/chromium"

// TestReviewInBrowser clicks an image in headless Chromium and reads the
// decisions file.
func TestReviewInBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("skipping the browser test: %s not found (apt-get install chromium)", chromiumPath)
	}
	ws, a, _ := fixture(t)
	h, err := NewReviewServer(ws, []string{"Alice", "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

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
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	sel := `#kept figure[data-sha="` + a["orig"] + `"]`
	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/class/alice"),
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Click(chromedp.CSS(sel+" img")),
		chromedp.WaitVisible(chromedp.CSS(sel+`[data-decision="rejected"]`)),
	); err != nil {
		t.Fatalf("browser: %v", err)
	}
	status, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#status")))
	if err != nil || !strings.Contains(status, "rejected") {
		t.Errorf("status line %q (%v)", status, err)
	}
	ds := readDecisions(t, ws, "Alice")
	check(t, ds, a, map[string]want{
		"orig": {manifests.Rejected, ReasonReview, ""},
		"q60":  {manifests.Rejected, ReasonDuplicateOfRejected, ""},
	})
	// The duplicates on the same page follow.
	dup, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS(`.group figure[data-sha="`+a["q60"]+`"]`), "data-decision"))
	if err != nil || dup.Value != "rejected" {
		t.Errorf("duplicate card shows %q (%v)", dup.Value, err)
	}
	// Click again: restored, in the page and in the file.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(sel+" img")),
		chromedp.WaitVisible(chromedp.CSS(sel+`[data-decision="keep"]`)),
	); err != nil {
		t.Fatalf("browser restore: %v", err)
	}
	check(t, readDecisions(t, ws, "Alice"), a, map[string]want{"orig": {manifests.Keep, "", ""}})
	journal, _ := os.ReadFile(manifests.ReviewPath(ws))
	if bytes.Count(journal, []byte("\n")) != 2 {
		t.Errorf("journal should hold 2 actions:\n%s", journal)
	}
}
