package main

import (
	"strings"
	"unicode/utf8"

	"github.com/urfave/cli/v2"
)

// newTrainCommand defines "chara train"; its action needs libtorch and is in
// cmd_train_torch.go (the light build runs chara-torch instead: torch.go).
func newTrainCommand() *cli.Command {
	return &cli.Command{
		Name:  "train",
		Usage: "train a model on a dataset (writes runs/NAME: metrics, checkpoints, plots, report)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Aliases: []string{"m"}, Usage: "`MODEL`: effnet-b0, cnn or cnn2 (default: the first of train.models in chara.yaml)"},
			&cli.StringFlag{Name: "dataset", Aliases: []string{"d"}, Value: "default", Usage: "dataset `NAME` (datasets/NAME)"},
			&cli.IntFlag{Name: "epochs", Usage: "maximum `N` of epochs (default: train.epochs, 50)"},
			&cli.IntFlag{Name: "batch-size", Usage: "batch size (default: train.batch_size, 32)"},
			&cli.Float64Flag{Name: "lr", Usage: "Adam learning rate (default: train.lr, 1e-3)"},
			&cli.IntFlag{Name: "patience", Usage: "stop after `N` epochs without a better validation accuracy and restore the best weights; 0: never (default: train.patience, 7)"},
			&cli.Int64Flag{Name: "seed", Usage: "seed for Go and libtorch (default: seed in chara.yaml)"},
			&cli.StringFlag{Name: "device", Usage: "auto, cpu, cuda or cuda:N (default: train.device, auto)"},
			&cli.IntFlag{Name: "threads", Usage: "libtorch intra-op threads (default: libtorch's choice)"},
			&cli.BoolFlag{Name: "freeze", Usage: "effnet-b0: train only the head on backbone features computed once and cached"},
			&cli.IntFlag{Name: "finetune-after", Usage: "with --freeze: unfreeze the whole network after `K` epochs (at a tenth of the learning rate)"},
			&cli.BoolFlag{Name: "augment", Usage: "augment training images: horizontal flip, small random resized crop, colour jitter"},
			&cli.BoolFlag{Name: "amp", Usage: "CUDA: forward passes under bf16 autocast (default: train.amp)"},
			&cli.StringFlag{Name: "weights", Usage: "effnet-b0: torchvision ImageNet weights `FILE` (see chara weights fetch)"},
			&cli.StringFlag{Name: "name", Usage: "run `NAME` (default: MODEL-DATASET-TIMESTAMP)"},
			&cli.BoolFlag{Name: "resume", Usage: "continue run --name from its last checkpoint, with its own settings (chara.yaml's train: section is not read)"},
			&cli.BoolFlag{Name: "change", Usage: "with --resume: take the flags given where they differ from the run's settings (epochs, patience, lr, augment, amp)"},
			&cli.BoolFlag{Name: "json", Usage: "print the run card (run.json) as JSON at the end (docs/json.md)"},
		},
		Action: trainAction,
	}
}

// wrap breaks text into lines of at most width columns (words longer than
// a line stay whole), each starting with indent and ending with a newline.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	line := indent
	for _, w := range strings.Fields(text) {
		if line != indent && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(w) > width {
			b.WriteString(line + "\n")
			line = indent
		}
		if line != indent {
			line += " "
		}
		line += w
	}
	if line != indent {
		b.WriteString(line + "\n")
	}
	return b.String()
}
