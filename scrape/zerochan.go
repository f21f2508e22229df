package scrape

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// zerochan: GET /<Tag>?json&p=&l= (l up to 250), and GET /<id>?json for the
// full-size file URL, which listings lack. Its rules ask for a User-Agent
// naming the project and the user, and at most 60 requests a minute: the
// default delay is 1s for pages and files alike.
// zerochan.net/api: "60 requests per minute", pages and files alike.
var zerochanDefaults = kindDefault{delay: time.Second, pace: time.Second, limit: 100, maxLimit: 250, parallelism: 1}

type zerochan struct {
	src  Source
	base string
	p    *pager
}

type zerochanItem struct {
	ID     int64    `json:"id"`
	Width  int      `json:"width"`
	Height int      `json:"height"`
	MD5    string   `json:"md5"`
	Tags   []string `json:"tags"`
}

func (z *zerochan) header() http.Header {
	h := http.Header{}
	h.Set("User-Agent", z.p.ua+" - "+z.src.Login)
	return h
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
	tag := strings.ReplaceAll(strings.TrimSpace(query), " ", "+")
	u := fmt.Sprintf("%s/%s?json&p=%d&l=%d", z.base, tag, n, z.src.Limit)
	body, err := z.p.visit(ctx, u, z.header(), nil)
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", z.src.Name, err)
	}
	var raw struct {
		Items []zerochanItem `json:"items"`
	}
	if err := decodeJSON(u, body, &raw); err != nil {
		return nil, err
	}
	pg := &Page{URL: u, Skipped: map[string]int{}}
	for _, it := range raw.Items {
		id := strconv.FormatInt(it.ID, 10)
		pg.Posts = append(pg.Posts, Post{
			ID: id, MD5: strings.ToLower(it.MD5), Width: it.Width, Height: it.Height,
			Tags: it.Tags, PageURL: z.base + "/" + id,
		})
	}
	if len(raw.Items) >= z.src.Limit {
		pg.Next = strconv.Itoa(n + 1)
	}
	return pg, nil
}

// Resolve fetches /<id>?json for the full-size URL.
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
	if err := decodeJSON(u, body, &raw); err != nil {
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
