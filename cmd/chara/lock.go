package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/config"
	"github.com/chara-dev/chara/internal/wslock"
	"github.com/chara-dev/chara/manifests"
)

// writers are the commands that write to the workspace: each holds the
// workspace lock while it runs, so a second one fails at once naming the
// first. The others only read and take no lock (they never wait).
var writers = map[string]bool{
	"init": true, "scrape": true, "import": true, "curate": true, "review": true,
	"dataset build": true, "classes add": true, "classes remove": true,
	"train": true, "run": true, "evaluate": true, "collect": true, "suspects": true,
}

// lockWriters wraps the action of every writing command (and subcommand)
// in the workspace lock. A command the light build hands to chara-torch
// takes no lock there: chara-torch takes it.
func lockWriters(cmds []*cli.Command, parent string) {
	for _, c := range cmds {
		name := strings.TrimSpace(parent + " " + c.Name)
		lockWriters(c.Subcommands, name)
		if !writers[name] || c.Action == nil || delegated[name] {
			continue
		}
		action := c.Action
		c.Action = func(cc *cli.Context) error {
			if name == "scrape" && cc.Bool("status") {
				return action(cc) // reads the shared crawl in Redis only: fine beside a running scrape
			}
			return withWorkspaceLock(cc, name, action)
		}
	}
}

// withWorkspaceLock runs the writing command name's action under the
// workspace lock.
func withWorkspaceLock(cc *cli.Context, name string, action cli.ActionFunc) error {
	l, err := wslock.Acquire(manifests.LockPath(globals(cc).Workspace), name)
	if err != nil {
		return err
	}
	defer l.Release()
	migrateLegacySlugs(globals(cc))
	return action(cc)
}

// migrateLegacySlugs moves the folders of classes named in a workspace made
// before folder names kept every script (u4e2d... -> 中...). It runs under
// the workspace lock; a config that does not load is left to the command.
func migrateLegacySlugs(g *globalOptions) {
	cfg, err := config.Load(g.ConfigPath)
	if err != nil {
		return
	}
	done, err := manifests.MigrateLegacySlugs(g.Workspace, classNames(cfg))
	for _, d := range done {
		fmt.Fprintf(g.Stderr, "chara: renamed %s (class folders now keep their letters)\n", d)
	}
	if err != nil {
		fmt.Fprintf(g.Stderr, "chara: warning: %v\n", err)
	}
}
