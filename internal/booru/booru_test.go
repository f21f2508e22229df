package booru

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func TestShapesAndPaging(t *testing.T) {
	posts := []Post{
		{ID: 1, Tags: []string{"miku"}, Rating: "g", Image: Image(8, 8, 1, "jpg")},
		{ID: 2, Tags: []string{"miku"}, Rating: "s", Image: Image(8, 8, 2, "png"), Restricted: true},
		{ID: 3, Tags: []string{"miku", "comic"}, Rating: "q", Image: Image(8, 8, 3, "gif")},
	}
	s := New(posts)
	ts := httptest.NewServer(s)
	defer ts.Close()

	_, _, b := get(t, ts.URL+"/posts.json?tags=miku&limit=2&page=1")
	var db []map[string]any
	if err := json.Unmarshal(b, &db); err != nil || len(db) != 2 || db[0]["id"].(float64) != 3 {
		t.Fatalf("danbooru page 1: %s", b)
	}
	if _, ok := db[1]["file_url"]; ok {
		t.Errorf("restricted post has a file_url: %v", db[1])
	}
	_, _, b = get(t, ts.URL+"/posts.json?tags=miku&limit=2&page=b2")
	if err := json.Unmarshal(b, &db); err != nil || len(db) != 1 || db[0]["id"].(float64) != 1 {
		t.Fatalf("danbooru b2: %s", b)
	}
	if code, _, _ := get(t, ts.URL+"/posts.json?tags=a+b+c"); code != 422 {
		t.Errorf("3 anonymous tags: %d", code)
	}
	if code, _, _ := get(t, ts.URL+"/posts.json?page=1001"); code != 410 {
		t.Errorf("page 1001: %d", code)
	}
	// Safebooru: empty body past the end; Gelbooru shape with @attributes.
	if _, _, b = get(t, ts.URL+"/index.php?page=dapi&s=post&q=index&json=1&tags=miku&limit=3&pid=1"); len(b) != 0 {
		t.Errorf("safebooru past the end: %q", b)
	}
	g := httptest.NewServer(New(posts, WithGelbooruShape(true), WithGelbooruAuth("k", "1")))
	defer g.Close()
	if code, _, _ := get(t, g.URL+"/index.php?page=dapi&s=post&q=index&json=1"); code != 401 {
		t.Errorf("gelbooru without key: %d", code)
	}
	_, _, b = get(t, g.URL+"/index.php?page=dapi&s=post&q=index&json=1&tags=-comic&api_key=k&user_id=1")
	var gb struct {
		Attr map[string]any   `json:"@attributes"`
		Post []map[string]any `json:"post"`
	}
	if err := json.Unmarshal(b, &gb); err != nil || len(gb.Post) != 2 || gb.Attr["count"].(float64) != 2 {
		t.Errorf("gelbooru -comic: %s", b)
	}
	_, _, b = get(t, ts.URL+"/Miku?json&p=1&l=2")
	if !strings.Contains(string(b), `"items"`) || !strings.Contains(string(b), `"Miku"`) {
		t.Errorf("zerochan: %s", b)
	}
	code, h, body := get(t, ts.URL+"/data/"+s.MD5(2)+".png")
	if code != 200 || h.Get("Content-Type") != "image/png" || Ext(body) != "png" {
		t.Errorf("file: %d %s %s", code, h.Get("Content-Type"), Ext(body))
	}
	if s.FileRequests()[2] != 1 || s.APIRequests() != 6 {
		t.Errorf("counts: files %v api %d", s.FileRequests(), s.APIRequests())
	}
}

func TestFaultsApplyTimesPerURL(t *testing.T) {
	s := New([]Post{{ID: 1, Rating: "g", Image: Image(8, 8, 1, "jpg"), PadTo: 5000}},
		WithFaults(Fault{Kind: RateLimit, On: Files, Times: 1, RetryAfter: "2"}))
	ts := httptest.NewServer(s)
	defer ts.Close()
	u := ts.URL + "/data/" + s.MD5(1) + ".jpg"
	code, h, _ := get(t, u)
	if code != 429 || h.Get("Retry-After") != "2" {
		t.Fatalf("first: %d %q", code, h.Get("Retry-After"))
	}
	code, _, b := get(t, u)
	if code != 200 || len(b) != 5000 {
		t.Fatalf("second: %d, %d bytes", code, len(b))
	}
}
