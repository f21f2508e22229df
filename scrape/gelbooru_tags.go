package scrape

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Gelbooru's post listing gives only a flat tags string; which of them are
// characters comes from the dapi's tag index:
//
//	GET /index.php?page=dapi&s=tag&q=index&names=<names joined by spaces>&json=1
//
// (plus api_key and user_id where configured). gelbooru.com answers
// {"@attributes":{...},"tag":[{"id","name","count","type","ambiguous"}]}
// with type 0 general, 1 artist, 3 copyright, 4 character, 5 metadata
// (NO-ob/LoliSnatcher_Droid's Gelbooru handler, makeDirectTagURL and
// genTagObjects: names joined by spaces, response["tag"], name, type;
// Bionus/imgbrd-grabber's Gelbooru 0.2 model: tagApiEndpoint
// "/index.php?page=dapi&s=tag&q=index&names=", maxTagApiCount 99,
// tagCategoryPropertyName "type"). Clones may answer a bare JSON list, or
// the 0.2 XML API's <tags><tag name=".." type=".."/></tags> (the
// imgbrd-grabber userscript reads that endpoint as XML): all three are
// read. Names may be HTML-escaped, as the posts' tags are: unescaped.
const (
	gelbooruTagBatch     = 99 // names per request (imgbrd-grabber maxTagApiCount)
	gelbooruTagCharacter = 4
	gelbooruTagUnknown   = -1 // asked, not in the answer
)

// gelbooruTagTypes is a run's cache of tag types, asked once per tag.
// After a failed lookup the source's posts stay unchecked for the rest of
// the run (err is kept and reported on every page).
type gelbooruTagTypes struct {
	mu    sync.Mutex // held through a lookup: a tag is asked once
	known map[string]int
	err   error
}

func newGelbooruTagTypes() *gelbooruTagTypes { return &gelbooruTagTypes{known: map[string]int{}} }

// characters marks the page's posts with their character tags, asking the
// tag index for the tags not yet known. A failed lookup leaves the posts
// without character information (kept by single_character) and puts the
// reason in pg.Warnings.
func (g *gelbooru) characters(ctx context.Context, pg *Page) error {
	tt := g.types
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if tt.err == nil {
		var ask []string
		seen := map[string]bool{}
		for _, p := range pg.Posts {
			for _, t := range p.Tags {
				n := NormalizeTag(t)
				if _, ok := tt.known[n]; !ok && n != "" && !seen[n] {
					seen[n] = true
					ask = append(ask, n)
				}
			}
		}
		sort.Strings(ask)
		for len(ask) > 0 && tt.err == nil {
			batch := ask[:min(len(ask), gelbooruTagBatch)]
			ask = ask[len(batch):]
			types, err := g.tagTypes(ctx, batch)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				tt.err = err
				break
			}
			for _, n := range batch {
				tt.known[n] = gelbooruTagUnknown
			}
			for n, ty := range types {
				tt.known[n] = ty
			}
		}
	}
	if tt.err != nil {
		pg.Warnings = append(pg.Warnings, fmt.Sprintf("single_character: character tags unknown, posts kept unchecked: %v", tt.err))
		return nil
	}
	for i := range pg.Posts {
		p := &pg.Posts[i]
		p.HasCharacters = true
		for _, t := range p.Tags {
			if tt.known[NormalizeTag(t)] == gelbooruTagCharacter {
				p.Characters = append(p.Characters, t)
			}
		}
	}
	return nil
}

type gelbooruTag struct {
	Name string  `json:"name"`
	Type flexInt `json:"type"`
}

// tagTypes asks the tag index for names: normalised name -> type.
func (g *gelbooru) tagTypes(ctx context.Context, names []string) (map[string]int, error) {
	v := url.Values{"page": {"dapi"}, "s": {"tag"}, "q": {"index"}, "json": {"1"},
		"names": {strings.Join(names, " ")}, "limit": {strconv.Itoa(len(names))}}
	if g.src.APIKey != "" {
		v.Set("api_key", g.src.APIKey)
		v.Set("user_id", g.src.UserID)
	}
	u := g.base + "/index.php?" + v.Encode()
	shown := redact(u)
	body, err := g.p.visit(ctx, u, nil, nil)
	if err != nil {
		return nil, err
	}
	var tags []gelbooruTag
	switch b := bytes.TrimSpace(body); {
	case len(b) == 0: // as Safebooru's post index answers for nothing
	case b[0] == '[':
		if err := decodeJSON(shown, b, &tags); err != nil {
			return nil, err
		}
	case b[0] == '{':
		var wrapped struct {
			Tag json.RawMessage `json:"tag"`
		}
		if err := decodeJSON(shown, b, &wrapped); err != nil {
			return nil, err
		}
		switch t := bytes.TrimSpace(wrapped.Tag); {
		case len(t) == 0 || string(t) == "null": // no "tag": none of them exists
		case t[0] == '{':
			var one gelbooruTag
			if err := decodeJSON(shown, t, &one); err != nil {
				return nil, err
			}
			tags = []gelbooruTag{one}
		default:
			if err := decodeJSON(shown, t, &tags); err != nil {
				return nil, err
			}
		}
	case b[0] == '<':
		var doc struct {
			XMLName xml.Name
			Reason  string     `xml:"reason,attr"`
			Tags    []xmlEntry `xml:"tag"`
		}
		if err := xml.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("GET %s: %w: not the expected XML: %v (body starts %q)", shown, ErrBadResponse, err, snippet(b))
		}
		if doc.XMLName.Local != "tags" {
			return nil, fmt.Errorf("GET %s: %w: XML <%s>, want <tags> (%s)", shown, ErrBadResponse, doc.XMLName.Local, doc.Reason)
		}
		for _, e := range doc.Tags {
			f := e.fields()
			ty, err := strconv.Atoi(f["type"])
			if err != nil {
				return nil, fmt.Errorf("GET %s: %w: tag %q has type %q", shown, ErrBadResponse, f["name"], f["type"])
			}
			tags = append(tags, gelbooruTag{Name: f["name"], Type: flexInt(ty)})
		}
	default:
		return nil, fmt.Errorf("GET %s: %w: body starts %q", shown, ErrBadResponse, snippet(b))
	}
	out := make(map[string]int, len(tags))
	for _, t := range tags {
		if n := NormalizeTag(html.UnescapeString(t.Name)); n != "" {
			out[n] = int(t.Type)
		}
	}
	return out, nil
}
