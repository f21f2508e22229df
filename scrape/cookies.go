package scrape

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// LoadCookies reads a Netscape cookies.txt (the format browsers' export
// extensions, curl and gallery-dl's --cookies use): one cookie a line,
// seven tab-separated fields (domain, include-subdomains, path, secure,
// expiry in Unix seconds, name, value); '#' starts a comment, except the
// "#HttpOnly_" prefix of a domain. Expired cookies are dropped.
func LoadCookies(path string) (http.CookieJar, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	jar, _ := cookiejar.New(nil)
	byHost := map[string][]*http.Cookie{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	now := time.Now()
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimRight(sc.Text(), "\r")
		httpOnly := false
		if strings.HasPrefix(line, "#HttpOnly_") {
			line, httpOnly = strings.TrimPrefix(line, "#HttpOnly_"), true
		}
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 7 {
			return nil, fmt.Errorf("%s:%d: %d tab-separated fields, a Netscape cookies.txt line has 7", path, n, len(fields))
		}
		exp, err := strconv.ParseInt(fields[4], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: expiry %q is not a number", path, n, fields[4])
		}
		c := &http.Cookie{Name: fields[5], Value: fields[6], Path: fields[2],
			Secure: strings.EqualFold(fields[3], "TRUE"), HttpOnly: httpOnly}
		if exp > 0 {
			c.Expires = time.Unix(exp, 0)
			if c.Expires.Before(now) {
				continue
			}
		}
		host := strings.TrimPrefix(fields[0], ".")
		if strings.EqualFold(fields[1], "TRUE") {
			c.Domain = host
		}
		byHost[host] = append(byHost[host], c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for host, cs := range byHost {
		for _, scheme := range []string{"https", "http"} {
			jar.SetCookies(&url.URL{Scheme: scheme, Host: host, Path: "/"}, cs)
		}
	}
	return jar, nil
}
