package booru

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

var created = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func intParam(q url.Values, key string, def int) int {
	if v, err := strconv.Atoi(q.Get(key)); err == nil {
		return v
	}
	return def
}

func page(ps []*Post, offset, limit int) []*Post {
	if offset >= len(ps) || offset < 0 {
		return nil
	}
	return ps[offset:min(len(ps), offset+limit)]
}

// danbooru answers /posts.json like Danbooru (github.com/danbooru/danbooru
// at 06587d1f; REAL-SITES.md §1): limit capped at 200
// (post_sets/post.rb MAX_PER_PAGE), page numbers up to 1000 (410 beyond,
// pagination_extension.rb), b<id>/a<id> cursors, and the tag limit of the
// account level (user.rb tag_query_limit: 2 for Anonymous and Member, 6
// for Gold) counted as post_query.rb's term_count does, with 422
// PostQuery::TagLimitError beyond (application_controller.rb:145).
func (s *Server) danbooru(w http.ResponseWriter, r *http.Request, q url.Values) {
	login, key, ok := r.BasicAuth()
	if !ok {
		login, key = q.Get("login"), q.Get("api_key")
	}
	authed := s.dbLogin != "" && login == s.dbLogin && key == s.dbKey
	if s.dbLogin != "" && !authed {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"success": false, "error": "SessionLoader::AuthenticationFailure", "message": "Invalid API key"})
		return
	}
	s.mu.Lock()
	s.lastUA = r.UserAgent()
	s.mu.Unlock()
	tags := q.Get("tags")
	tagLimit := 2 // Anonymous and Member
	if authed && s.dbGold {
		tagLimit = 6
	}
	if n := danbooruTermCount(tags); n > tagLimit {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"success": false, "error": "PostQuery::TagLimitError", "message": fmt.Sprintf("You cannot search for more than %d tags at a time.", tagLimit)})
		return
	}
	limit := min(max(intParam(q, "limit", 20), 1), 200)
	all := s.matching(tags)
	var res []*Post
	pg := q.Get("page")
	switch {
	case strings.HasPrefix(pg, "b"), strings.HasPrefix(pg, "a"):
		id, err := strconv.Atoi(pg[1:])
		if err != nil {
			writeJSON(w, http.StatusUnprocessableEntity, map[string]any{"success": false, "message": "bad page " + pg})
			return
		}
		if pg[0] == 'b' {
			for _, p := range all {
				if p.ID < id && len(res) < limit {
					res = append(res, p)
				}
			}
		} else {
			for i := len(all) - 1; i >= 0 && len(res) < limit; i-- {
				if all[i].ID > id {
					res = append([]*Post{all[i]}, res...)
				}
			}
		}
	default:
		n := max(intParam(q, "page", 1), 1)
		all = orderedBy(all, tags)
		if n > 1000 {
			writeJSON(w, http.StatusGone, map[string]any{"success": false, "error": "PaginationExtension::PaginationError", "message": "You cannot go beyond page 1000. Try narrowing your search terms, or upgrade your account to go beyond page 1000."})
			return
		}
		res = page(all, (n-1)*limit, limit)
	}
	out := make([]map[string]any, 0, len(res))
	for _, p := range res {
		m := map[string]any{
			"id": p.ID, "created_at": created.Add(time.Duration(p.ID) * time.Minute).Format(time.RFC3339),
			"rating": p.Rating, "image_width": p.Width, "image_height": p.Height,
			"tag_string": strings.Join(p.Tags, " "), "file_ext": p.ext, "file_size": p.size,
			"is_deleted": p.Deleted, "is_banned": p.Banned, "source": p.Source,
			"tag_count_general": len(p.Tags), "score": p.Score,
			"tag_string_character": strings.Join(p.Characters, " "),
		}
		if !p.Restricted {
			m["md5"] = p.md5
			m["file_url"] = fileURL(r, p)
			m["large_file_url"] = fileURL(r, p)
			if s.variants {
				m["media_asset"] = map[string]any{"variants": s.danbooruVariants(r, p)}
			}
		}
		out = append(out, m)
	}
	writeJSON(w, http.StatusOK, out)
}

var gelbooruRatings = map[string]string{"g": "general", "s": "sensitive", "q": "questionable", "e": "explicit"}

