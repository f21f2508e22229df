// Package hostcheck is the DNS-rebinding defence of chara's local web
// servers (serve and the review page): a request is answered only when its
// Host header names the address the server listens on. A page on
// attacker.example whose name is rebound to 127.0.0.1 reaches the port, but
// its requests carry Host: attacker.example, which is refused. Accepted:
// the listening IP itself; localhost, 127.0.0.1 and [::1] when the server
// listens on a loopback or unspecified address; any IP literal when it
// listens on an unspecified address (0.0.0.0 or [::]: every interface);
// and the names configured with the server (--host).
package hostcheck

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// Policy decides which Host headers a server listening on one address
// accepts.
type Policy struct {
	ip          net.IP // nil: not an IP listener
	unspecified bool
	loopback    bool
	names       map[string]bool
}

// New is the policy for a server listening on addr, also accepting the
// host names in names (lower case, no port).
func New(addr net.Addr, names ...string) *Policy {
	p := &Policy{names: map[string]bool{}}
	if ta, ok := addr.(*net.TCPAddr); ok {
		p.ip = ta.IP
		p.unspecified = ta.IP == nil || ta.IP.IsUnspecified()
		p.loopback = ta.IP != nil && ta.IP.IsLoopback()
	}
	for _, n := range names {
		if n = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(n), ".")); n != "" {
			p.names[n] = true
		}
	}
	return p
}

// Allows reports whether a request with this Host header is for us.
func (p *Policy) Allows(host string) bool {
	h := host
	if sh, _, err := net.SplitHostPort(host); err == nil {
		h = sh
	}
	h = strings.ToLower(strings.TrimSuffix(strings.Trim(h, "[]"), "."))
	if h == "" {
		return false
	}
	if p.names[h] {
		return true
	}
	if ip := net.ParseIP(h); ip != nil {
		switch {
		case p.unspecified:
			return true
		case p.ip != nil && ip.Equal(p.ip):
			return true
		case p.loopback && ip.IsLoopback():
			return true
		}
		return false
	}
	return h == "localhost" && (p.loopback || p.unspecified)
}

// Handler answers 421 Misdirected Request to requests whose Host p does
// not allow, and passes the others to next.
func (p *Policy) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !p.Allows(r.Host) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusMisdirectedRequest)
			fmt.Fprintf(w, "this server does not answer for host %q (DNS-rebinding defence; start it with --host NAME to allow a name)\n", r.Host)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Warning is a sentence for the terminal when addr is reachable from other
// machines (not loopback), "" otherwise.
func Warning(addr net.Addr) string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok || (ta.IP != nil && ta.IP.IsLoopback()) {
		return ""
	}
	what := "address " + ta.IP.String()
	if ta.IP == nil || ta.IP.IsUnspecified() {
		what = "every network interface"
	}
	return fmt.Sprintf("listening on %s (%s): other machines on the network can reach this server, which has no authentication", addr, what)
}
