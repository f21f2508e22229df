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

func newServeCommand() *cli.Command {
	return &cli.Command{
		Name:  "serve",
		Usage: "serve a prediction web page",
		Description: "Serves a page where you click a test image or upload your own (button or drag and drop) and see " +
			"the predicted character's picture (classes[].picture in chara.yaml, relative to its folder, else a " +
			"typical training image), name, probability and top-5 chart; and its JSON API: POST /api/predict " +
			"(image as the body or multipart field \"image\"), GET /api/classes, GET /api/samples. Stop with Ctrl-C.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "run", Usage: "run `NAME` (runs/NAME) or folder (default: the best run of --dataset)"},
			&cli.StringFlag{Name: "open-set", Value: "on", Usage: "`on`: answer \"none of these characters\" below the run's calibrated threshold (run.json open_set); off: always a class"},
			&cli.StringFlag{Name: "dataset", Aliases: []string{"n"}, Value: "default", Usage: "dataset `NAME` whose best run is used without --run"},
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8080", Usage: "listen on `HOST:PORT` (port 0: any free port)"},
			&cli.StringFlag{Name: "device", Value: "auto", Usage: "auto, cpu, cuda or cuda:N"},
			&cli.IntFlag{Name: "threads", Usage: "libtorch intra-op threads (default: libtorch's choice)"},
			&cli.IntFlag{Name: "max-upload", Value: serve.DefaultMaxUpload >> 20, Usage: "largest upload in `MB`"},
			&cli.Int64Flag{Name: "max-pixels", Value: 40_000_000, Usage: "refuse images of more than `N` pixels (decompression bombs)"},
			&cli.IntFlag{Name: "samples", Value: 3, Usage: "test images per class offered on the page"},
			&cli.StringSliceFlag{Name: "host", Usage: "also answer requests for host `NAME` (others than the listening address are refused: DNS-rebinding defence)"},
		},
		Action: func(c *cli.Context) error {
			return runServe(c.Context, globals(c), serveOptions{
				Run: c.String("run"), OpenSet: c.String("open-set"), Dataset: c.String("dataset"), Addr: c.String("addr"), Device: c.String("device"),
				Threads: c.Int("threads"), MaxUpload: c.Int("max-upload"), MaxPixels: c.Int64("max-pixels"), Samples: c.Int("samples"),
				Hosts: c.StringSlice("host"),
			})
		},
	}
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