// gelbooruTags escapes tags as 0.2's JSON does, with PHP's
// htmlspecialchars(ENT_QUOTES): miss_kobayashi&#039;s_dragon_maid
// (Apkawa/booru-rs tests/fixtures/gelbooru_v0.2/posts.json).
var gelbooruTags = strings.NewReplacer("&", "&amp;", "'", "&#039;", `"`, "&quot;", "<", "&lt;", ">", "&gt;")

// gelbooru answers the dapi like Safebooru (bare list, directory/image/hash,
// empty body when nothing matches; Safebooru dapi help) or Gelbooru
// (@attributes + post, file_url, md5, api_key+user_id required when set;
// Gelbooru howto:api), with the page size capped (WithGelbooruMaxLimit),
// "Too deep! Pull it back some" past the offset limit (gallery-dl #2232),
// and on request: XML whatever json= says (0.2 clones; gallery-dl
// gelbooru_v02.py), a single object as "post" (gallery-dl 19096cc64),
// intermittent empty pages (gallery-dl #5830).
func (s *Server) gelbooru(w http.ResponseWriter, r *http.Request, q url.Values) {
	if q.Get("page") == "dapi" && q.Get("s") == "tag" && q.Get("q") == "index" && !s.gbNoTags {
		s.gelbooruTags(w, r, q)
		return
	}
	if q.Get("page") != "dapi" || q.Get("s") != "post" || q.Get("q") != "index" {
		http.NotFound(w, r)
		return
	}
	if s.gbKey != "" && (q.Get("api_key") != s.gbKey || q.Get("user_id") != s.gbUser) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("<h1>401 Unauthorized</h1>Missing authentication. Go to api access credentials on your account profile."))
		return
	}
	if s.gbError != "" {
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response success=\"false\" reason=\"%s\"/>", html.EscapeString(s.gbError))
		return
	}
	limit := min(max(intParam(q, "limit", 100), 1), s.gbMax)
	pid := max(intParam(q, "pid", 0), 0)
	if pid*limit > s.gbMaxOffset {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("Too deep! Pull it back some. Holy fuck."))
		return
	}
	all := s.matching(q.Get("tags"))
	res := page(all, pid*limit, limit)
	if pid > 0 && s.gbFlaky > 0 {
		s.mu.Lock()
		s.gbFlakySeen[r.URL.RequestURI()]++
		flaky := s.gbFlakySeen[r.URL.RequestURI()] <= s.gbFlaky
		s.mu.Unlock()
		if flaky {
			res = nil
		}
	}
	if s.gbXML {
		s.gelbooruXML(w, r, res, len(all), pid*limit)
		return
	}
	posts := make([]map[string]any, 0, len(res))
	for _, p := range res {
		dir := p.md5[:2] + "/" + p.md5[2:4]
		m := map[string]any{
			"id": p.ID, "width": p.Width, "height": p.Height, "tags": gelbooruTags.Replace(strings.Join(p.Tags, " ")),
			"directory": dir, "image": p.md5 + "." + p.ext, "owner": "danbooru", "parent_id": 0,
			"rating": gelbooruRatings[p.Rating], "sample": false, "score": 1, "change": p.ID,
		}
		if s.gbAttributes {
			m["md5"] = p.md5
			m["file_url"] = "http://" + r.Host + "/images/" + dir + "/" + p.md5 + "." + p.ext
			m["source"] = p.Source
			m["created_at"] = created.Format(time.RubyDate)
		} else {
			m["hash"] = p.md5
		}
		posts = append(posts, m)
	}
	if !s.gbAttributes {
		if len(posts) == 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			return
		}
		writeJSON(w, http.StatusOK, posts)
		return
	}
	body := map[string]any{"@attributes": map[string]any{"limit": limit, "offset": pid * limit, "count": len(all)}}
	switch {
	case len(posts) == 1 && s.gbSingle:
		body["post"] = posts[0]
	case len(posts) > 0:
		body["post"] = posts
	}
	writeJSON(w, http.StatusOK, body)
}

// Gelbooru's tag types (the dapi's tag index): 0 general, 4 character.
const (
	gelbooruGeneral   = 0
	gelbooruCharacter = 4
)

