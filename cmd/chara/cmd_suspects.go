package main

import (
	"github.com/urfave/cli/v2"
)

// newSuspectsCommand defines "chara suspects"; its action needs libtorch and is in
// cmd_suspects_torch.go (the light build runs chara-torch instead: torch.go).
func newSuspectsCommand() *cli.Command {
	return &cli.Command{
		Name:  "suspects",
		Usage: "rank a dataset's images by how likely their label is wrong or the picture off-topic",
		Description: "Out-of-fold probabilities (k-fold over every image of the dataset) from a linear head on frozen " +
			"effnet-b0 features when ImageNet weights are configured (train.weights or --weights), else from cnn " +
			"(or --model cnn2) trained k times. Images are ranked by three views fused by their highest percentile: " +
			"the out-of-fold self-confidence, the area under the margin of the models that trained on the image, and " +
			"an outlier score (distance to the class's nearest images in feature space). Confident learning flags label " +
			"issues (per-class thresholds at the mean self-confidence) and suggests their class. The ranking goes " +
			"to curated/_suspects.json; chara review shows it first (/suspects), and chara run retrains on the decisions.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dataset", Aliases: []string{"d"}, Value: "default", Usage: "dataset `NAME` (datasets/NAME)"},
			&cli.IntFlag{Name: "folds", Aliases: []string{"k"}, Value: 5, Usage: "`K` folds"},
			&cli.StringFlag{Name: "model", Usage: "cnn or cnn2 when no weights are configured (default cnn)"},
			&cli.StringFlag{Name: "weights", Usage: "torchvision ImageNet weights `FILE` for effnet-b0 (default: train.weights)"},
			&cli.IntFlag{Name: "epochs", Value: 10, Usage: "`N` epochs per fold for cnn/cnn2"},
			&cli.StringFlag{Name: "device", Usage: "auto, cpu, cuda or cuda:N (default: train.device)"},
			&cli.IntFlag{Name: "threads", Usage: "libtorch intra-op `THREADS` (0: libtorch's default)"},
			&cli.IntFlag{Name: "top", Value: 20, Usage: "print the `N` most suspect images (0: none)"},
			&cli.BoolFlag{Name: "json", Usage: "print the whole ranking as JSON"},
		},
		Action: suspectsAction,
	}
}
