package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/curate"
	"github.com/chara-dev/chara/internal/hostcheck"
)

type reviewOptions struct {
	Port int
}

func newReviewCommand() *cli.Command {
	return &cli.Command{
		Name:  "review",
		Usage: "serve a page to reject or restore curated images by hand",
		Description: "Serves http://127.0.0.1:PORT/ with a page per class: kept images as a contact sheet " +
			"(click to reject or restore), duplicate groups and ambiguous images. Every click is saved " +
			"at once to curated/_review.jsonl and the decisions file. /suspects lists chara suspects' ranking, most suspect first: " +
			"x rejects an image, m moves it to its suggested class. Stop with Ctrl-C.",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "port", Value: 8765, Usage: "`PORT` on 127.0.0.1 (0: any free port)"},
		},
		Action: func(c *cli.Context) error {
			return runReview(c.Context, globals(c), reviewOptions{Port: c.Int("port")})
		},
	}
}

func runReview(ctx context.Context, g *globalOptions, opts reviewOptions) error {
	if opts.Port < 0 || opts.Port > 65535 {
		return usagef("review: --port %d outside 0..65535", opts.Port)
	}
	cfg, err := g.loadConfig()
	if err != nil {
		return err
	}
	names := classNames(cfg)
	if len(names) == 0 {
		return fmt.Errorf("review: no classes in %s", g.ConfigPath)
	}
	h, err := curate.NewReviewServer(g.Workspace, names, curate.FromConfig(cfg.Curate), curate.WithReporter(g.reporter()))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.Port)))
	if err != nil {
		return err
	}
	// Only requests for this address (DNS-rebinding defence).
	srv := &http.Server{Handler: hostcheck.New(ln.Addr()).Handler(h), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(g.Stderr, "review: http://%s/ (Ctrl-C to stop)\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return ctx.Err()
	}
}
