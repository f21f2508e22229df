package booru

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The fakes behave as REAL-SITES.md says the sites do.
func TestFakesBehaveLikeTheSites(t *testing.T) {
	posts := []Post{
		{ID: 1, Tags: []string{"nakano_miku", "miss_kobayashi's_dragon_maid"}, Rating: "g", Image: Image(8, 8, 1, "jpg"), Characters: []string{"nakano_miku"}},
		{ID: 2, Tags: []string{"nakano_miku"}, Rating: "s", Image: Image(8, 8, 2, "jpg")},
	}
	s := New(posts, WithDanbooruAuth("miku", "k"), WithZerochanAliases(map[string]string{"Miku Nakano": "Nakano Miku"}))
	ts := httptest.NewServer(s)
	defer ts.Close()
	// Danbooru: free metatags do not count; a Member account is still at 2.
	for q, want := range map[string]int{"nakano_miku solo rating:g": 200, "nakano_miku solo order:score": 422, "a b c": 422} {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+"/posts.json?tags="+strings.ReplaceAll(q, " ", "+"), nil)
		req.SetBasicAuth("miku", "k")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("danbooru %q as a Member: HTTP %d, want %d", q, resp.StatusCode, want)
		}
	}
	_, _, b := get(t, ts.URL+"/posts.json?tags=nakano_miku&login=miku&api_key=k")
	if !strings.Contains(string(b), `"tag_string_character":"nakano_miku"`) {
		t.Errorf("danbooru lacks tag_string_character: %s", b)
	}
	// Danbooru's robots.txt refuses the API to every crawler.
	if !strings.Contains(DanbooruRobots, "Disallow: /*.json") {
		t.Error("DanbooruRobots lacks Disallow: /*.json")
	}
	// Zerochan: no md5, no full URL in the listing; an alias redirects
	// without ?json; an unknown tag is 404.
	_, _, b = get(t, ts.URL+"/Nakano+Miku?json&p=1&l=10")
	if strings.Contains(string(b), "md5") || strings.Contains(string(b), `"full"`) || !strings.Contains(string(b), `"items"`) {
		t.Errorf("zerochan listing: %s", b)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(ts.URL + "/Miku+Nakano?json&p=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/Nakano+Miku" {
		t.Errorf("zerochan alias: %d to %q, want 301 to /Nakano+Miku (no ?json)", resp.StatusCode, resp.Header.Get("Location"))
	}
	if code, _, _ := get(t, ts.URL+"/Nobody+Here?json"); code != http.StatusNotFound {
		t.Errorf("zerochan unknown tag: %d, want 404", code)
	}
	// Gelbooru 0.2: tags HTML-escaped.
	_, _, b = get(t, ts.URL+"/index.php?page=dapi&s=post&q=index&json=1&tags=nakano_miku")
	var list []map[string]any
	if err := json.Unmarshal(b, &list); err != nil || len(list) != 2 || !strings.Contains(list[1]["tags"].(string), "miss_kobayashi&#039;s_dragon_maid") {
		t.Errorf("gelbooru tags not escaped as 0.2 does: %s", b)
	}
	// Moebooru v2 with tag types.
	_, _, b = get(t, ts.URL+"/post.json?tags=nakano_miku&api_version=2&include_tags=1")
	if !strings.Contains(string(b), `"nakano_miku":"character"`) || !strings.HasPrefix(string(b), `{"posts":`) {
		t.Errorf("moebooru v2: %s", b)
	}
}
