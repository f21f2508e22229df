package main

import (
	"github.com/urfave/cli/v2"
)

// newModelsCommand defines "chara models"; its action needs libtorch and is in
// cmd_models_torch.go (the light build runs chara-torch instead: torch.go).
func newModelsCommand() *cli.Command {
	return &cli.Command{
		Name:      "models",
		Usage:     "show the models' layers, output shapes and parameter counts",
		ArgsUsage: "[MODEL...]",
		Flags: []cli.Flag{
			&cli.IntFlag{Name: "classes", Aliases: []string{"n"}, Value: 15, Usage: "number of classes `N` the head is sized for"},
			&cli.StringFlag{Name: "dataset", Aliases: []string{"d"}, Value: "default", Usage: "show how the images of dataset `NAME` of the workspace reach each model's input"},
			&cli.IntFlag{Name: "height", Usage: "effnet-b0 input height (default 300)"},
			&cli.IntFlag{Name: "width", Usage: "effnet-b0 input width (default 150)"},
		},
		Action: modelsAction,
	}
}
