package main

import (
	"github.com/urfave/cli/v2"
)

// serveMaxUploadMB is --max-upload's default: serve.DefaultMaxUpload in MB, written
// out because the definitions of the commands import no libtorch package
// (cmd_serve_torch.go fails to compile when the two differ).
const serveMaxUploadMB = 10

// newServeCommand defines "chara serve"; its action needs libtorch and is in
// cmd_serve_torch.go (the light build runs chara-torch instead: torch.go).
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
			&cli.IntFlag{Name: "max-upload", Value: serveMaxUploadMB, Usage: "largest upload in `MB`"},
			&cli.Int64Flag{Name: "max-pixels", Value: 40_000_000, Usage: "refuse images of more than `N` pixels (decompression bombs)"},
			&cli.IntFlag{Name: "samples", Value: 3, Usage: "test images per class offered on the page"},
			&cli.StringSliceFlag{Name: "host", Usage: "also answer requests for host `NAME` (others than the listening address are refused: DNS-rebinding defence)"},
		},
		Action: serveAction,
	}
}