// gelbooruTags answers the dapi's tag index,
// ?page=dapi&s=tag&q=index&names=<space-separated>&limit=: the named tags
// that exist (unknown names are left out), at most limit (default 100).
// Like gelbooru.com (WithGelbooruShape(true)):
// {"@attributes":{limit,offset,count},"tag":[{id,name,count,type,ambiguous}]},
// no "tag" when none matches (NO-ob/LoliSnatcher_Droid's Gelbooru handler
// reads response["tag"], name and type; Bionus/imgbrd-grabber's Gelbooru
// 0.2 model: tagApiEndpoint, tagCategoryPropertyName "type"). Otherwise
// (Safebooru and other 0.2 clones, or WithGelbooruXML) the 0.2 XML API's
// <tags type="array"><tag type="4" count="" name="" ambiguous="false" id=""/></tags>,
// which the imgbrd-grabber userscript parses as XML; whether
// safebooru.org honours json=1 here is not known, and chara reads both.
// Names are HTML-escaped as the posts' tags are; a post's Characters are
// type 4, its other tags type 0.
func (s *Server) gelbooruTags(w http.ResponseWriter, r *http.Request, q url.Values) {
	if s.gbKey != "" && (q.Get("api_key") != s.gbKey || q.Get("user_id") != s.gbUser) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("<h1>401 Unauthorized</h1>Missing authentication. Go to api access credentials on your account profile."))
		return
	}
	types, counts := map[string]int{}, map[string]int{}
	for _, p := range s.posts {
		for _, t := range p.Tags {
			if _, ok := types[t]; !ok {
				types[t] = gelbooruGeneral
			}
			counts[t]++
		}
		for _, c := range p.Characters {
			types[c] = gelbooruCharacter
		}
	}
	limit := max(intParam(q, "limit", 100), 1)
	var names []string
	s.mu.Lock()
	if s.tagAsked == nil {
		s.tagAsked = map[string]int{}
	}
	for _, n := range strings.Fields(q.Get("names")) {
		s.tagAsked[n]++
	}
	s.mu.Unlock()
	for _, n := range strings.Fields(q.Get("names")) {
		if _, ok := types[n]; ok && !slices.Contains(names, n) && len(names) < limit {
			names = append(names, n)
		}
	}
	id := func(name string) int { return len(name)*1000 + int(name[0]) } // stable, made up
	if !s.gbAttributes || s.gbXML {
		var b strings.Builder
		b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><tags type="array">`)
		for _, n := range names {
			fmt.Fprintf(&b, `<tag type="%d" count="%d" name="%s" ambiguous="false" id="%d"/>`,
				types[n], counts[n], html.EscapeString(n), id(n))
		}
		b.WriteString("</tags>")
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = w.Write([]byte(b.String()))
		return
	}
	body := map[string]any{"@attributes": map[string]any{"limit": limit, "offset": 0, "count": len(names)}}
	if len(names) > 0 {
		tags := make([]map[string]any, len(names))
		for i, n := range names {
			tags[i] = map[string]any{"id": id(n), "name": gelbooruTags.Replace(n), "count": counts[n], "type": types[n], "ambiguous": 0}
		}
		body["tag"] = tags
	}
	writeJSON(w, http.StatusOK, body)
}

// gelbooruXML writes the 0.2 XML answer: <posts count offset> with one
// <post> element of attributes per post.
func (s *Server) gelbooruXML(w http.ResponseWriter, r *http.Request, res []*Post, count, offset int) {
	var b strings.Builder
	fmt.Fprintf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?><posts count=\"%d\" offset=\"%d\">", count, offset)
	for _, p := range res {
		dir := p.md5[:2] + "/" + p.md5[2:4]
		fmt.Fprintf(&b, `<post height="%d" score="1" file_url="%s" directory="%s" image="%s" rating="%s" tags=" %s " id="%d" width="%d" md5="%s"/>`,
			p.Height, html.EscapeString("http://"+r.Host+"/images/"+dir+"/"+p.md5+"."+p.ext), dir, p.md5+"."+p.ext,
			gelbooruRatings[p.Rating][:1], html.EscapeString(strings.Join(p.Tags, " ")), p.ID, p.Width, p.md5)
	}
	b.WriteString("</posts>")
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

var moebooruRatings = map[string]string{"g": "s", "s": "s", "q": "q", "e": "e"}

// moebooru answers /post.json like yande.re (github.com/moebooru/moebooru
// at d149a95f; REAL-SITES.md §3): limit capped at 100, page numbers.
// With WithMoebooruAuth, restricted posts are listed only to a user
// authenticated by username+api_key or login+password_hash; a failed
// authentication silently falls back to anonymous
// (application_controller.rb:39-50). With WithVariants, sample_url and
// jpeg_url renditions are listed (post/api_methods.rb).
func (s *Server) moebooru(w http.ResponseWriter, r *http.Request, q url.Values) {
	authed := s.mbUser != "" && (q.Get("username") == s.mbUser && q.Get("api_key") == s.mbKey && s.mbKey != "" ||
		q.Get("login") == s.mbUser && q.Get("password_hash") == s.mbHash && s.mbHash != "")
	limit := min(max(intParam(q, "limit", 40), 1), 100)
	n := max(intParam(q, "page", 1), 1)
	var visible []*Post
	for _, p := range s.matching(q.Get("tags")) {
		if !p.Restricted || authed {
			visible = append(visible, p)
		}
	}
	res := page(visible, (n-1)*limit, limit)
	out := make([]map[string]any, 0, len(res))
	for _, p := range res {
		m := map[string]any{
			"id": p.ID, "tags": strings.Join(p.Tags, " "), "created_at": created.Unix(), "author": "someone",
			"source": p.Source, "score": 3, "md5": p.md5, "file_size": p.size, "file_ext": p.ext,
			"file_url": fileURL(r, p), "preview_url": fileURL(r, p), "width": p.Width, "height": p.Height,
			"rating": moebooruRatings[p.Rating], "status": "active",
			"sample_url": fileURL(r, p), "sample_width": p.Width, "sample_height": p.Height,
			"jpeg_url": fileURL(r, p), "jpeg_width": p.Width, "jpeg_height": p.Height,
		}
		if s.variants {
			for _, v := range variantsOf(p) {
				key := map[string]string{"720x720": "sample", "sample": "jpeg"}[v.name]
				m[key+"_url"], m[key+"_width"], m[key+"_height"] = variantURL(r, p, v), v.width, v.height
			}
		}
		if p.Deleted {
			m["status"] = "deleted"
			delete(m, "file_url")
			delete(m, "sample_url")
			delete(m, "jpeg_url")
		}
		out = append(out, m)
	}
	if q.Get("api_version") != "2" {
		writeJSON(w, http.StatusOK, out)
		return
	}
	// API v2 (post_controller.rb index, post/api_methods.rb batch_api_data):
	// {"posts": [...]} and, with include_tags=1, "tags": name -> type name.
	body := map[string]any{"posts": out}
	if q.Get("include_tags") == "1" {
		types := map[string]string{}
		for _, p := range res {
			for _, t := range p.Tags {
				types[t] = "general"
			}
			for _, c := range p.Characters {
				types[c] = "character"
			}
		}
		body["tags"] = types
	}
	writeJSON(w, http.StatusOK, body)
}

// zerochanName turns nakano_miku into "Nakano Miku".
func zerochanName(tag string) string {
	parts := strings.Split(tag, "_")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, " ")
}

// zerochan answers like www.zerochan.net (https://www.zerochan.net/api;
// REAL-SITES.md §4): /<Tag>?json&p=&l= (l capped at 250, tags joined by
// commas, percent-encoded with "+" for spaces; &strict keeps posts whose
// first tag is the query's first) and /<id>?json. The listing has id,
// width, height, thumbnail, source, tag, tags and no md5 and no full URL
// (Apkawa/booru-rs tests/fixtures/zerochan/posts.json); the post has
// small, medium, large, full, width, height, size, hash, primary, tags
// (…/post_id.json). Unknown tags are 404. Options add its quirks: alias
// redirects that drop ?json, control characters in post JSON, an empty
// body past the last page.
func (s *Server) zerochan(w http.ResponseWriter, r *http.Request, q url.Values) {
	name := strings.TrimPrefix(r.URL.EscapedPath(), "/")
	if id, err := strconv.Atoi(name); err == nil {
		p, ok := s.byID[id]
		if !ok {
			writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found"})
			return
		}
		tags := make([]string, len(p.Tags))
		for i, t := range p.Tags {
			tags[i] = zerochanName(t)
		}
		src := p.Source
		if s.zcControl {
			// gallery-dl #5892, #5219: raw control characters in strings.
			src += "\x01line\nbreak\t"
		}
		body, _ := json.Marshal(map[string]any{
			"id": p.ID, "small": fileURL(r, p), "medium": fileURL(r, p), "large": fileURL(r, p),
			"full": fileURL(r, p), "width": p.Width, "height": p.Height, "size": p.size,
			"hash": p.md5, "source": "SRC", "primary": firstOr(tags, ""), "tags": tags,
		})
		body = bytes.Replace(body, []byte(`"SRC"`), []byte(`"`+src+`"`), 1)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(body)
		return
	}
	var terms, names []string
	for _, part := range strings.Split(name, ",") {
		t, err := url.QueryUnescape(part)
		if err != nil || t == "" {
			http.NotFound(w, r)
			return
		}
		if canon, ok := s.zcAliases[t]; ok {
			// gallery-dl #5891: the redirect drops ?json.
			http.Redirect(w, r, "/"+url.QueryEscape(canon), http.StatusMovedPermanently)
			return
		}
		terms = append(terms, strings.ToLower(strings.ReplaceAll(t, " ", "_")))
		names = append(names, t)
	}
	all := s.matching(strings.Join(terms, " "))
	if len(all) == 0 {
		http.Error(w, "404 Not Found", http.StatusNotFound)
		return
	}
	if q.Has("strict") {
		var kept []*Post
		for _, p := range all {
			if len(p.Tags) > 0 && p.Tags[0] == terms[0] {
				kept = append(kept, p)
			}
		}
		all = kept
	}
	// s=fav and d= (zerochan.net/api; waifuc's Sort and Dimension enums):
	// fav orders by favourites (the fake's Score); the shapes compare the
	// sides. The pixel sizes behind large and huge are not documented, so
	// the fake accepts them and narrows nothing.
	switch q.Get("s") {
	case "", "id":
	case "fav":
		all = slices.Clone(all)
		slices.SortStableFunc(all, func(a, b *Post) int { return b.Score - a.Score })
	default:
		http.Error(w, "bad sort", http.StatusBadRequest)
		return
	}
	if d := q.Get("d"); d != "" {
		var shape func(p *Post) bool
		switch d {
		case "large", "huge":
		case "landscape":
			shape = func(p *Post) bool { return p.Width > p.Height }
		case "portrait":
			shape = func(p *Post) bool { return p.Height > p.Width }
		case "square":
			shape = func(p *Post) bool { return p.Height == p.Width }
		default:
			http.Error(w, "bad dimension", http.StatusBadRequest)
			return
		}
		if shape != nil {
			all = slices.DeleteFunc(slices.Clone(all), func(p *Post) bool { return !shape(p) })
		}
	}
	limit := min(max(intParam(q, "l", 100), 1), 250)
	n := max(intParam(q, "p", 1), 1)
	res := page(all, (n-1)*limit, limit)
	if len(res) == 0 && s.zcEmptyEnd {
		// gallery-dl 35682e5b9 (#5826): an empty response when there are
		// no more accessible posts.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		return
	}
	items := make([]map[string]any, 0, len(res))
	for _, p := range res {
		tags := make([]string, len(p.Tags))
		for i, t := range p.Tags {
			tags[i] = zerochanName(t)
		}
		items = append(items, map[string]any{
			"id": p.ID, "width": p.Width, "height": p.Height,
			"thumbnail": fileURL(r, p), "source": p.Source, "tag": names[0], "tags": tags,
		})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// GalleryPageSize is the number of thumbnails per /gallery page.
const GalleryPageSize = 10

// gallery answers a plain HTML gallery: links to files and a next link.
// Its GalleryStyle mimics common real galleries (REAL-SITES.md §5, common
// patterns rather than one site): files that share a base name
// (/img/<id>/original.<ext>), script URLs (/download.php?id=<id>),
// thumbnails linking to a detail page (/post/<id>, whose a.download links
// the file), lazy images (data-original), a www. redirect, a "next" link
// of the last page back to the first.
func (s *Server) gallery(w http.ResponseWriter, r *http.Request, q url.Values) {
	n := max(intParam(q, "page", 1), 1)
	all := s.matching(q.Get("tags"))
	res := page(all, (n-1)*GalleryPageSize, GalleryPageSize)
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><title>gallery</title></head><body>\n<div id=\"posts\">\n")
	for _, p := range res {
		link := s.galleryLink(p)
		if s.gallery_.Detail {
			link = "/post/" + strconv.Itoa(p.ID)
		}
		if s.gallery_.Lazy {
			fmt.Fprintf(&b, "  <div class=\"post\"><img class=\"image lazy\" src=\"/static/blank.gif\" data-original=\"%s\" alt=\"%s\"></div>\n",
				html.EscapeString(link), html.EscapeString(strings.Join(p.Tags, " ")))
			continue
		}
		fmt.Fprintf(&b, "  <div class=\"post\"><a class=\"image\" href=\"%s\"><img src=\"/data/%s.%s\" alt=\"%s\"></a></div>\n",
			html.EscapeString(link), p.md5, p.ext, html.EscapeString(strings.Join(p.Tags, " ")))
	}
	b.WriteString("</div>\n")
	next := ""
	switch {
	case n*GalleryPageSize < len(all):
		next = url.Values{"tags": {q.Get("tags")}, "page": {strconv.Itoa(n + 1)}}.Encode()
	case s.gallery_.Cycle && n > 1:
		next = url.Values{"tags": {q.Get("tags")}, "page": {"1"}}.Encode()
	}
	if next != "" {
		fmt.Fprintf(&b, "<a class=\"next\" href=\"/gallery?%s\">next</a>\n", html.EscapeString(next))
	}
	b.WriteString("</body></html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

// jsGallery answers a gallery whose thumbnails a script draws, a batch at
// a time as the page is scrolled to its end (a common modern pattern,
// REAL-SITES.md §5 "JS-rendered / infinite scroll").
func (s *Server) jsGallery(w http.ResponseWriter, r *http.Request, q url.Values) {
	var links []string
	for _, p := range s.matching(q.Get("tags")) {
		links = append(links, s.galleryLink(p))
	}
	data, _ := json.Marshal(links)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!DOCTYPE html>
<html><head><title>gallery</title><style>.post{height:400px}</style></head><body>
<div id="posts"></div>
<script>
const links = %s;
let shown = 0;
function more() {
  const box = document.getElementById("posts");
  for (const l of links.slice(shown, shown + 5)) {
    const d = document.createElement("div");
    d.className = "post";
    d.innerHTML = '<a class="image" href="' + l + '">picture</a>';
    box.appendChild(d);
  }
  shown += 5;
}
more();
window.addEventListener("scroll", () => {
  if (window.innerHeight + window.scrollY >= document.body.scrollHeight - 10) more();
});
</script>
</body></html>
`, data)
}

