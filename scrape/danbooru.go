package scrape

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// danbooru: GET /posts.json?tags=&limit=&page= (Danbooru's help:api;
// gallery-dl danbooru.py). Facts, from github.com/danbooru/danbooru at
// 06587d1f unless said otherwise (REAL-SITES.md §1):
//   - at most 200 posts a page (post_sets/post.rb MAX_PER_PAGE);
//   - page numbers stop at 1000 below Gold (410); "b<id>" (ids below) has
//     no depth limit but reorders by id, so it is used only for the default
//     id order; a query with order:/ordfav:/ordpool:/random: pages by number
//     (as gallery-dl does since c4a1e112c);
//   - the tag limit is 2 for Anonymous and Member (free) accounts, 6 for
//     Gold; the free metatags of post_query.rb's UNLIMITED_METATAGS do not
//     count (term_count); beyond, 422 PostQuery::TagLimitError;
//   - reads are not rate limited by the app, but the wiki asks for about
//     one request a second; 429s come without Retry-After;
//   - posts hidden from the account are listed without file_url and md5.
type danbooru struct {
	src  Source
	base string
	p    *pager
}

var danbooruDefaults = kindDefault{delay: time.Second, limit: 200, maxLimit: 200, parallelism: 4}

// danbooruFreeMetatags do not count against the tag limit
// (app/logical/post_query.rb UNLIMITED_METATAGS).
var danbooruFreeMetatags = map[string]bool{}

func init() {
	for _, m := range strings.Fields(`status rating limit is id date age filesize filetype parent child md5 width
		height duration mpixels ratio score upvote downvotes favcount embedded tagcount pixiv_id pixiv`) {
		danbooruFreeMetatags[m] = true
	}
}

// DanbooruTermCount counts a query's terms as Danbooru's term_count does:
// unique tags (negated or not), wildcards and metatags other than the free
// ones. Operators (and, or, parentheses) are not terms.
func DanbooruTermCount(query string) int {
	seen := map[string]bool{}
	n := 0
	for _, w := range strings.Fields(strings.ToLower(query)) {
		w = strings.TrimLeft(w, "-~(")
		w = strings.TrimRight(w, ")")
		if w == "" || w == "and" || w == "or" {
			continue
		}
		if i := strings.IndexByte(w, ':'); i > 0 && danbooruFreeMetatags[w[:i]] {
			continue
		}
		if !seen[w] {
			seen[w] = true
			n++
		}
	}
	return n
}

// danbooruOrdered: the query sets its own order, so b<id> would reorder it.
func danbooruOrdered(query string) bool {
	for _, w := range strings.Fields(strings.ToLower(query)) {
		w = strings.TrimLeft(w, "-~(")
		for _, m := range []string{"order:", "ordfav:", "ordfavgroup:", "ordpool:", "random:"} {
			if strings.HasPrefix(w, m) {
				return true
			}
		}
	}
	return false
}

type danbooruPost struct {
	ID                 int64  `json:"id"`
	MD5                string `json:"md5"`
	FileURL            string `json:"file_url"`
	FileExt            string `json:"file_ext"`
	FileSize           int64  `json:"file_size"`
	ImageWidth         int    `json:"image_width"`
	ImageHeight        int    `json:"image_height"`
	Rating             string `json:"rating"`
	TagString          string `json:"tag_string"`
	TagStringCharacter string `json:"tag_string_character"`
	IsDeleted          bool   `json:"is_deleted"`
	IsBanned           bool   `json:"is_banned"`
	MediaAsset         struct {
		Variants []struct {
			Type    string `json:"type"`
			URL     string `json:"url"`
			Width   int    `json:"width"`
			Height  int    `json:"height"`
			FileExt string `json:"file_ext"`
		} `json:"variants"`
	} `json:"media_asset"`
}

func (d *danbooru) header() map[string][]string {
	h := authHeader(d.src.Login, d.src.APIKey)
	if d.src.UserID != "" {
		// Danbooru's staff ask for the user id in the User-Agent (gallery-dl
		// #9705, forum topic 37341).
		h.Set("User-Agent", d.p.ua+" (danbooru user #"+d.src.UserID+")")
	}
	return h
}

