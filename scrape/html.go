package scrape

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gocolly/colly/v2"
)

// htmlGallery: a site without an API. The query is either substituted for
// {query} in the source URL (path-escaped in the path, query-escaped in
// the query string) or resolved against it as a relative URL; the image
// selector picks the links to files and the next selector the link to the
// next page, which is the cursor. With a detail selector, the image links
// lead to a post's page, where the detail selector picks the file link.
// Common gallery patterns (REAL-SITES.md §5): a file's name is often not
// unique (…/123/original.jpg), so a post's identity is its whole URL;
// script URLs (download.php?id=) say nothing of the type, which the
// downloaded bytes decide; lazy images keep the file in data-original,
// data-lazy-src, data-src or srcset. robots.txt is honoured. There are no
// ratings or tags.
type htmlGallery struct {
	src    Source
	p      *pager
	render *renderer // render: true
	pace   *pacer    // rendered pages: the source's delay
}

// renderScrolls bounds the scrolls of an infinite-scroll page.
const renderScrolls = 30

var htmlDefaults = kindDefault{delay: time.Second, parallelism: 4, robots: true}

// mediaExts are the extensions a URL may be trusted with before download.
var mediaExts = []string{"jpg", "png", "gif", "webp", "bmp", "avif", "svg", "tif", "tiff", "mp4", "webm", "mov", "zip", "swf"}

func (h *htmlGallery) start(query string) (string, error) {
	if i := strings.Index(h.src.URL, "{query}"); i >= 0 {
		esc := url.QueryEscape
		if q := strings.IndexByte(h.src.URL, '?'); q < 0 || i < q {
			esc = url.PathEscape
		}
		return strings.ReplaceAll(h.src.URL, "{query}", esc(query)), nil
	}
	base, err := url.Parse(h.src.URL)
	if err != nil {
		return "", err
	}
	ref, err := url.Parse(query)
	if err != nil {
		return "", fmt.Errorf("source %q: query %q is not a URL: %w", h.src.Name, query, err)
	}
	return base.ResolveReference(ref).String(), nil
}

// linkOf is an element's link: href, the lazy-loading attributes, the
// largest srcset entry, then src.
func linkOf(e *colly.HTMLElement) string {
	for _, a := range []string{"href", "data-original", "data-lazy-src", "data-src"} {
		if v := strings.TrimSpace(e.Attr(a)); v != "" {
			return v
		}
	}
	if ss := e.Attr("srcset"); ss != "" {
		best, bestW := "", -1.0
		for _, c := range strings.Split(ss, ",") {
			f := strings.Fields(c)
			if len(f) == 0 {
				continue
			}
			w := 0.0
			if len(f) > 1 {
				fmt.Sscanf(strings.TrimRight(f[1], "wx"), "%g", &w)
			}
			if w > bestW {
				best, bestW = f[0], w
			}
		}
		if best != "" {
			return best
		}
	}
	return strings.TrimSpace(e.Attr("src"))
}

// trustedExt is the URL's extension if it names a media type, else "".
func trustedExt(u string) string {
	if e := extOf(u); slices.Contains(mediaExts, e) {
		return e
	}
	return ""
}

func (h *htmlGallery) Page(ctx context.Context, query, cursor string) (*Page, error) {
	u := cursor
	if u == "" {
		s, err := h.start(query)
		if err != nil {
			return nil, err
		}
		u = s
	}
	pg := &Page{URL: u, Skipped: map[string]int{}}
	seen := map[string]bool{}
	image := func(e *colly.HTMLElement) {
		link := linkOf(e)
		if link == "" {
			return
		}
		abs := e.Request.AbsoluteURL(link)
		if abs == "" || seen[abs] {
			return
		}
		seen[abs] = true
		if h.src.DetailSelector != "" {
			pg.Posts = append(pg.Posts, Post{ID: abs, PageURL: abs})
			return
		}
		pg.Posts = append(pg.Posts, Post{ID: abs, FileURL: abs, Ext: trustedExt(abs), PageURL: e.Request.URL.String()})
	}
	next := func(e *colly.HTMLElement) {
		if pg.Next == "" {
			if n := e.Request.AbsoluteURL(e.Attr("href")); n != "" && n != u {
				pg.Next = n
			}
		}
	}
	if h.render != nil {
		if err := h.rendered(ctx, u, image, next); err != nil {
			return nil, fmt.Errorf("source %q: %w", h.src.Name, err)
		}
		return pg, nil
	}
	_, err := h.p.visit(ctx, u, nil, func(c *colly.Collector) {
		c.OnHTML(h.src.ImageSelector, image)
		if h.src.NextSelector != "" {
			c.OnHTML(h.src.NextSelector, next)
		}
	})
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", h.src.Name, err)
	}
	return pg, nil
}

// rendered applies the selectors to the page as the browser built it.
func (h *htmlGallery) rendered(ctx context.Context, u string, image, next func(*colly.HTMLElement)) error {
	if h.p.robots != nil {
		if err := h.p.robots.allowed(ctx, u, h.p.ua); err != nil {
			return err
		}
	}
	if err := h.pace.wait(ctx); err != nil {
		return err
	}
	doc, err := h.render.html(ctx, u, renderScrolls, h.p.policy.PageTimeout)
	if err != nil {
		return err
	}
	gq, err := goquery.NewDocumentFromReader(strings.NewReader(doc))
	if err != nil {
		return fmt.Errorf("GET %s (rendered): %w: %v", redact(u), ErrBadResponse, err)
	}
	pu, err := url.Parse(u)
	if err != nil {
		return err
	}
	resp := &colly.Response{Request: &colly.Request{URL: pu}, Body: []byte(doc)}
	apply := func(sel string, f func(*colly.HTMLElement)) {
		gq.Find(sel).Each(func(i int, s *goquery.Selection) {
			for _, n := range s.Nodes {
				f(colly.NewHTMLElementFromSelectionNode(resp, s, n, i))
			}
		})
	}
	apply(h.src.ImageSelector, image)
	if h.src.NextSelector != "" {
		apply(h.src.NextSelector, next)
	}
	return nil
}

// Resolve visits a post's detail page for its file link.
func (h *htmlGallery) Resolve(ctx context.Context, p *Post) error {
	if h.src.DetailSelector == "" {
		return fmt.Errorf("post %s: %w: no file URL", p.ID, ErrBadResponse)
	}
	var file string
	_, err := h.p.visit(ctx, p.PageURL, nil, func(c *colly.Collector) {
		c.OnHTML(h.src.DetailSelector, func(e *colly.HTMLElement) {
			if file == "" {
				if l := linkOf(e); l != "" {
					file = e.Request.AbsoluteURL(l)
				}
			}
		})
	})
	if err != nil {
		return fmt.Errorf("source %q: %w", h.src.Name, err)
	}
	if file == "" {
		return fmt.Errorf("GET %s: %w: nothing matches detail_selector %q", p.PageURL, ErrBadResponse, h.src.DetailSelector)
	}
	p.FileURL, p.Ext = file, trustedExt(file)
	return nil
}
