// Command chara turns a list of character names into a trained image
// classifier: scrape, curate, dataset, train, predict and serve.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/urfave/cli/v2"
)

// Exit codes, decided here only.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 2
	exitInterrupted = 130
	// exitNoTorch: the light build was asked for a command that needs
	// libtorch and found no chara-torch to run it (127, as a shell says
	// for a command not found).
	exitNoTorch = 127
)

// argvKey holds, in the command's context, the command line as given.
type argvKey struct{}

func main() {
	os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr))
}

// run executes the CLI and returns the process exit code.
func run(parent context.Context, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(parent, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx = context.WithValue(ctx, argvKey{}, args) // what the light build hands to chara-torch
	app := newApp(stdout, stderr)
	args, err := normalizeArgs(app, args)
	if err == nil {
		err = app.RunContext(ctx, args)
	}
	if g, ok := app.Metadata["globals"].(*globalOptions); ok {
		g.closeReporter() // before the error line: bars erased, the cursor on a clean line
	}
	return exitCode(ctx, err, stderr)
}

func exitCode(ctx context.Context, err error, stderr io.Writer) int {
	// Interrupted is interrupted, even when the command stopped cleanly and
	// returned no error (a script must not take a half-done stage for done).
	if ctx.Err() != nil || errors.Is(err, context.Canceled) {
		fmt.Fprintln(stderr, "chara: interrupted")
		return exitInterrupted
	}
	if err == nil {
		return exitOK
	}
	var ue *usageError
	if errors.As(err, &ue) || isRequiredFlagError(err) {
		fmt.Fprintf(stderr, "chara: %v\n", err)
		return exitUsage
	}
	var ee *exitCodeError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintf(stderr, "chara: %v\n", ee.err)
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "chara: %v\n", err)
	return exitFailure
}

// isRequiredFlagError recognises urfave/cli's missing-required-flag error,
// whose type is unexported ("Required flag "class" not set").
func isRequiredFlagError(err error) bool {
	return strings.HasPrefix(err.Error(), "Required flag")
}

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{msg: fmt.Sprintf(format, args...)} }

// exitError carries a specific exit code (e.g. 1 after printing a problem list).
type exitCodeError struct {
	code int
	err  error
}

func (e *exitCodeError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitCodeError) Unwrap() error { return e.err }

func init() {
	// -v is --verbose here, so --version has no short alias.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version"}
}

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:                 "chara",
		Usage:                "turn a list of character names into a trained image classifier",
		Version:              version,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		Flags:                globalFlags(),
		Before:               setupGlobals,
		OnUsageError: func(c *cli.Context, err error, isSubcommand bool) error {
			return usagef("%v", err)
		},
		ExitErrHandler: func(*cli.Context, error) {}, // exit codes are decided in exitCode
		Commands: []*cli.Command{
			newInitCommand(),
			newConfigCommand(),
			newScrapeCommand(),
			newCollectCommand(),
			newImportCommand(),
			newCurateCommand(),
			newReviewCommand(),
			newDatasetCommand(),
			newClassesCommand(),
			newTrainCommand(),
			newEvaluateCommand(),
			newSuspectsCommand(),
			newWeightsCommand(),
			newModelsCommand(),
			newCompareCommand(),
			newPredictCommand(),
			newServeCommand(),
			newRunCommand(),
			newDemoCommand(),
			newDoctorCommand(),
			newVersionCommand(),
		},
	}
	for _, c := range app.Commands {
		setUsageHandler(c)
	}
	lockWriters(app.Commands, "")
	return app
}

func setUsageHandler(c *cli.Command) {
	c.OnUsageError = func(_ *cli.Context, err error, _ bool) error { return usagef("%s: %v", c.Name, err) }
	for _, s := range c.Subcommands {
		setUsageHandler(s)
	}
}

// notBuilt is the action of a command that a later issue fills in.
func notBuilt(name string) cli.ActionFunc {
	return func(*cli.Context) error {
		return fmt.Errorf("%s is not built yet", name)
	}
}
