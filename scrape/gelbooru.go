package scrape

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// gelbooru: Gelbooru, Safebooru and other 0.2 clones.
// GET /index.php?page=dapi&s=post&q=index&json=1&tags=&limit=&pid= with pid
// the page index from 0 (Gelbooru's howto:api; Safebooru's dapi help).
// Facts (REAL-SITES.md §2):
//   - JSON comes in two shapes: a bare list (Safebooru: directory, image,
//     hash; an empty body when nothing matches) or
//     {"@attributes":{limit,offset,count},"post":[...]} (Gelbooru; no
//     "post" when empty, and a single object where gallery-dl met one,
//     commit 19096cc64);
//   - some clones ignore json=1 and answer XML, <posts count offset> of
//     <post .../> (gallery-dl's gelbooru_v02 uses XML for all); errors come
//     as <response success="false" reason="..."> with HTTP 200
//     (gallery-dl #2767);
//   - the server caps the page size (gelbooru.com 100, Safebooru 1000), so
//     a page shorter than asked is not the last: the listing ends on an
//     empty page, or where @attributes count says;
//   - offsets beyond about 20000 fail with "Too deep! Pull it back some"
//     (gallery-dl #2232): past it the listing pages with an id:<N tag
//     (gallery-dl gelbooru.py, commit 5cc1115f4), unless the query sorts;
//   - Safebooru sometimes answers an empty page mid-listing (gallery-dl
//     #5830): an empty page after a full one is asked again;
//   - tags are HTML-escaped (&#039;): unescaped;
//   - gelbooru.com needs api_key and the numeric user_id (401 without).
type gelbooru struct {
	src  Source
	base string
	p    *pager
	// types, with single_character on: the tag index's answers, so that
	// the listing's posts get their character tags (gelbooru_tags.go).
	types *gelbooruTagTypes

	mu      sync.Mutex
	maxSeen int // the largest page the server gave: its cap, as far as we know
}

var gelbooruDefaults = kindDefault{delay: 500 * time.Millisecond, limit: 100, maxLimit: 1000, parallelism: 4}

// gelbooruMaxOffset is where page indexes stop working (gallery-dl #2232;
// imgbrd-grabber caps at 20000).
var gelbooruMaxOffset = 20000

// emptyRetries: how often an unexpected empty page is asked again.
const emptyRetries = 2

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

// gelbooruCursor: page index, an id:<below tag (0: none), the previous
// page's length and its lowest id.
type gelbooruCursor struct {
	pid, prev   int
	below, minI int64
}

func (c gelbooruCursor) String() string {
	return fmt.Sprintf("%d/%d/%d/%d", c.pid, c.below, c.prev, c.minI)
}

func parseGelbooruCursor(s string) (gelbooruCursor, error) {
	var c gelbooruCursor
	if s == "" {
		return c, nil
	}
	if n, err := strconv.Atoi(s); err == nil { // a plain page index
		c.pid = n
		return c, nil
	}
	_, err := fmt.Sscanf(s, "%d/%d/%d/%d", &c.pid, &c.below, &c.prev, &c.minI)
	return c, err
}

func gelbooruSorted(query string) bool {
	for _, w := range strings.Fields(strings.ToLower(query)) {
		if strings.HasPrefix(strings.TrimLeft(w, "-"), "sort:") {
			return true
		}
	}
	return false
}

// gelbooruList is one parsed answer; count < 0 when the site gives none.
type gelbooruList struct {
	posts  []gelbooruPost
	count  int
	offset int
}

