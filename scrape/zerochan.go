package scrape

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// zerochan: GET /<Tag>?json&p=&l= (l up to 250), and GET /<id>?json for the
// full-size file URL, which listings lack (https://www.zerochan.net/api;
// REAL-SITES.md §4). Facts:
//   - a User-Agent naming the project and the Zerochan user name is
//     required, and at most 60 requests a minute: one pacer of 1 s covers
//     pages, per-post requests and files (static.zerochan.net) together;
//   - tags are names with spaces ("Nakano Miku"), several joined by commas
//     ("Lumine,Flower"); anything but letters is percent-encoded, spaces
//     become "+" (waifuc quote_plus);
//   - &strict keeps posts whose primary tag is the first one; s= sorts
//     (id, the default, or fav) and d= narrows by size or shape (large,
//     huge, landscape, portrait, square) (zerochan.net/api; waifuc
//     waifuc/source/zerochan.py, its Sort and Dimension enums);
//   - an alias or mis-cased tag redirects to the canonical one, dropping
//     ?json (gallery-dl #5891): the pager keeps our query on the redirect;
//   - JSON may carry raw control characters (gallery-dl #5892, #5219):
//     they are blanked and the body parsed again;
//   - an empty body ends the listing (gallery-dl 35682e5b9, #5826).
type zerochan struct {
	src  Source
	base string
	p    *pager
}

// ZerochanSorts and ZerochanDimensions are the values zerochan's s= and d=
// take (zerochan.net/api; waifuc's Sort and Dimension).
var (
	ZerochanSorts      = []string{"id", "fav"}
	ZerochanDimensions = []string{"large", "huge", "landscape", "portrait", "square"}
)

// zerochan.net/api: "60 requests per minute", pages and files alike.
var zerochanDefaults = kindDefault{delay: time.Second, pace: time.Second, limit: 100, maxLimit: 250, parallelism: 1}

type zerochanItem struct {
	ID     int64    `json:"id"`
	Width  int      `json:"width"`
	Height int      `json:"height"`
	Tags   []string `json:"tags"`
}

func (z *zerochan) header() http.Header {
	h := http.Header{}
	h.Set("User-Agent", z.p.ua+" - "+z.src.Login)
	return h
}

// ZerochanPath is the path of a query: comma-separated tags, each
// percent-encoded with spaces as "+".
func ZerochanPath(query string) string {
	var parts []string
	for _, t := range strings.Split(query, ",") {
		if t = strings.Join(strings.Fields(t), " "); t != "" {
			parts = append(parts, url.QueryEscape(t))
		}
	}
	return "/" + strings.Join(parts, ",")
}

func (z *zerochan) Page(ctx context.Context, query, cursor string) (*Page, error) {
	n := 1
	if cursor != "" {
		v, err := strconv.Atoi(cursor)
		if err != nil {
			return nil, fmt.Errorf("source %q: bad cursor %q", z.src.Name, cursor)
		}
		n = v
	}
	u := fmt.Sprintf("%s%s?json&p=%d&l=%d", z.base, ZerochanPath(query), n, z.src.Limit)
	if z.src.Strict {
		u += "&strict"
	}
	if z.src.Sort != "" {
		u += "&s=" + url.QueryEscape(z.src.Sort)
	}
	if z.src.Dimension != "" {
		u += "&d=" + url.QueryEscape(z.src.Dimension)
	}
	body, err := z.p.visit(ctx, u, z.header(), nil)
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) && se.Code == http.StatusNotFound {
			return nil, fmt.Errorf("source %q: %w (Zerochan has no such tag: its tags are names such as \"Nakano Miku\", several joined by commas)", z.src.Name, err)
		}
		return nil, fmt.Errorf("source %q: %w", z.src.Name, err)
	}
	pg := &Page{URL: u, Skipped: map[string]int{}}
	if len(bytes.TrimSpace(body)) == 0 {
		return pg, nil // "no more accessible posts"
	}
	var raw struct {
		Items []zerochanItem `json:"items"`
	}
	if err := decodeLenient(u, body, &raw); err != nil {
		return nil, err
	}
	for _, it := range raw.Items {
		id := strconv.FormatInt(it.ID, 10)
		pg.Posts = append(pg.Posts, Post{
			ID: id, Width: it.Width, Height: it.Height, Tags: it.Tags, PageURL: z.base + "/" + id,
		})
	}
	if len(raw.Items) >= z.src.Limit {
		pg.Next = strconv.Itoa(n + 1)
	}
	return pg, nil
}

// Resolve fetches /<id>?json for the full-size URL and md5.
func (z *zerochan) Resolve(ctx context.Context, p *Post) error {
	u := z.base + "/" + p.ID + "?json"
	body, err := z.p.visit(ctx, u, z.header(), nil)
	if err != nil {
		return fmt.Errorf("source %q: %w", z.src.Name, err)
	}
	var raw struct {
		Full   string   `json:"full"`
		Hash   string   `json:"hash"`
		Width  int      `json:"width"`
		Height int      `json:"height"`
		Size   int64    `json:"size"`
		Tags   []string `json:"tags"`
	}
	if err := decodeLenient(u, body, &raw); err != nil {
		return err
	}
	if raw.Full == "" {
		return fmt.Errorf("GET %s: %w: no full-size URL", u, ErrBadResponse)
	}
	p.FileURL, p.Ext, p.FileSize = raw.Full, extOf(raw.Full), raw.Size
	if raw.Hash != "" {
		p.MD5 = strings.ToLower(raw.Hash)
	}
	if raw.Width > 0 {
		p.Width, p.Height = raw.Width, raw.Height
	}
	if len(raw.Tags) > 0 {
		p.Tags = normalizeTags(raw.Tags)
	}
	return nil
}

// decodeLenient decodes JSON, blanking raw control characters (invalid in
// JSON strings) if the first attempt fails.
func decodeLenient(u string, body []byte, v any) error {
	if err := decodeJSON(u, body, v); err == nil {
		return nil
	}
	clean := bytes.Map(func(r rune) rune {
		if r < 0x20 {
			return ' '
		}
		return r
	}, body)
	return decodeJSON(u, clean, v)
}
