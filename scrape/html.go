package scrape

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/gocolly/colly/v2"
)

// htmlGallery: a site without an API. The query is either substituted for
// {query} in the source URL or resolved against it as a relative URL; the
// image selector picks the links to files (href, else src or data-src) and
// the next selector the link to the next page, which is the cursor.
// Posts are named by the file name of their URL; there are no ratings or
// tags.
var htmlDefaults = kindDefault{delay: time.Second, parallelism: 4, robots: true}

type htmlGallery struct {
	src Source
	p   *pager
}

func (h *htmlGallery) start(query string) (string, error) {
	if strings.Contains(h.src.URL, "{query}") {
		return strings.ReplaceAll(h.src.URL, "{query}", url.QueryEscape(query)), nil
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
	_, err := h.p.visit(ctx, u, nil, func(c *colly.Collector) {
		c.OnHTML(h.src.ImageSelector, func(e *colly.HTMLElement) {
			link := e.Attr("href")
			if link == "" {
				link = e.Attr("src")
			}
			if link == "" {
				link = e.Attr("data-src")
			}
			if link == "" {
				return
			}
			abs := e.Request.AbsoluteURL(link)
			if abs == "" || seen[abs] {
				return
			}
			seen[abs] = true
			pu, _ := url.Parse(abs)
			id := strings.TrimSuffix(path.Base(pu.Path), path.Ext(pu.Path))
			if id == "" || id == "." || id == "/" {
				id = abs
			}
			pg.Posts = append(pg.Posts, Post{ID: id, FileURL: abs, Ext: extOf(abs), PageURL: u})
		})
		if h.src.NextSelector != "" {
			c.OnHTML(h.src.NextSelector, func(e *colly.HTMLElement) {
				if pg.Next == "" {
					if n := e.Request.AbsoluteURL(e.Attr("href")); n != "" && n != u {
						pg.Next = n
					}
				}
			})
		}
	})
	if err != nil {
		return nil, fmt.Errorf("source %q: %w", h.src.Name, err)
	}
	return pg, nil
}
