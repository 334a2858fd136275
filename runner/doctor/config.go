package doctor

import (
	"fmt"

	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/harness/execbackend"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
	"github.com/tailgate-ci/tailgate/runner/childenv"
	"github.com/tailgate-ci/tailgate/runner/config"
	"github.com/tailgate-ci/tailgate/runner/host"
	"github.com/tailgate-ci/tailgate/runner/stress"
)

// OptionsFromConfig turns a loaded tailgate.yaml into doctor options: the kernel and ONNX
// Runtime pins, each pinned model's file, and the union of the suites' CPUs as the measured
// CPUs. The library hash is pinned only for the ONNX Runtime version tailgate ships a hash for.
func OptionsFromConfig(c *config.Config) Options {
	o := Options{Pins: Pins{Kernel: c.Pins.Kernel, ORTVersion: c.Pins.ONNXRuntime}}
	if c.Pins.ONNXRuntime == ortlib.PinnedVersion {
		o.Pins.ORTSHA256 = ortlib.PinnedSHA256[ortlib.CacheArch()]
	}
	if len(c.Pins.ModelSHA256) > 0 {
		o.Pins.Models = map[string]string{}
		o.ModelPaths = map[string]string{}
		for name, sum := range c.Pins.ModelSHA256 {
			o.Pins.Models[name] = sum
			if s, ok := c.Suites[name]; ok && s.Model != "" {
				o.ModelPaths[name] = s.Model
			}
		}
	}
	if len(c.Pins.Runtimes) > 0 {
		o.Pins.Runtimes = c.Pins.Runtimes
		for _, name := range c.SuiteNames() {
			if s := c.Suites[name]; s.Backend == "exec" {
				o.Workers = append(o.Workers, Worker{Suite: name, Probe: probe(s.Worker)})
			}
		}
	}
	var cpus []int
	for _, s := range c.Suites {
		cpus = append(cpus, s.CPUs...)
	}
	if len(cpus) > 0 {
		parsed, _ := host.ParseCPUList(host.FormatCPUList(cpus))
		o.CPUs = parsed
	}
	return o
}

// probe starts the worker command line in a scrubbed environment just for its handshake.
func probe(worker string) func() (execbackend.Ready, error) {
	return func() (execbackend.Ready, error) {
		argv, err := stress.Split(worker)
		if err != nil {
			return execbackend.Ready{}, err
		}
		b, err := execbackend.Open(execbackend.Options{Command: argv, Env: childenv.Environ(), Seed: 1})
		if err != nil {
			return execbackend.Ready{}, err
		}
		return b.Ready(), b.Close()
	}
}

// Exit is the exit code of a report and why: 3 (incomparable) when a pin failed, as a run here
// would not be comparable with its baseline; else 2 (error) when any check failed; else 0 and
// nil. WARNs never fail.
func (r Report) Exit() (int, error) {
	_, _, fail := r.Counts()
	switch {
	case r.PinsFailed():
		return gate.ExitIncomparable, fmt.Errorf("%d check(s) failed, pins among them: a run here would not be comparable with its baseline", fail)
	case fail > 0:
		return gate.ExitError, fmt.Errorf("%d check(s) failed", fail)
	}
	return gate.ExitPass, nil
}