func (d *danbooru) Page(ctx context.Context, query, cursor string) (*Page, error) {
	if n := DanbooruTermCount(query); d.src.TagLimit > 0 && n > d.src.TagLimit {
		return nil, fmt.Errorf("source %q: query %q has %d counted tags, the limit is %d: %w "+
			"(Danbooru allows 2 tags for Anonymous and Member accounts, 6 for Gold; rating:, status:, id:, score: and the other free metatags do not count; "+
			"a free account does not raise it: drop a tag, move it to scrape.exclude_tags, or set sources.%s.tag_limit if your account is Gold)",
			d.src.Name, query, n, d.src.TagLimit, ErrTagLimit, d.src.Name)
	}
	ordered := danbooruOrdered(query)
	if cursor == "" {
		cursor = "1"
	}
	v := url.Values{"tags": {query}, "limit": {strconv.Itoa(d.src.Limit)}, "page": {cursor}}
	u := d.base + "/posts.json?" + v.Encode()
	body, err := d.p.visit(ctx, u, d.header(), nil)
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) {
			switch se.Code {
			case 401:
				return nil, fmt.Errorf("source %q: %w: %w (check CHARA_%s_LOGIN and CHARA_%s_API_KEY)", d.src.Name, ErrAuth, err, EnvName(d.src.Name), EnvName(d.src.Name))
			case 403:
				// No proper User-Agent is a 403 too (DraconicDragon/danbooru-e621-tag-list-processor#5).
				return nil, fmt.Errorf("source %q: %w: %w (check CHARA_%s_LOGIN and CHARA_%s_API_KEY; Danbooru also refuses User-Agents that look like a browser's)",
					d.src.Name, ErrAuth, err, EnvName(d.src.Name), EnvName(d.src.Name))
			case 422:
				if strings.Contains(se.Body, "TagLimit") || strings.Contains(se.Body, "more than") {
					return nil, fmt.Errorf("source %q: %w: %w (the account's limit is lower than tag_limit %d)", d.src.Name, ErrTagLimit, err, d.src.TagLimit)
				}
			case 410:
				return nil, fmt.Errorf("source %q: %w (Danbooru stops page numbers at 1000 below Gold; ordered queries page by number)", d.src.Name, err)
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
		if strings.HasPrefix(r.FileURL, "/") {
			r.FileURL = d.abs(r.FileURL) // other instances (gallery-dl danbooru.py:108-112)
		}
		p := Post{
			ID: strconv.FormatInt(r.ID, 10), FileURL: r.FileURL, MD5: strings.ToLower(r.MD5),
			Width: r.ImageWidth, Height: r.ImageHeight, Rating: r.Rating,
			Tags: strings.Fields(r.TagString), Ext: normExt(r.FileExt), FileSize: r.FileSize,
			PageURL:    d.base + "/posts/" + strconv.FormatInt(r.ID, 10),
			Characters: strings.Fields(r.TagStringCharacter), HasCharacters: true,
		}
		for _, va := range r.MediaAsset.Variants {
			// sample (850 px wide), 720x720 and the original
			// (app/models/media_asset.rb; waifuc danbooru.py _select_url).
			if va.Type == "original" || va.URL == "" || strings.HasPrefix(va.Type, "180") || strings.HasPrefix(va.Type, "360") {
				continue
			}
			p.Variants = append(p.Variants, Variant{URL: d.abs(va.URL), Width: va.Width, Height: va.Height, Ext: normExt(va.FileExt)})
		}
		pg.Posts = append(pg.Posts, p)
	}
	if len(raw) >= d.src.Limit && minID > 0 {
		if ordered {
			n, _ := strconv.Atoi(cursor)
			pg.Next = strconv.Itoa(n + 1)
		} else {
			pg.Next = "b" + strconv.FormatInt(minID, 10)
		}
	}
	return pg, nil
}

// abs makes a root-relative URL absolute on the site.
func (d *danbooru) abs(u string) string {
	if strings.HasPrefix(u, "//") {
		if pu, err := url.Parse(d.base); err == nil {
			return pu.Scheme + ":" + u
		}
	}
	if strings.HasPrefix(u, "/") {
		return d.base + u
	}
	return u
}

func normExt(e string) string {
	e = strings.ToLower(strings.TrimPrefix(e, "."))
	if e == "jpeg" {
		return "jpg"
	}
	return e
}
