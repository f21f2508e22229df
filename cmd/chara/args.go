package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/suggest"
)

// normalizeArgs reorders a command line so that urfave/cli/v2, which stops
// reading flags at the first argument (Go's flag package), accepts flags
// anywhere, as git and gallery-dl do:
//
//	chara predict img.png --json --top 2   -> chara predict --json --top 2 -- img.png
//	chara train -v --epochs 3              -> chara -v train --epochs 3
//
// At each level a command's own flags stay with it (they win over a global
// flag of the same name); global flags given after a subcommand move up to
// the application; arguments follow a "--" so that nothing after it is read
// as a flag. An unknown flag or subcommand is a usage error with a "did you
// mean" suggestion (internal/suggest: Jaro-Winkler, as urfave's own). The
// help, version and bash-completion flags are known everywhere.
func normalizeArgs(app *cli.App, args []string) ([]string, error) {
	if len(args) == 0 || args[len(args)-1] == "--generate-bash-completion" {
		return args, nil // shell completion: urfave reads the line as typed
	}
	var globalsOut []string
	rest, err := normalizeLevel(app, nil, "", args[1:], &globalsOut)
	if err != nil {
		return nil, err
	}
	out := append([]string{args[0]}, globalsOut...)
	return append(out, rest...), nil
}

// normalizeLevel handles the arguments of one command (cmd is nil for the
// application itself) and, through recursion, those of its subcommand.
// path is the command's name path ("dataset build"), "" for the application.
func normalizeLevel(app *cli.App, cmd *cli.Command, path string, args []string, globalsOut *[]string) ([]string, error) {
	var own, positional []string
	root := cmd == nil
	flags, subs := app.Flags, app.Commands
	if cmd != nil {
		flags, subs = cmd.Flags, cmd.Subcommands
	}
	hasAction := cmd != nil && cmd.Action != nil
	where := "chara"
	if path != "" {
		where = path
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if len(a) > 1 && a[0] == '-' {
			name, hasValue := flagName(a)
			f, global := findFlag(flags, name), false
			if f == nil && !root {
				f, global = findFlag(app.Flags, name), true
			}
			if f != nil {
				tokens := []string{a}
				if !hasValue && flagTakesValue(f) {
					if i+1 >= len(args) {
						return nil, usagef("%s: flag %s needs a value (see %s --help)", where, a, strings.TrimSpace("chara "+path))
					}
					i++
					tokens = append(tokens, args[i])
				}
				if global {
					*globalsOut = append(*globalsOut, tokens...)
				} else {
					own = append(own, tokens...)
				}
				continue
			}
			if isBuiltinFlag(app, name) {
				own = append(own, a)
				continue
			}
			msg := fmt.Sprintf("unknown flag %s", a)
			if !root {
				msg = where + ": " + msg
			}
			if s := suggestFlag(append(append([]cli.Flag{}, flags...), app.Flags...), name); s != "" {
				msg += fmt.Sprintf("; did you mean %s?", s)
			}
			return nil, usagef("%s (see %s --help)", msg, strings.TrimSpace("chara "+path))
		}
		if len(positional) == 0 && len(subs) > 0 {
			if a == "help" || a == "h" { // urfave's help command: the rest names a command
				if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && findCommand(subs, args[i+1]) == nil {
					msg := fmt.Sprintf("no help for %q: not a command", args[i+1])
					if s := suggestCommand(subs, args[i+1]); s != "" {
						msg += fmt.Sprintf("; did you mean %q?", s)
					}
					return nil, usagef("%s (see %s --help)", msg, strings.TrimSpace("chara "+path))
				}
				return append(append(own, a), args[i+1:]...), nil
			}
			if sub := findCommand(subs, a); sub != nil {
				rest, err := normalizeLevel(app, sub, strings.TrimSpace(path+" "+sub.Name), args[i+1:], globalsOut)
				if err != nil {
					return nil, err
				}
				return append(append(own, a), rest...), nil
			}
			if !hasAction {
				msg := fmt.Sprintf("unknown command %q", a)
				if !root {
					msg = fmt.Sprintf("%s: unknown command %q", where, a)
				}
				if s := suggestCommand(subs, a); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				return nil, usagef("%s (see %s --help)", msg, strings.TrimSpace("chara "+path))
			}
		}
		positional = append(positional, a)
	}
	if len(positional) > 0 {
		own = append(own, "--")
		own = append(own, positional...)
	}
	return own, nil
}

// flagName returns the name in "-x", "--name" or "--name=value".
func flagName(a string) (name string, hasValue bool) {
	name = strings.TrimLeft(a, "-")
	if i := strings.IndexByte(name, '='); i >= 0 {
		return name[:i], true
	}
	return name, false
}

func findFlag(flags []cli.Flag, name string) cli.Flag {
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return f
			}
		}
	}
	return nil
}

func flagTakesValue(f cli.Flag) bool {
	if d, ok := f.(cli.DocGenerationFlag); ok {
		return d.TakesValue()
	}
	return true
}

func isBuiltinFlag(app *cli.App, name string) bool {
	for _, f := range []cli.Flag{cli.HelpFlag, cli.VersionFlag, cli.BashCompletionFlag} {
		if f != nil && findFlag([]cli.Flag{f}, name) != nil {
			return true
		}
	}
	return false
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// suggestCommand returns the visible command name nearest to name, or "".
func suggestCommand(cmds []*cli.Command, name string) string {
	var names []string
	for _, c := range cmds {
		if !c.Hidden {
			names = append(names, c.Names()...)
		}
	}
	return suggest.Nearest(name, names)
}

// suggestFlag returns "--flag" (or "-f") nearest to name, or "".
func suggestFlag(flags []cli.Flag, name string) string {
	var names []string
	for _, f := range flags {
		names = append(names, f.Names()...)
	}
	s := suggest.Nearest(name, names)
	switch {
	case s == "":
		return ""
	case len(s) == 1:
		return "-" + s
	}
	return "--" + s
}