// galleryLink is where the gallery's file link for p points.
func (s *Server) galleryLink(p *Post) string {
	switch {
	case s.gallery_.SameName:
		return "/img/" + strconv.Itoa(p.ID) + "/original." + p.ext
	case s.gallery_.Script:
		return "/download.php?id=" + strconv.Itoa(p.ID)
	}
	return "/data/" + p.md5 + "." + p.ext
}

// detailPage answers /post/<id>: a page whose a.download links the file.
func (s *Server) detailPage(w http.ResponseWriter, r *http.Request) bool {
	id, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/post/"))
	p, ok := s.byID[id]
	if err != nil || !ok {
		return false
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!DOCTYPE html>\n<html><body><img id=\"main\" src=\"/data/sample/%s.jpg\"><a class=\"download\" href=\"%s\">download</a></body></html>\n",
		p.md5, html.EscapeString(s.galleryLink(p)))
	return true
}

func firstOr(xs []string, def string) string {
	if len(xs) > 0 {
		return xs[0]
	}
	return def
}

// danbooruFree are post_query.rb's UNLIMITED_METATAGS: not counted against
// the tag limit.
var danbooruFree = map[string]bool{}

func init() {
	for _, m := range strings.Fields("status rating limit is id date age filesize filetype parent child md5 width " +
		"height duration mpixels ratio score upvote downvotes favcount embedded tagcount pixiv_id pixiv") {
		danbooruFree[m] = true
	}
}

// danbooruTermCount is post_query.rb's term_count: unique tags, wildcards
// and metatags other than the free ones.
func danbooruTermCount(query string) int {
	seen := map[string]bool{}
	for _, t := range strings.Fields(strings.ToLower(query)) {
		t = strings.TrimLeft(t, "-~(")
		t = strings.TrimRight(t, ")")
		if t == "" || t == "and" || t == "or" {
			continue
		}
		if name, _, ok := strings.Cut(t, ":"); ok && danbooruFree[name] {
			continue
		}
		seen[t] = true
	}
	return len(seen)
}

// orderedBy applies an order:score metatag (highest score first, ties by
// id), as Danbooru does for page-number paging; b<id> ignores it and
// reorders by id (pagination_extension.rb:66-68).
func orderedBy(ps []*Post, query string) []*Post {
	if !strings.Contains(strings.ToLower(query), "order:score") {
		return ps
	}
	out := append([]*Post(nil), ps...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out
}
