package hostcheck

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHostPolicy(t *testing.T) {
	lo := &net.TCPAddr{IP: net.ParseIP("127.0.0.1"), Port: 8080}
	any := &net.TCPAddr{IP: net.IPv4zero, Port: 8080}
	lan := &net.TCPAddr{IP: net.ParseIP("192.168.1.5"), Port: 8080}
	for _, c := range []struct {
		addr  net.Addr
		names []string
		host  string
		want  bool
	}{
		{lo, nil, "127.0.0.1:8080", true},
		{lo, nil, "localhost:8080", true},
		{lo, nil, "LOCALHOST.", true},
		{lo, nil, "[::1]:8080", true},
		{lo, nil, "attacker.example:8080", false}, // a rebound name
		{lo, nil, "attacker.example", false},
		{lo, nil, "", false},
		{lo, nil, "192.168.1.5:8080", false},
		{lo, []string{"chara.home"}, "chara.home:8080", true},
		{lo, []string{"chara.home"}, "evil.chara.home:8080", false},
		{any, nil, "192.168.1.5:8080", true},
		{any, nil, "localhost:8080", true},
		{any, nil, "attacker.example", false},
		{lan, nil, "192.168.1.5:8080", true},
		{lan, nil, "localhost:8080", false},
		{lan, nil, "10.0.0.1:8080", false},
	} {
		if got := New(c.addr, c.names...).Allows(c.host); got != c.want {
			t.Errorf("listening on %v with %v: Host %q allowed %v, want %v", c.addr, c.names, c.host, got, c.want)
		}
	}
	h := New(lo).Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	for host, want := range map[string]int{"127.0.0.1:8080": 200, "rebind.attacker.example:8080": http.StatusMisdirectedRequest} {
		r := httptest.NewRequest("POST", "/api/review", nil)
		r.Host = host
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Host %s: %d, want %d", host, w.Code, want)
		}
	}
	if Warning(lo) != "" || Warning(any) == "" || Warning(lan) == "" {
		t.Errorf("warnings: %q %q %q", Warning(lo), Warning(any), Warning(lan))
	}
}
