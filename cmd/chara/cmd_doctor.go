package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/scrape"
	"github.com/chara-dev/chara/train/torchrt"
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
	// The shared crawl (scrape.redis in the workspace's chara.yaml).
	Redis      string `json:"redis,omitempty"`       // the URL, password redacted
	RedisState string `json:"redis_state,omitempty"` // "Redis 7.0.15 reachable", or what failed
}

func newDoctorCommand() *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check chara's environment: libtorch, threads, CUDA, the shared crawl's Redis",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the report as JSON"}},
		Action: func(c *cli.Context) error {
			return runDoctor(globals(c), c.Bool("json"))
		},
	}
}

func runDoctor(g *globalOptions, asJSON bool) error {
	r := doctorReport{
		Chara:          version,
		Go:             runtime.Version(),
		Libtorch:       torchrt.RuntimeVersion(),
		LibtorchHeader: torchrt.CompiledVersion(),
		CPUThreads:     runtime.NumCPU(),
		TorchThreads:   torchrt.NumThreads(),
		CUDA:           torchrt.CUDAAvailable(),
		Devices:        []string{},
	}
	if r.CUDA {
		for i := 0; i < torchrt.CUDADeviceCount(); i++ {
			name := torchrt.CUDADeviceName(i)
			if name == "" {
				name = "unknown"
			}
			r.Devices = append(r.Devices, fmt.Sprintf("cuda:%d %s", i, name))
		}
		r.CuDNN = torchrt.CuDNNVersion()
	}
	if cfg, err := config.Load(g.ConfigPath); err == nil && cfg.Scrape.Redis != "" {
		r.Redis = scrape.RedactURL(cfg.Scrape.Redis)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if v, err := scrape.PingRedis(ctx, cfg.Scrape.Redis); err != nil {
			r.RedisState = "unreachable: " + err.Error()
		} else {
			r.RedisState = "Redis " + v + " reachable"
		}
		cancel()
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
		fmt.Fprintf(w, "libtorch   %s (built against headers %s)\n", orUnknown(r.Libtorch), r.LibtorchHeader)
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
		if r.Redis != "" {
			fmt.Fprintf(w, "redis      %s: %s (scrape.redis: a crawl shared by several machines)\n", r.Redis, r.RedisState)
		} else {
			fmt.Fprintf(w, "redis      not configured (scrape.redis shares one crawl between machines: README, \"Several machines, one crawl\")\n")
		}
	}
	if r.Libtorch == "" {
		return fmt.Errorf("libtorch did not report its version: the library loaded at run time may not be the one chara was built for (check LD_LIBRARY_PATH)")
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
