// Command tailgate is a CI timing-regression gate for edge inference: it times a model on the
// board, stores baselines, gates the latency tail and publishes the verdict to GitHub.
//
// main is thin: it picks the subcommand, hands it its arguments and the environment, and turns
// the returned error into an exit code. The work lives in the harness, baseline, gate and
// runner packages.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/spf13/pflag"
	"github.com/tailgate-ci/tailgate/gate"
)

// Exit codes, the same for every subcommand: the gate's table. When several apply the worst
// wins, ranked error > incomparable > regression > inconclusive > pass (gate.WorseExit), not
// numerically.
const (
	exitPass         = gate.ExitPass
	exitRegression   = gate.ExitRegression
	exitError        = gate.ExitError
	exitIncomparable = gate.ExitIncomparable
	exitInconclusive = gate.ExitInconclusive
)

// codeError carries a specific exit code out of a subcommand.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

// withCode wraps err so that main exits with code.
func withCode(code int, err error) error {
	if err == nil && code == exitPass {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("exit %d", code)
	}
	return &codeError{code: code, err: err}
}

// env is what a subcommand may see of the process: arguments, streams and environment.
type env struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
}

type command struct {
	summary string
	run     func(e *env, args []string) error
}

// commands holds every subcommand; each subcommand's file adds itself in an init function, so
// that subcommands are added without touching this file.
var commands = map[string]command{}

func main() {
	e := &env{stdout: os.Stdout, stderr: os.Stderr, stdin: os.Stdin, getenv: os.Getenv}
	os.Exit(run(e, os.Args[1:]))
}

func run(e *env, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return exitError
		}
		return exitPass
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "tailgate: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return exitError
	}
	err := cmd.run(e, args[1:])
	if err == nil || errors.Is(err, pflag.ErrHelp) {
		return exitPass
	}
	var ce *codeError
	if errors.As(err, &ce) {
		if ce.err != nil && ce.code != exitPass {
			fmt.Fprintf(e.stderr, "tailgate %s: %v\n", args[0], ce.err)
		}
		return ce.code
	}
	fmt.Fprintf(e.stderr, "tailgate %s: %v\n", args[0], err)
	return exitError
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: tailgate <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nexit codes: 0 pass, 1 regression, 2 error, 3 incomparable, 4 inconclusive")
}
