package main

import (
	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/demosite"
)

// newDemoCommand defines "chara demo"; its action needs libtorch and is in
// cmd_demo_torch.go (the light build runs chara-torch instead: torch.go).
func newDemoCommand() *cli.Command {
	d := demosite.DefaultSizes
	return &cli.Command{
		Name:  "demo",
		Usage: "run the whole pipeline on a built-in local demo site",
		Description: "Starts, inside this process and on 127.0.0.1 only, a booru-compatible site serving\n" +
			"generated pictures of five look-alike characters (plus planted near-duplicates, broken\n" +
			"files and off-topic pictures), writes a workspace for it and runs chara run there.\n" +
			"Nothing leaves this machine.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Value: "chara-demo", Usage: "demo workspace `DIR`"},
			&cli.IntFlag{Name: "per-class", Value: demosite.DefaultPerClass, Usage: "posts per character on the demo site"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "seed of the generated site"},
			&cli.IntFlag{Name: "candidates", Value: d.Candidates, Usage: "scrape.candidates"},
			&cli.IntFlag{Name: "images", Value: d.PerClass, Usage: "images.per_class"},
			&cli.IntFlag{Name: "epochs", Value: d.Epochs, Usage: "train.epochs"},
			&cli.StringFlag{Name: "models", Value: d.Models, Usage: "train.models, comma-separated"},
		},
		Action: demoAction,
	}
}
