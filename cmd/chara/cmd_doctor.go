package main

import "github.com/urfave/cli/v2"

func newDoctorCommand() *cli.Command {
	return &cli.Command{
		Name:   "doctor",
		Usage:  "check chara's environment: libtorch, threads, CUDA",
		Action: notBuilt("doctor"),
	}
}
