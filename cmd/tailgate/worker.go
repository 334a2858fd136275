package main

import (
	"fmt"
	"os"

	"github.com/tailgate-ci/tailgate/harness/execbackend"
)

func init() {
	commands["worker"] = command{"run a shipped worker of the exec backend: echo (the transport calibration)", workerCmd}
}

// workerCmd runs `tailgate worker echo`: the echo worker, on this process's stdin and stdout.
func workerCmd(e *env, args []string) error {
	if len(args) != 1 || args[0] != "echo" {
		return withCode(exitError, fmt.Errorf("usage: tailgate worker echo (the other workers are in harness/execbackend/workers and docs/workers)"))
	}
	return execbackend.Echo(int(os.Stdin.Fd()), int(os.Stdout.Fd()))
}

// echoWorker is the argv of this binary's echo worker, which calibrates the exec backend's
// transport; nil when the binary cannot be found.
func echoWorker() []string {
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	return []string{exe, "worker", "echo"}
}
