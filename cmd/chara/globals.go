package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/internal/progress"
	"github.com/chara-dev/chara/manifests"
)

// globalOptions are the flags every command shares.
type globalOptions struct {
	Workspace  string
	ConfigPath string
	LogFormat  string // text | json
	Verbose    bool
	Stdout     io.Writer
	Stderr     io.Writer

	rep *sharedReporter // shared by copies of the options (chara demo)
}

type sharedReporter struct {
	once sync.Once
	r    progress.Reporter
}

type globalsKey struct{}

func globalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "workspace", Aliases: []string{"w"}, Value: ".", EnvVars: []string{"CHARA_WORKSPACE"}, Usage: "workspace `DIR` holding chara.yaml, raw/, curated/, datasets/, runs/"},
		&cli.StringFlag{Name: "config", Aliases: []string{"c"}, Usage: "config `FILE` (default: chara.yaml in the workspace)"},
		&cli.StringFlag{Name: "log-format", Value: "text", Usage: "progress and log format: text or json"},
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "more detail"},
	}
}

func setupGlobals(c *cli.Context) error {
	g := &globalOptions{
		Workspace:  c.String("workspace"),
		ConfigPath: c.String("config"),
		LogFormat:  c.String("log-format"),
		Verbose:    c.Bool("verbose"),
		Stdout:     c.App.Writer,
		Stderr:     c.App.ErrWriter,
		rep:        &sharedReporter{},
	}
	if g.LogFormat != "text" && g.LogFormat != "json" {
		return usagef("--log-format: want text or json, got %q", g.LogFormat)
	}
	if !c.IsSet("workspace") {
		// Found from any subfolder, as git finds .git.
		g.Workspace = manifests.FindWorkspace(g.Workspace)
	}
	if g.ConfigPath == "" {
		g.ConfigPath = manifests.ConfigPath(g.Workspace)
	}
	c.App.Metadata = map[string]any{"globals": g}
	return nil
}

// globals returns the shared options set up before every command.
func globals(c *cli.Context) *globalOptions {
	for _, ctx := range c.Lineage() {
		if ctx.App != nil && ctx.App.Metadata != nil {
			if g, ok := ctx.App.Metadata["globals"].(*globalOptions); ok {
				return g
			}
		}
	}
	// A command run without the app's Before (tests): defaults.
	return &globalOptions{Workspace: ".", ConfigPath: manifests.ConfigFile, LogFormat: "text", Stdout: os.Stdout, Stderr: os.Stderr}
}

// loadConfig reads the workspace's chara.yaml.
func (g *globalOptions) loadConfig() (*config.Config, error) {
	cfg, err := config.Load(g.ConfigPath)
	if errors.Is(err, config.ErrNotFound) {
		return nil, fmt.Errorf("%w (run \"chara init\" to write one)", err)
	}
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// reporter picks how progress is shown: JSON lines, progress bars on a
// terminal, or plain lines otherwise. Progress goes to stderr.
// There is one reporter per command, so bars never interleave; main closes
// it when the command ends (erasing live bars after Ctrl-C).
func (g *globalOptions) reporter() progress.Reporter {
	if g.rep == nil {
		g.rep = &sharedReporter{}
	}
	g.rep.once.Do(func() {
		switch f, ok := g.Stderr.(*os.File); {
		case g.LogFormat == "json":
			g.rep.r = progress.JSON(g.Stderr)
		case ok && isTerminal(f):
			g.rep.r = progress.Terminal(f)
		default:
			g.rep.r = progress.Lines(g.Stderr, 5*time.Second)
		}
	})
	return g.rep.r
}

// closeReporter ends the reporter's live display, if one was made.
func (g *globalOptions) closeReporter() {
	if g.rep != nil && g.rep.r != nil {
		_ = progress.Close(g.rep.r)
	}
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