func (g *gelbooru) Page(ctx context.Context, query, cursor string) (*Page, error) {
	c, err := parseGelbooruCursor(cursor)
	if err != nil {
		return nil, fmt.Errorf("source %q: bad cursor %q", g.src.Name, cursor)
	}
	sorted := gelbooruSorted(query)
	var list gelbooruList
	var shown string
	for try := 0; ; try++ {
		list, shown, err = g.fetch(ctx, query, c)
		if errors.Is(err, errTooDeep) && !sorted && c.minI > 0 && (c.below == 0 || c.minI < c.below) {
			c = gelbooruCursor{below: c.minI, prev: c.prev}
			continue
		}
		if err != nil {
			return nil, err
		}
		expected := list.count > list.offset || (list.count < 0 && c.prev > 0 && c.prev >= g.cap())
		if len(list.posts) > 0 || !expected || try >= emptyRetries {
			break
		}
		if err := sleepCtx(ctx, g.p.policy.backoff(try)); err != nil {
			return nil, err
		}
	}
	g.mu.Lock()
	g.maxSeen = max(g.maxSeen, len(list.posts))
	g.mu.Unlock()
	pg := &Page{URL: shown, Skipped: map[string]int{}}
	var minID int64
	for _, r := range list.posts {
		id64 := int64(r.ID)
		if minID == 0 || id64 < minID {
			minID = id64
		}
		fu := r.FileURL
		if fu == "" && r.Image != "" {
			base := g.base
			if g.src.ImagesURL != "" {
				base = strings.TrimRight(g.src.ImagesURL, "/") // xbooru: img.xbooru.com (waifuc XbooruLikeSource)
			}
			fu = base + "/images/" + string(r.Directory) + "/" + r.Image
		}
		if fu == "" {
			pg.Skipped["restricted"]++
			continue
		}
		md5 := r.MD5
		if md5 == "" {
			md5 = r.Hash
		}
		id := strconv.FormatInt(id64, 10)
		pg.Posts = append(pg.Posts, Post{
			ID: id, FileURL: fu, MD5: strings.ToLower(md5), Width: int(r.Width), Height: int(r.Height),
			Rating: gelbooruRating[strings.ToLower(r.Rating)], Tags: strings.Fields(html.UnescapeString(r.Tags)), Ext: extOf(fu),
			PageURL: g.base + "/index.php?page=post&s=view&id=" + id,
		})
	}
	more := len(list.posts) > 0
	if list.count >= 0 {
		more = more && list.offset+len(list.posts) < list.count
	}
	if more {
		next := gelbooruCursor{pid: c.pid + 1, below: c.below, prev: len(list.posts), minI: minID}
		if !sorted && (c.pid+2)*g.src.Limit > gelbooruMaxOffset {
			next = gelbooruCursor{below: minID, prev: len(list.posts), minI: minID}
		}
		pg.Next = next.String()
	}
	if g.types != nil && len(pg.Posts) > 0 {
		if err := g.characters(ctx, pg); err != nil {
			return nil, err
		}
	}
	return pg, nil
}

func (g *gelbooru) cap() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.maxSeen
}

var errTooDeep = errors.New("too deep")

func (g *gelbooru) fetch(ctx context.Context, query string, c gelbooruCursor) (gelbooruList, string, error) {
	tags := query
	if c.below > 0 {
		tags = strings.TrimSpace(query + " id:<" + strconv.FormatInt(c.below, 10))
	}
	v := url.Values{"page": {"dapi"}, "s": {"post"}, "q": {"index"}, "json": {"1"},
		"tags": {tags}, "limit": {strconv.Itoa(g.src.Limit)}, "pid": {strconv.Itoa(c.pid)}}
	if g.src.APIKey != "" {
		v.Set("api_key", g.src.APIKey)
		v.Set("user_id", g.src.UserID)
	}
	u := g.base + "/index.php?" + v.Encode()
	shown := redact(u)
	list := gelbooruList{count: -1}
	body, err := g.p.visit(ctx, u, nil, nil)
	if err != nil {
		var se *StatusError
		if errors.As(err, &se) && (se.Code == 401 || se.Code == 403) {
			return list, shown, fmt.Errorf("source %q: %w: %w (Gelbooru needs api_key and user_id: set CHARA_%s_API_KEY and CHARA_%s_LOGIN to your numeric user id)",
				g.src.Name, ErrAuth, err, EnvName(g.src.Name), EnvName(g.src.Name))
		}
		return list, shown, fmt.Errorf("source %q: %w", g.src.Name, err)
	}
	switch b := bytes.TrimSpace(body); {
	case len(b) == 0:
	case b[0] == '[':
		if err := decodeJSON(shown, b, &list.posts); err != nil {
			return list, shown, err
		}
	case b[0] == '{':
		var wrapped struct {
			Attributes struct {
				Count  flexInt `json:"count"`
				Offset flexInt `json:"offset"`
			} `json:"@attributes"`
			Post json.RawMessage `json:"post"`
		}
		if err := decodeJSON(shown, b, &wrapped); err != nil {
			return list, shown, err
		}
		list.count, list.offset = int(wrapped.Attributes.Count), int(wrapped.Attributes.Offset)
		if p := bytes.TrimSpace(wrapped.Post); len(p) > 0 && p[0] == '{' {
			var one gelbooruPost
			if err := decodeJSON(shown, p, &one); err != nil {
				return list, shown, err
			}
			list.posts = []gelbooruPost{one}
		} else if len(p) > 0 && string(p) != "null" {
			if err := decodeJSON(shown, p, &list.posts); err != nil {
				return list, shown, err
			}
		}
	case b[0] == '<':
		return g.parseXML(shown, b)
	case bytes.HasPrefix(b, []byte("Too deep")):
		return list, shown, fmt.Errorf("GET %s: %w: %w: %q", shown, ErrBadResponse, errTooDeep, snippet(b))
	default:
		return list, shown, fmt.Errorf("GET %s: %w: body starts %q", shown, ErrBadResponse, snippet(b))
	}
	return list, shown, nil
}

