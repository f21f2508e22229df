package curate

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/chara-dev/chara/manifests"
)

func postTo(t *testing.T, srv *httptest.Server, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(b)
}

// The suspects view lists the ranking in order with the suggested class;
// moving an image imports it into that class and rejects it from its own,
// and the next curation keeps it in the new class only.
func TestReviewSuspectsViewAndMove(t *testing.T) {
	ws, a, b := fixture(t)
	h, err := NewReviewServer(ws, []string{"Alice", "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	if code, page := get(t, srv.URL+"/suspects"); code != 200 || !strings.Contains(page, "chara suspects") {
		t.Fatalf("suspects before any ranking: %d\n%s", code, page)
	}
	sus := &manifests.Suspects{Dataset: "default", Method: "test", Folds: 5, Items: []manifests.Suspect{
		{Rank: 1, SHA256: b["bob1"], Class: "Bob", SelfConfidence: 0.05, Other: "Alice", OtherProb: 0.95, Issue: true, Suggest: "Alice"},
		{Rank: 2, SHA256: strings.Repeat("ab", 32), Class: "Alice", SelfConfidence: 0.1, Other: "Bob", OtherProb: 0.9}, // no longer curated
		{Rank: 3, SHA256: a["orig"], Class: "Alice", SelfConfidence: 0.4, Other: "Bob", OtherProb: 0.6, Outlier: 3.5},
	}}
	if err := manifests.WriteSuspects(manifests.SuspectsPath(ws), sus); err != nil {
		t.Fatal(err)
	}
	code, page := get(t, srv.URL+"/suspects")
	if code != 200 {
		t.Fatalf("suspects: %d\n%s", code, page)
	}
	i, j := strings.Index(page, `data-sha="`+b["bob1"]), strings.Index(page, `data-sha="`+a["orig"])
	if i < 0 || j < 0 || i > j {
		t.Fatalf("want bob1 (rank 1) before orig (rank 3): %d %d\n%s", i, j, page)
	}
	if !strings.Contains(page, `data-suggest="Alice"`) || !strings.Contains(page, "&rarr; Alice 0.95") || !strings.Contains(page, "outlier 3.5") {
		t.Errorf("suggested class or outlier missing:\n%s", page)
	}
	if strings.Contains(page, strings.Repeat("ab", 32)) {
		t.Error("an image no longer curated is shown")
	}
	if code, _ := get(t, srv.URL+"/"); code != 200 {
		t.Fatal("index")
	}

	for _, bad := range []string{
		`{"sha256":"` + b["bob1"] + `","class":"Bob","to":"Carol"}`,
		`{"sha256":"` + b["bob1"] + `","class":"Bob","to":"Bob"}`,
		`{"sha256":"` + a["orig"] + `","class":"Bob","to":"Alice"}`,
	} {
		if code, body := postTo(t, srv, "/api/move", bad); code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", bad, code, body)
		}
	}
	code, body := postTo(t, srv, "/api/move", `{"sha256":"`+b["bob1"]+`","class":"Bob","to":"Alice"}`)
	if code != 200 || !strings.Contains(body, `"moved_to":"Alice"`) || !strings.Contains(body, `"decision":"rejected"`) {
		t.Fatalf("move: %d %s", code, body)
	}
	recs, err := manifests.ReadRawIndex(manifests.RawIndexPath(ws, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, r := range recs {
		found = found || r.SHA256 == b["bob1"]
	}
	if !found {
		t.Fatal("bob1 not imported into Alice's raw index")
	}
	_, state, err := manifests.ReadReview(manifests.ReviewPath(ws))
	if err != nil || !state[b["bob1"]] {
		t.Fatalf("journal: %v %v", state, err)
	}
	if _, err := Run(context.Background(), ws, []string{"Alice", "Bob"}); err != nil {
		t.Fatal(err)
	}
	if d := readDecisions(t, ws, "Alice")[b["bob1"]]; d.Decision != manifests.Keep {
		t.Errorf("bob1 in Alice after curation: %+v", d)
	}
	if d := readDecisions(t, ws, "Bob")[b["bob1"]]; d.Decision == manifests.Keep {
		t.Errorf("bob1 still kept in Bob: %+v", d)
	}
}

// In a browser: the first arrow selects the top suspect; m moves it to its
// suggested class (the card shows it, the journal has the rejection).
func TestReviewSuspectsMoveKey(t *testing.T) {
	ws, a, b := fixture(t)
	sus := &manifests.Suspects{Dataset: "default", Method: "test", Folds: 5, Items: []manifests.Suspect{
		{Rank: 1, SHA256: b["bob1"], Class: "Bob", SelfConfidence: 0.05, Other: "Alice", OtherProb: 0.95, Issue: true, Suggest: "Alice"},
		{Rank: 2, SHA256: a["orig"], Class: "Alice", SelfConfidence: 0.4, Other: "Bob", OtherProb: 0.6},
	}}
	if err := manifests.WriteSuspects(manifests.SuspectsPath(ws), sus); err != nil {
		t.Fatal(err)
	}
	h, err := NewReviewServer(ws, []string{"Alice", "Bob"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx := browser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/suspects"), chromedp.WaitVisible(chromedp.CSS("#suspects figure")),
		chromedp.KeyEvent(kb.ArrowRight)); err != nil {
		t.Fatal(err)
	}
	sha, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement.dataset.sha || ""`))
	if err != nil || sha != b["bob1"] {
		t.Fatalf("selected %q, want the top suspect %s (%v)", sha, b["bob1"], err)
	}
	sel := `#suspects figure[data-sha="` + sha + `"]`
	if err := chromedp.Do(ctx, chromedp.KeyEvent("m"), chromedp.WaitVisible(chromedp.CSS(sel+`[data-decision="rejected"]`))); err != nil {
		t.Fatalf("m did not move: %v", err)
	}
	st, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#status")))
	if !strings.HasPrefix(st, "moved "+sha[:10]+" to Alice") {
		t.Errorf("status %q after m", st)
	}
	if _, state, err := manifests.ReadReview(manifests.ReviewPath(ws)); err != nil || !state[b["bob1"]] {
		t.Errorf("journal after m: %v %v", state, err)
	}
}
