package main

import "github.com/urfave/cli/v2"

func newScrapeCommand() *cli.Command {
	return &cli.Command{
		Name:   "scrape",
		Usage:  "collect candidate images per class from the configured sources",
		Action: notBuilt("scrape"),
	}
}
