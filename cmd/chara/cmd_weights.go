package main

import (
	"github.com/urfave/cli/v2"
)

// newWeightsCommand defines "chara weights"; its action needs libtorch and is in
// cmd_weights_torch.go (the light build runs chara-torch instead: torch.go).
func newWeightsCommand() *cli.Command {
	dirFlag := &cli.StringFlag{Name: "dir", EnvVars: []string{"CHARA_WEIGHTS_DIR"}, Usage: "cache `DIR` (default $XDG_CACHE_HOME/chara/weights or ~/.cache/chara/weights)"}
	return &cli.Command{
		Name:  "weights",
		Usage: "download and verify pretrained weights",
		Subcommands: []*cli.Command{
			{
				Name:      "fetch",
				Usage:     "download a model's pretrained weights into the cache (resumable, SHA-256 verified)",
				ArgsUsage: "MODEL",
				Flags: []cli.Flag{
					dirFlag,
					&cli.StringFlag{Name: "url", Usage: "download from `URL` instead of the official address"},
					&cli.StringFlag{Name: "sha256", Usage: "expected full SHA-256 `HEX` (default: the pinned digest of the catalog entry)"},
					&cli.BoolFlag{Name: "check", Value: true, Usage: "load the file into the model to check every tensor"},
				},
				Action: weightsFetchAction,
			},
			{
				Name:   "list",
				Usage:  "list the known pretrained weights and whether they are cached",
				Flags:  []cli.Flag{dirFlag},
				Action: weightsListAction,
			},
			{
				Name:      "check",
				Usage:     "check that a local torchvision state dict FILE fits a model (names and shapes)",
				ArgsUsage: "FILE",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "model", Value: "effnet-b0", Usage: "model `NAME`"},
				},
				Action: weightsCheckAction,
			},
		},
	}
}
