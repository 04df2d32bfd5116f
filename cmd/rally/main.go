// Command rally benchmarks Elasticsearch and OpenSearch clusters from many
// hosts at once. It reaches every host over SSH and installs nothing there
// beforehand: `rally up` pushes its own static binary and starts it as a
// worker joined to a coordinator on this machine.
//
// This package is wiring only: one struct per command (kong), each with a
// short Run method that hands over to the package doing the work. It must
// not hold benchmark, SSH or coordinator logic itself.
//
// Exit codes: 0 ok, 1 failure, 2 bad usage or input (a flag error, an
// inventory with problems).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"

	"rally/inventory"
	"rally/track"
)

// Exit codes, as documented in ARCHITECTURE.md.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// cli is the whole command line: global flags and one field per command.
type cli struct {
	LogLevel levelFlag `name:"log-level" default:"info" placeholder:"LEVEL" help:"Log level of messages on stderr: debug, info, warn or error (default: ${default})."`

	Up          upCmd          `cmd:"" help:"Form a cluster: connect to every host of an inventory and start a worker there."`
	Status      statusCmd      `cmd:"" help:"Show a running cluster: hosts, workers and the actor system."`
	Down        downCmd        `cmd:"" help:"Tear a cluster down: stop workers and nodes, fetch logs, remove files."`
	Race        raceCmd        `cmd:"" help:"Run a benchmark (a race) on a running cluster."`
	Info        infoCmd        `cmd:"" help:"Describe a track: indices, corpora, challenges and their schedules."`
	TUI         tuiCmd         `cmd:"" name:"tui" help:"Watch a running cluster in a terminal UI."`
	List        listCmd        `cmd:"" help:"List saved things (races)."`
	Compare     compareCmd     `cmd:"" help:"Compare the results of two races."`
	Version     versionCmd     `cmd:"" help:"Print rally's version and build checksum."`
	Worker      workerCmd      `cmd:"" hidden:"" help:"Run as a worker on a host (started by the coordinator over SSH)."`
	Provisioner provisionerCmd `cmd:"" hidden:"" help:"Install, start and stop nodes on a provisioner host (run by the coordinator over SSH)."`
}

const description = `rally benchmarks Elasticsearch and OpenSearch clusters from many hosts at once. It reaches every host over SSH and installs nothing there beforehand.

A session:

    rally up --check -i hosts.yaml   # validate the inventory, no connection
    rally up --detach -i hosts.yaml  # form the cluster in the background
    rally status
    rally race --track-path ./my-track --target-hosts 10.0.0.21:9200
    rally down

Exit codes: 0 ok, 1 failure, 2 bad usage or input.`

// env is what every command's Run gets besides its context: the standard
// streams. Commands never touch os.Stdin or os.Stdout directly, so tests
// can run them.
type env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// logLevel is the level of the default logger, set from --log-level. A
// LevelVar so that a coordinator started from the CLI can share it.
var logLevel = new(slog.LevelVar)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// kongExit carries an exit code requested by kong (after --help) out of
// Parse, which would otherwise go on parsing.
type kongExit int

// run parses args, runs the chosen command and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	var c cli
	parser, err := kong.New(&c,
		kong.Name("rally"),
		kong.Description(description),
		kong.Writers(stdout, stderr),
		kong.Exit(func(code int) { panic(kongExit(code)) }),
		kong.ConfigureHelp(kong.HelpOptions{WrapUpperBound: 100}),
		kong.Bind(&env{Stdin: stdin, Stdout: stdout, Stderr: stderr}),
		kong.BindTo(ctx, (*context.Context)(nil)),
	)
	if err != nil {
		fmt.Fprintf(stderr, "rally: internal error: %v\n", err)
		return exitFailure
	}
	defer func() {
		if r := recover(); r != nil {
			k, ok := r.(kongExit)
			if !ok {
				panic(r)
			}
			code = int(k)
		}
	}()
	kctx, err := parser.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "rally: error: %v\n", err)
		var pe *kong.ParseError
		if errors.As(err, &pe) && pe.Context != nil && pe.Context.Selected() != nil {
			fmt.Fprintf(stderr, "Run \"%s --help\" for more information.\n", pe.Context.Selected().FullPath())
		} else {
			fmt.Fprintln(stderr, `Run "rally --help" for more information.`)
		}
		return exitUsage
	}
	logLevel.Set(slog.Level(c.LogLevel))
	slog.SetDefault(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: logLevel})))

	if err := kctx.Run(); err != nil {
		reportError(stderr, kctx.Command(), err)
		return exitCode(err)
	}
	return exitOK
}

// reportError prints a command's error for a person: inventory problems one per
// line as file:line:col (as compilers do, so editors can jump there),
// anything else prefixed with the command.
func reportError(w io.Writer, command string, err error) {
	var shown *shownError
	if errors.As(err, &shown) {
		return
	}
	var problems inventory.Problems
	if errors.As(err, &problems) {
		fmt.Fprintln(w, problems.Error())
		return
	}
	fmt.Fprintf(w, "rally %s: %v\n", strings.TrimSpace(command), err)
}

// exitCode maps an error to the process exit code: 2 for bad usage or bad
// input, 1 for any other failure.
func exitCode(err error) int {
	var (
		usage    *usageError
		problems inventory.Problems
		parse    *kong.ParseError
		trackErr *track.Error
	)
	if errors.As(err, &usage) || errors.As(err, &problems) || errors.As(err, &parse) || errors.As(err, &trackErr) {
		return exitUsage
	}
	return exitFailure
}

// usageError marks an error as the user's to fix (a bad flag combination, a
// bad file): the process exits with 2.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// usageErrorf returns a usageError with a formatted message; %w works.
func usageErrorf(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// shownError is an error the command already reported in its own format
// (e.g. as JSON on stdout): main only turns it into an exit code.
type shownError struct{ err error }

func (e *shownError) Error() string { return e.err.Error() }
func (e *shownError) Unwrap() error { return e.err }

// errNotImplemented is what commands whose package is not built yet return.
var errNotImplemented = errors.New("not implemented yet")

// notImplemented returns errNotImplemented; main prints it as
// "rally <command>: not implemented yet" and exits 1.
func notImplemented() error { return errNotImplemented }

// levelFlag is --log-level: debug, info, warn or error, in any case (a
// detached coordinator is handed slog's own spelling, e.g. INFO).
type levelFlag slog.Level

// Decode implements kong.MapperValue.
func (l *levelFlag) Decode(ctx *kong.DecodeContext) error {
	var s string
	if err := ctx.Scan.PopValueInto("level", &s); err != nil {
		return err
	}
	switch strings.ToLower(s) {
	case "debug":
		*l = levelFlag(slog.LevelDebug)
	case "info":
		*l = levelFlag(slog.LevelInfo)
	case "warn":
		*l = levelFlag(slog.LevelWarn)
	case "error":
		*l = levelFlag(slog.LevelError)
	default:
		return fmt.Errorf("unknown level %q (want debug, info, warn or error)", s)
	}
	return nil
}
