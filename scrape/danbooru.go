package scrape

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// danbooru: GET /posts.json?tags=&limit=&page=. The first page is page 1;
// later pages use the b<id> cursor (ids below the last one seen), which
// has no depth limit, unlike page numbers (refused above 1000).
// Anonymous searches take at most 2 tags. Posts without file_url
// (restricted) and deleted or banned posts are skipped and counted.
type danbooru struct {
	src  Source
	base string
	p    *pager
}

type danbooruPost struct {
	ID          int64  `json:"id"`
	MD5         string `json:"md5"`
	FileURL     string `json:"file_url"`
	FileExt     string `json:"file_ext"`
	FileSize    int64  `json:"file_size"`
	ImageWidth  int    `json:"image_width"`
	ImageHeight int    `json:"image_height"`
	Rating      string `json:"rating"`
	TagString   string `json:"tag_string"`
	IsDeleted   bool   `json:"is_deleted"`
	IsBanned    bool   `json:"is_banned"`
}

func (d *danbooru) authed() bool { return d.src.Login != "" && d.src.APIKey != "" }

func (d *danbooru) Page(ctx context.Context, query, cursor string) (*Page, error) {
	if n := len(strings.Fields(query)); n > 2 && !d.authed() {
		return nil, fmt.Errorf("source %q: query %q has %d tags: %w (danbooru allows 2 without an account; set CHARA_%s_LOGIN and CHARA_%s_API_KEY)",
			d.src.Name, query, n, ErrTagLimit, EnvName(d.src.Name), EnvName(d.src.Name))
	}
	if cursor == "" {
		cursor = "1"
	}
	v := url.Values{"tags": {query}, "limit": {strconv.Itoa(d.src.Limit)}, "page": {cursor}}
	u := d.base + "/posts.json?" + v.Encode()
	body, err := d.p.visit(ctx, u, authHeader(d.src.Login, d.src.APIKey), nil)
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) {
			switch se.Code {
			case 401, 403:
				return nil, fmt.Errorf("source %q: %w: %w (check CHARA_%s_LOGIN and CHARA_%s_API_KEY)", d.src.Name, ErrAuth, err, EnvName(d.src.Name), EnvName(d.src.Name))
			case 422:
				if strings.Contains(se.Body, "TagLimit") || strings.Contains(se.Body, "more than") {
					return nil, fmt.Errorf("source %q: %w: %w", d.src.Name, ErrTagLimit, err)
				}
			}
		}
		return nil, fmt.Errorf("source %q: %w", d.src.Name, err)
	}
	var raw []danbooruPost
	if err := decodeJSON(u, body, &raw); err != nil {
		return nil, err
	}
	pg := &Page{URL: u, Skipped: map[string]int{}}
	var minID int64
	for _, r := range raw {
		if minID == 0 || r.ID < minID {
			minID = r.ID
		}
		switch {
		case r.IsDeleted:
			pg.Skipped["deleted"]++
			continue
		case r.IsBanned:
			pg.Skipped["banned"]++
			continue
		case r.FileURL == "":
			pg.Skipped["restricted"]++
			continue
		}
		pg.Posts = append(pg.Posts, Post{
			ID: strconv.FormatInt(r.ID, 10), FileURL: r.FileURL, MD5: strings.ToLower(r.MD5),
			Width: r.ImageWidth, Height: r.ImageHeight, Rating: r.Rating,
			Tags: strings.Fields(r.TagString), Ext: normExt(r.FileExt), FileSize: r.FileSize,
			PageURL: d.base + "/posts/" + strconv.FormatInt(r.ID, 10),
		})
	}
	if len(raw) >= d.src.Limit && minID > 0 {
		pg.Next = "b" + strconv.FormatInt(minID, 10)
	}
	return pg, nil
}

func normExt(e string) string {
	e = strings.ToLower(strings.TrimPrefix(e, "."))
	if e == "jpeg" {
		return "jpg"
	}
	return e
}
