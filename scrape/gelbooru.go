package scrape

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// gelbooru: Gelbooru, Safebooru and compatible sites.
// GET /index.php?page=dapi&s=post&q=index&json=1&tags=&limit=&pid= with pid
// the page index from 0. Two JSON shapes: a bare list (Safebooru: no
// file_url, the file is /images/<directory>/<image>, md5 in "hash"; an
// empty body when nothing matches) or {"@attributes":{...},"post":[...]}
// (Gelbooru, which needs api_key and user_id).
var gelbooruDefaults = kindDefault{delay: 500 * time.Millisecond, limit: 100, maxLimit: 1000, parallelism: 4}

type gelbooru struct {
	src  Source
	base string
	p    *pager
}

type gelbooruPost struct {
	ID        flexInt    `json:"id"`
	MD5       string     `json:"md5"`
	Hash      string     `json:"hash"`
	FileURL   string     `json:"file_url"`
	Directory flexString `json:"directory"`
	Image     string     `json:"image"`
	Width     flexInt    `json:"width"`
	Height    flexInt    `json:"height"`
	Rating    string     `json:"rating"`
	Tags      string     `json:"tags"`
}

var gelbooruRating = map[string]string{
	"general": "g", "safe": "g", "sensitive": "s", "questionable": "q", "explicit": "e",
	"g": "g", "s": "s", "q": "q", "e": "e",
}

func (g *gelbooru) Page(ctx context.Context, query, cursor string) (*Page, error) {
	pid := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil {
			return nil, fmt.Errorf("source %q: bad cursor %q", g.src.Name, cursor)
		}
		pid = n
	}
	v := url.Values{"page": {"dapi"}, "s": {"post"}, "q": {"index"}, "json": {"1"},
		"tags": {query}, "limit": {strconv.Itoa(g.src.Limit)}, "pid": {strconv.Itoa(pid)}}
	if g.src.APIKey != "" {
		v.Set("api_key", g.src.APIKey)
		v.Set("user_id", g.src.UserID)
	}
	u := g.base + "/index.php?" + v.Encode()
	body, err := g.p.visit(ctx, u, nil, nil)
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) && (se.Code == 401 || se.Code == 403) {
			return nil, fmt.Errorf("source %q: %w: %w (Gelbooru needs api_key and user_id: set CHARA_%s_API_KEY and CHARA_%s_LOGIN to your user id)",
				g.src.Name, ErrAuth, err, EnvName(g.src.Name), EnvName(g.src.Name))
		}
		return nil, fmt.Errorf("source %q: %w", g.src.Name, err)
	}
	shown := redact(u)
	var raw []gelbooruPost
	switch b := bytes.TrimSpace(body); {
	case len(b) == 0:
	case b[0] == '[':
		if err := decodeJSON(shown, b, &raw); err != nil {
			return nil, err
		}
	case b[0] == '{':
		var wrapped struct {
			Post []gelbooruPost `json:"post"`
		}
		if err := decodeJSON(shown, b, &wrapped); err != nil {
			return nil, err
		}
		raw = wrapped.Post
	default:
		return nil, fmt.Errorf("GET %s: %w: body starts %q", shown, ErrBadResponse, snippet(b))
	}
	pg := &Page{URL: shown, Skipped: map[string]int{}}
	for _, r := range raw {
		fu := r.FileURL
		if fu == "" && r.Image != "" {
			fu = g.base + "/images/" + string(r.Directory) + "/" + r.Image
		}
		if fu == "" {
			pg.Skipped["restricted"]++
			continue
		}
		md5 := r.MD5
		if md5 == "" {
			md5 = r.Hash
		}
		id := strconv.FormatInt(int64(r.ID), 10)
		pg.Posts = append(pg.Posts, Post{
			ID: id, FileURL: fu, MD5: strings.ToLower(md5), Width: int(r.Width), Height: int(r.Height),
			Rating: gelbooruRating[strings.ToLower(r.Rating)], Tags: strings.Fields(r.Tags), Ext: extOf(fu),
			PageURL: g.base + "/index.php?page=post&s=view&id=" + id,
		})
	}
	if len(raw) >= g.src.Limit {
		pg.Next = strconv.Itoa(pid + 1)
	}
	return pg, nil
}
