package scrape

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// moebooru: yande.re, Konachan. GET /post.json?tags=&limit=&page= with at
// most 100 posts per page (help api.en.html.erb:111-112). Its "s" (safe)
// rating is reported as g. Auth is username+api_key, or login with
// password_hash (the SHA1 of the salted password); a failed one silently
// falls back to anonymous (application_controller.rb:39-50; REAL-SITES.md
// §3). Posts list sample_url and jpeg_url renditions beside file_url
// (post/api_methods.rb). The listing asks for API v2 with include_tags=1
// ({"posts": [...], "tags": {name: type}}, post_controller.rb index), which
// says which tags are characters; a bare list (v1, clones) is read too.
var moebooruDefaults = kindDefault{delay: time.Second, limit: 100, maxLimit: 100, parallelism: 4}

type moebooru struct {
	src  Source
	base string
	p    *pager
}

type moebooruPost struct {
	ID       int64  `json:"id"`
	MD5      string `json:"md5"`
	FileURL  string `json:"file_url"`
	FileExt  string `json:"file_ext"`
	FileSize int64  `json:"file_size"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
	Rating   string `json:"rating"`
	Tags     string `json:"tags"`
	Status   string `json:"status"`

	SampleURL    string `json:"sample_url"`
	SampleWidth  int    `json:"sample_width"`
	SampleHeight int    `json:"sample_height"`
	JPEGURL      string `json:"jpeg_url"`
	JPEGWidth    int    `json:"jpeg_width"`
	JPEGHeight   int    `json:"jpeg_height"`
}

// moebooruTagLimit is CONFIG["tag_query_limit"] (config/init_config.rb:235).
const moebooruTagLimit = 6

var moebooruRating = map[string]string{"s": "g", "q": "q", "e": "e"}

func (m *moebooru) Page(ctx context.Context, query, cursor string) (*Page, error) {
	n := 1
	if cursor != "" {
		v, err := strconv.Atoi(cursor)
		if err != nil {
			return nil, fmt.Errorf("source %q: bad cursor %q", m.src.Name, cursor)
		}
		n = v
	}
	if k := len(strings.Fields(query)); k > moebooruTagLimit {
		// config/init_config.rb tag_query_limit; the site's refusal is an
		// HTTP 500 that would be retried in vain.
		return nil, fmt.Errorf("source %q: query %q has %d tags: %w (Moebooru allows %d)", m.src.Name, query, k, ErrTagLimit, moebooruTagLimit)
	}
	v := url.Values{"tags": {query}, "limit": {strconv.Itoa(m.src.Limit)}, "page": {strconv.Itoa(n)},
		"api_version": {"2"}, "include_tags": {"1"}}
	switch {
	case m.src.Login != "" && m.src.PasswordHash != "":
		v.Set("login", m.src.Login)
		v.Set("password_hash", m.src.PasswordHash)
	case m.src.Login != "" && m.src.APIKey != "":
		v.Set("username", m.src.Login)
		v.Set("api_key", m.src.APIKey)
	}
	u := m.base + "/post.json?" + v.Encode()
	body, err := m.p.visit(ctx, u, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", m.src.Name, err)
	}
	var raw []moebooruPost
	var types map[string]string
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '{' {
		var v2 struct {
			Posts []moebooruPost    `json:"posts"`
			Tags  map[string]string `json:"tags"`
		}
		if err := decodeJSON(redact(u), b, &v2); err != nil {
			return nil, err
		}
		raw, types = v2.Posts, v2.Tags
	} else if err := decodeJSON(redact(u), body, &raw); err != nil {
		return nil, err
	}
	pg := &Page{URL: redact(u), Skipped: map[string]int{}}
	for _, r := range raw {
		if r.Status == "deleted" {
			pg.Skipped["deleted"]++
			continue
		}
		if r.FileURL == "" {
			pg.Skipped["restricted"]++
			continue
		}
		id := strconv.FormatInt(r.ID, 10)
		p := Post{
			ID: id, FileURL: r.FileURL, MD5: strings.ToLower(r.MD5), Width: r.Width, Height: r.Height,
			Rating: moebooruRating[r.Rating], Tags: strings.Fields(r.Tags), Ext: normExt(r.FileExt),
			FileSize: r.FileSize, PageURL: m.base + "/post/show/" + id,
		}
		if types != nil {
			p.HasCharacters = true
			for _, t := range p.Tags {
				if types[t] == "character" {
					p.Characters = append(p.Characters, t)
				}
			}
		}
		for _, v := range []Variant{{r.SampleURL, r.SampleWidth, r.SampleHeight, ""}, {r.JPEGURL, r.JPEGWidth, r.JPEGHeight, ""}} {
			if v.URL != "" && v.URL != r.FileURL && v.Width > 0 {
				v.Ext = extOf(v.URL)
				p.Variants = append(p.Variants, v)
			}
		}
		pg.Posts = append(pg.Posts, p)
	}
	if len(raw) >= m.src.Limit {
		pg.Next = strconv.Itoa(n + 1)
	}
	return pg, nil
}