// parseXML reads the dapi's XML: <posts count offset> with one <post> per
// post, its fields as attributes (0.2) or child elements (0.2.5); or
// <response success="false" reason="...">.
func (g *gelbooru) parseXML(shown string, b []byte) (gelbooruList, string, error) {
	list := gelbooruList{count: -1}
	var doc struct {
		XMLName xml.Name
		Count   string     `xml:"count,attr"`
		Offset  string     `xml:"offset,attr"`
		Success string     `xml:"success,attr"`
		Reason  string     `xml:"reason,attr"`
		Posts   []xmlEntry `xml:"post"`
	}
	if err := xml.Unmarshal(b, &doc); err != nil {
		return list, shown, fmt.Errorf("GET %s: %w: not the expected XML: %v (body starts %q)", shown, ErrBadResponse, err, snippet(b))
	}
	if doc.XMLName.Local == "response" {
		reason := doc.Reason
		if strings.Contains(strings.ToLower(reason), "authentication") {
			return list, shown, fmt.Errorf("GET %s: %w: %s (set CHARA_%s_API_KEY and CHARA_%s_LOGIN to your numeric user id)", shown, ErrAuth, reason, EnvName(g.src.Name), EnvName(g.src.Name))
		}
		return list, shown, fmt.Errorf("GET %s: %w: the site says %q", shown, ErrBadResponse, reason)
	}
	if doc.XMLName.Local != "posts" {
		return list, shown, fmt.Errorf("GET %s: %w: XML <%s>, want <posts>", shown, ErrBadResponse, doc.XMLName.Local)
	}
	if n, err := strconv.Atoi(doc.Count); err == nil {
		list.count = n
		list.offset, _ = strconv.Atoi(doc.Offset)
	}
	for _, e := range doc.Posts {
		f := e.fields()
		id, _ := strconv.ParseInt(f["id"], 10, 64)
		w, _ := strconv.ParseInt(f["width"], 10, 64)
		h, _ := strconv.ParseInt(f["height"], 10, 64)
		list.posts = append(list.posts, gelbooruPost{ID: flexInt(id), MD5: f["md5"], Hash: f["hash"], FileURL: f["file_url"],
			Directory: flexString(f["directory"]), Image: f["image"], Width: flexInt(w), Height: flexInt(h),
			Rating: f["rating"], Tags: f["tags"]})
	}
	return list, shown, nil
}

// xmlEntry is one <post>: attributes and child elements alike.
type xmlEntry struct {
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []struct {
		XMLName xml.Name
		Text    string `xml:",chardata"`
	} `xml:",any"`
}

func (e xmlEntry) fields() map[string]string {
	m := map[string]string{}
	for _, a := range e.Attrs {
		m[a.Name.Local] = a.Value
	}
	for _, c := range e.Children {
		m[c.XMLName.Local] = strings.TrimSpace(c.Text)
	}
	return m
}
