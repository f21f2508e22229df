package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/scrape"
)

type doctorReport struct {
	Chara          string   `json:"chara"`
	Go             string   `json:"go"`
	Libtorch       string   `json:"libtorch"`
	LibtorchHeader string   `json:"libtorch_headers"`
	CPUThreads     int      `json:"cpu_threads"`
	TorchThreads   int      `json:"torch_threads"`
	CUDA           bool     `json:"cuda"`
	Devices        []string `json:"cuda_devices"`
	CuDNN          int      `json:"cudnn,omitempty"`
	// TorchBinary is where the light chara found chara-torch, which runs
	// the libtorch part of the report and the commands that need libtorch.
	TorchBinary string `json:"torch_binary,omitempty" doc:"the chara built without libtorch: the chara-torch it runs for the libtorch part and for train, predict, serve, ...; absent from chara-torch's own report"`
	// The shared crawl (scrape.redis in the workspace's chara.yaml).
	Redis      string `json:"redis,omitempty"`       // the URL, password redacted
	RedisState string `json:"redis_state,omitempty"` // "Redis 7.0.15 reachable", or what failed

	torchAbsent string // the light chara without chara-torch: what is missing
}

func newDoctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check chara's environment: libtorch, threads, CUDA, the shared crawl's Redis",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"},
			// What the light chara asks chara-torch for (doctorTorch).
			&cli.BoolFlag{Name: "torch-only", Hidden: true, Usage: "only the libtorch part of the report"},
		},
		Action: func(c *cli.Context) error {
			return runDoctor(c.Context, globals(c), c.Bool("json"), c.Bool("torch-only"))
		},
	}
}

func runDoctor(ctx context.Context, g *globalOptions, asJSON, torchOnly bool) error {
	r := doctorReport{
		Chara:      version,
		Go:         runtime.Version(),
		CPUThreads: runtime.NumCPU(),
		Devices:    []string{},
	}
	// The libtorch part: read here in the full build, asked of chara-torch
	// in the light one (cmd_doctor_torch.go, torch_light.go).
	torchErr := doctorTorch(ctx, g, &r, torchOnly)
	if !torchOnly {
		if cfg, err := config.Load(g.ConfigPath); err == nil && cfg.Scrape.Redis != "" {
			r.Redis = scrape.RedactURL(cfg.Scrape.Redis)
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			if v, err := scrape.PingRedis(ctx, cfg.Scrape.Redis); err != nil {
				r.RedisState = "unreachable: " + err.Error()
			} else {
				r.RedisState = "Redis " + v + " reachable"
			}
			cancel()
		}
	}
	if asJSON {
		enc := json.NewEncoder(g.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		w := g.Stdout
		fmt.Fprintf(w, "chara      %s\n", r.Chara)
		fmt.Fprintf(w, "go         %s\n", r.Go)
		switch {
		case r.torchAbsent != "":
			fmt.Fprintf(w, "libtorch   not available: %s\n", r.torchAbsent)
			fmt.Fprintf(w, "threads    %d CPUs\n", r.CPUThreads)
			fmt.Fprintf(w, "cuda       unknown (chara-torch reads it)\n")
		default:
			fmt.Fprintf(w, "libtorch   %s (built against headers %s)\n", orUnknown(r.Libtorch), r.LibtorchHeader)
			if r.TorchBinary != "" {
				fmt.Fprintf(w, "torch      %s (train, predict, serve and the other libtorch commands)\n", r.TorchBinary)
			}
			fmt.Fprintf(w, "threads    %d CPUs, libtorch uses %d\n", r.CPUThreads, r.TorchThreads)
			if r.CUDA {
				fmt.Fprintf(w, "cuda       available, %s\n", plural(len(r.Devices), "device", "devices"))
				for _, d := range r.Devices {
					fmt.Fprintf(w, "           %s\n", d)
				}
				if r.CuDNN > 0 {
					fmt.Fprintf(w, "cudnn      %d\n", r.CuDNN)
				} else {
					fmt.Fprintf(w, "cudnn      not available\n")
				}
			} else {
				fmt.Fprintf(w, "cuda       not available (training and prediction run on the CPU)\n")
			}
		}
		if torchOnly {
			// nothing about Redis: the light chara reports it
		} else if r.Redis != "" {
			fmt.Fprintf(w, "redis      %s: %s (scrape.redis: a crawl shared by several machines)\n", r.Redis, r.RedisState)
		} else {
			fmt.Fprintf(w, "redis      not configured (scrape.redis shares one crawl between machines: README, \"Several machines, one crawl\")\n")
		}
	}
	return torchErr
}

// errNoTorchVersion: libtorch loaded but said nothing, the sign of a
// library other than the one chara was built for.
var errNoTorchVersion = errors.New("libtorch did not report its version: the library loaded at run time may not be the one chara was built for (check LD_LIBRARY_PATH)")

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
