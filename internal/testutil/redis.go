package testutil

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisServer is Debian's redis-server on a loopback port, started by a
// test, without persistence (no RDB, no AOF): Kill and Start again lose
// everything, as a restart of a server without persistence does.
type RedisServer struct {
	URL  string // redis://127.0.0.1:<port>/0
	bin  string
	dir  string
	port int
	cmd  *exec.Cmd
}

// StartRedis starts a redis-server for t on a free loopback port and
// kills it when t ends. It skips t where redis-server is not installed.
func StartRedis(t testing.TB) *RedisServer {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not found on PATH (Debian package redis-server)")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	r := &RedisServer{bin: bin, dir: t.TempDir(), port: port, URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port)}
	r.Start(t)
	t.Cleanup(r.Kill)
	return r
}

// Start (re)starts the server on its port and waits until it answers.
func (r *RedisServer) Start(t testing.TB) {
	t.Helper()
	r.cmd = exec.Command(r.bin, "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", r.dir, "--enable-debug-command", "local")
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	rdb := r.Client()
	defer rdb.Close()
	for i := 0; rdb.Ping(context.Background()).Err() != nil; i++ {
		if i > 500 {
			t.Fatal("redis-server did not answer in 5s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Kill stops the server with SIGKILL: nothing is saved.
func (r *RedisServer) Kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
		r.cmd = nil
	}
}

// Client is a go-redis client of the server; the caller closes it.
func (r *RedisServer) Client() *redis.Client {
	opt, _ := redis.ParseURL(r.URL)
	return redis.NewClient(opt)
}
