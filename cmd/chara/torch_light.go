//go:build chara_notorch

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"

	"github.com/chara-dev/chara/internal/pipeline"
)

// The commands that need libtorch: in this build their actions run
// chara-torch (torch.go). A command whose action is added to a
// cmd_<name>_torch.go file fails to compile here until it is listed.
var (
	trainAction        = delegate("train")
	evaluateAction     = delegate("evaluate")
	suspectsAction     = delegate("suspects")
	weightsFetchAction = delegate("weights fetch")
	weightsListAction  = delegate("weights list")
	weightsCheckAction = delegate("weights check")
	modelsAction       = delegate("models")
	compareAction      = delegate("compare")
	predictAction      = delegate("predict")
	serveAction        = delegate("serve")
	runAction          = lightRun()
	demoAction         = delegate("demo")
)

const (
	// torchBinary is the full build's name, beside this binary or on $PATH.
	torchBinary = "chara-torch"
	// torchPathEnv names chara-torch explicitly.
	torchPathEnv = "CHARA_TORCH"
	// delegatedEnv is set for chara-torch; a light binary that finds it
	// set was itself started as chara-torch (a misbuilt install) and stops
	// instead of starting itself again.
	delegatedEnv = "CHARA_DELEGATED"
)

// lightRun is chara run's action here: a run that trains nothing (--only
// scrape, curate or dataset) runs in this process, under the workspace
// lock; one that trains goes to chara-torch, which takes the lock.
func lightRun() cli.ActionFunc {
	delegated["run"] = true
	stages := runStagesAction(nil)
	return func(c *cli.Context) error {
		sel, err := pipeline.Select(c.String("from"), c.String("only"), c.StringSlice("force"))
		if err != nil || sel["train"] {
			return execTorch(c.Context, "run") // chara-torch reports a bad selection
		}
		return withWorkspaceLock(c, "run", stages)
	}
}

func delegate(name string) cli.ActionFunc {
	delegated[name] = true
	return func(c *cli.Context) error { return execTorch(c.Context, name) }
}

// findTorch finds chara-torch: $CHARA_TORCH, else beside this binary, else
// on $PATH.
func findTorch() (string, error) {
	if p := os.Getenv(torchPathEnv); p != "" {
		if err := executable(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", torchPathEnv, p, err)
		}
		return p, nil
	}
	where := "this binary"
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), torchBinary)
		if executable(p) == nil {
			return p, nil
		}
		where = filepath.Dir(self)
	}
	if p, err := exec.LookPath(torchBinary); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("no %s in %s nor on $PATH (%s unset)", torchBinary, where, torchPathEnv)
}

func executable(p string) error {
	st, err := os.Stat(p)
	switch {
	case err != nil:
		return err
	case st.IsDir() || st.Mode()&0o111 == 0:
		return fmt.Errorf("not an executable file")
	}
	return nil
}

// errNoTorch says what is missing and how to get it.
func errNoTorch(name string, err error) error {
	return &exitCodeError{code: exitNoTorch, err: fmt.Errorf("%s needs libtorch, which this chara (built without it) leaves to %s: %v; "+
		"\"make build\" builds both bin/chara and bin/%s, or set %s to a chara built with libtorch", name, torchBinary, err, torchBinary, torchPathEnv)}
}

// execTorch replaces this process with chara-torch, given the command line
// as this one was. It returns only when that fails.
func execTorch(ctx context.Context, name string) error {
	if by := os.Getenv(delegatedEnv); by != "" {
		return fmt.Errorf("%s: %s is a chara built without libtorch too (started by another one); \"make build\" writes the full build as bin/%s", name, by, torchBinary)
	}
	path, err := findTorch()
	if err != nil {
		return errNoTorch(name, err)
	}
	argv, _ := ctx.Value(argvKey{}).([]string)
	if len(argv) == 0 {
		argv = os.Args
	}
	err = syscall.Exec(path, argv, append(os.Environ(), delegatedEnv+"="+path))
	return fmt.Errorf("%s: running %s: %w", name, path, err)
}

// torchNote is what "chara version" adds: where chara-torch is.
func torchNote() string {
	p, err := findTorch()
	if err != nil {
		return fmt.Sprintf("built without libtorch; %v: train, predict, serve and the other libtorch commands need it (make build)", err)
	}
	return fmt.Sprintf("built without libtorch; train, predict, serve and the other libtorch commands run %s", p)
}

// doctorTorch asks chara-torch for the libtorch part of the report
// (chara-torch doctor --torch-only --json). Without chara-torch the
// report says so and doctor still succeeds: a machine that only scrapes
// and curates needs no libtorch.
func doctorTorch(ctx context.Context, g *globalOptions, r *doctorReport, torchOnly bool) error {
	if torchOnly {
		return execTorch(ctx, "doctor --torch-only")
	}
	path, err := findTorch()
	if err != nil {
		r.torchAbsent = fmt.Sprintf("%v; train, predict, serve and the other libtorch commands need it (\"make build\" builds bin/%s)", err, torchBinary)
		return nil
	}
	cmd := exec.CommandContext(ctx, path, "doctor", "--torch-only", "--json")
	cmd.Env = append(os.Environ(), delegatedEnv+"="+path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()
	var t doctorReport
	if err := json.Unmarshal(out, &t); err != nil {
		if runErr != nil {
			err = runErr
		}
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			err = fmt.Errorf("%w: %s", err, msg)
		}
		r.torchAbsent = fmt.Sprintf("%s did not answer: %v", path, err)
		return fmt.Errorf("doctor: %s doctor --torch-only: %w", path, err)
	}
	r.Libtorch, r.LibtorchHeader, r.TorchThreads = t.Libtorch, t.LibtorchHeader, t.TorchThreads
	r.CUDA, r.CuDNN, r.TorchBinary = t.CUDA, t.CuDNN, path
	if t.Devices != nil {
		r.Devices = t.Devices
	}
	if r.Libtorch == "" {
		return errNoTorchVersion
	}
	return nil
}
