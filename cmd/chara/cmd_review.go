package main

import "github.com/urfave/cli/v2"

func newReviewCommand() *cli.Command {
	return &cli.Command{
		Name:   "review",
		Usage:  "serve a page to reject or restore curated images by hand",
		Action: notBuilt("review"),
	}
}
