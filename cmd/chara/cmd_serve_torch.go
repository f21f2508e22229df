//go:build !chara_notorch

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/internal/hostcheck"
	"github.com/chara-dev/chara/serve"
	"github.com/chara-dev/chara/train"
	"github.com/chara-dev/chara/train/predict"
)

// --max-upload's default (cmd_serve.go) is serve's: this index is out of range, and
// the build fails, when they differ.
var _ = [1]struct{}{}[serve.DefaultMaxUpload>>20-serveMaxUploadMB]

type serveOptions struct {
	OpenSet   string
	Run       string
	Dataset   string
	Addr      string
	Device    string
	Threads   int
	MaxUpload int // MB
	MaxPixels int64
	Samples   int
	Hosts     []string // host names answered besides the listening address
}

func serveAction(c *cli.Context) error {
	return runServe(c.Context, globals(c), serveOptions{
		Run: c.String("run"), OpenSet: c.String("open-set"), Dataset: c.String("dataset"), Addr: c.String("addr"), Device: c.String("device"),
		Threads: c.Int("threads"), MaxUpload: c.Int("max-upload"), MaxPixels: c.Int64("max-pixels"), Samples: c.Int("samples"),
		Hosts: c.StringSlice("host"),
	})
}

func runServe(ctx context.Context, g *globalOptions, opts serveOptions) error {
	openSet, err := openSetFlag("serve", opts.OpenSet)
	if err != nil {
		return err
	}
	if opts.MaxUpload < 1 {
		return usagef("serve: --max-upload must be at least 1 (MB), got %d", opts.MaxUpload)
	}
	if opts.MaxPixels < 1 {
		return usagef("serve: --max-pixels must be positive, got %d", opts.MaxPixels)
	}
	dev, err := train.ParseDevice(opts.Device)
	if err != nil {
		return usagef("serve: --device: %v", err)
	}
	dir, err := predict.ResolveRun(g.Workspace, opts.Dataset, opts.Run)
	if err != nil {
		return err
	}
	// Pictures from chara.yaml; serving works without the file.
	pictures := map[string]string{}
	cfg, err := config.Load(g.ConfigPath)
	switch {
	case err == nil:
		base := filepath.Dir(g.ConfigPath)
		for _, c := range cfg.Classes {
			if c.Picture == "" {
				continue
			}
			p := c.Picture
			if !filepath.IsAbs(p) {
				p = filepath.Join(base, p)
			}
			pictures[c.Name] = p
		}
	case errors.Is(err, config.ErrNotFound):
	default:
		return err
	}
	p, err := predict.Load(dir, predict.WithDevice(dev), predict.WithThreads(opts.Threads), predict.WithMaxPixels(opts.MaxPixels), predict.WithOpenSet(openSet))
	if err != nil {
		return err
	}
	defer p.Close()
	s, err := serve.New(p, serve.WithPictures(pictures), serve.WithMaxUpload(opts.MaxUpload<<20), serve.WithSamplesPerClass(opts.Samples), serve.WithHosts(opts.Hosts...))
	if err != nil {
		return err
	}
	defer s.Close()
	for _, w := range s.Warnings() {
		fmt.Fprintf(g.Stderr, "serve: warning: %s\n", w)
	}
	ln, err := net.Listen("tcp", opts.Addr)
	if err != nil {
		return err
	}
	if w := hostcheck.Warning(ln.Addr()); w != "" {
		fmt.Fprintf(g.Stderr, "serve: warning: %s\n", w)
	}
	card := p.Card()
	fmt.Fprintf(g.Stderr, "serve: run %s (%s, %d classes) on http://%s/ (Ctrl-C to stop)\n", card.Name, card.Model, len(card.Classes), ln.Addr())
	if err := s.Serve(ctx, ln); err != nil {
		return err
	}
	return ctx.Err()
}
