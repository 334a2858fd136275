package main

import (
	"fmt"
	"runtime"

	"github.com/spf13/pflag"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
)

// Stamped by the Makefile with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

func init() {
	commands["version"] = command{"print version, commit, Go and ONNX Runtime versions", versionCmd}
}

func versionCmd(e *env, args []string) error {
	fs := pflag.NewFlagSet("version", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var ortPath string
	addORTFlag(fs, &ortPath)
	if err := fs.Parse(args); err != nil {
		return withCode(exitError, err)
	}
	fmt.Fprintf(e.stdout, "tailgate %s (commit %s)\n", version, commit)
	fmt.Fprintf(e.stdout, "go        %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	path, err := ortlib.Locate(ortSearch(e, ortPath))
	if err != nil {
		fmt.Fprintf(e.stdout, "onnxruntime: not loaded: %v\n", err)
		return withCode(exitError, fmt.Errorf("no ONNX Runtime library"))
	}
	lib, err := ortlib.Load(path)
	if err != nil {
		fmt.Fprintf(e.stdout, "onnxruntime: found %s but could not load it: %v\n", path, err)
		return withCode(exitError, err)
	}
	pin := ""
	if lib.Version != ortlib.PinnedVersion {
		pin = fmt.Sprintf(" (pinned is %s)", ortlib.PinnedVersion)
	}
	fmt.Fprintf(e.stdout, "onnxruntime %s%s\n  library %s\n  sha256  %s\n", lib.Version, pin, lib.Path, lib.SHA256)
	return nil
}
