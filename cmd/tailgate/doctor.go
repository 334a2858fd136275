package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/pflag"
	"github.com/tailgate-ci/tailgate/harness/ortlib"
	"github.com/tailgate-ci/tailgate/runner/config"
	"github.com/tailgate-ci/tailgate/runner/doctor"
	"github.com/tailgate-ci/tailgate/runner/host"
)

func init() {
	commands["doctor"] = command{"check the host's hardening and the pins; PASS/WARN/FAIL with the fix", doctorCmd}
}

// DefaultDoctorFormat is the output format of `tailgate doctor`.
const DefaultDoctorFormat = "table"

// doctorFlags are the flags of `tailgate doctor`.
type doctorFlags struct {
	root, cfgPath, cpuList, format, ortPath string
	pinKernel, pinORT, pinORTSHA            string
	pinModels, modelPaths                   []string
	tempWarn, tempFail                      float64
}

func doctorCmd(e *env, args []string) error {
	fs := pflag.NewFlagSet("doctor", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: tailgate doctor [--root DIR] [--config FILE] [--cpus LIST] [--format table|json] [pin flags]")
		fmt.Fprintln(e.stderr, "\nexit: 0 no FAIL (WARNs allowed), 2 a host check failed, 3 a pin failed (a run would be incomparable)")
		fs.PrintDefaults()
	}
	var f doctorFlags
	fs.StringVar(&f.root, "root", host.DefaultRoot, "read /proc and /sys below DIR (a captured tree, see fixtures/hosts/capture.sh)")
	fs.StringVar(&f.cfgPath, "config", "", "tailgate.yaml whose pins and suite CPUs to check")
	fs.StringVar(&f.cpuList, "cpus", "", "measured CPUs, e.g. 3 or 2-3 (default: the config's suite CPUs, else isolcpus=, else the last CPU)")
	fs.StringVar(&f.format, "format", DefaultDoctorFormat, "output: table or json")
	fs.StringVar(&f.pinKernel, "pin-kernel", "", "kernel release glob, e.g. '6.12.*-rt*' (overrides the config)")
	fs.StringVar(&f.pinORT, "pin-ort-version", "", "ONNX Runtime version, e.g. "+ortlib.PinnedVersion+" (overrides the config)")
	fs.StringVar(&f.pinORTSHA, "pin-ort-sha256", "", "ONNX Runtime library SHA-256 (overrides the config)")
	fs.StringArrayVar(&f.pinModels, "pin-model", nil, "NAME=SHA256 pin of a model file (repeatable)")
	fs.StringArrayVar(&f.modelPaths, "model", nil, "NAME=PATH of a pinned model (repeatable)")
	fs.Float64Var(&f.tempWarn, "temp-warn", doctor.DefaultTempWarnC, "WARN above this CPU temperature (°C)")
	fs.Float64Var(&f.tempFail, "temp-fail", doctor.DefaultTempFailC, "FAIL above this CPU temperature (°C)")
	addORTFlag(fs, &f.ortPath)
	if err := fs.Parse(args); err != nil {
		return withCode(exitError, err)
	}
	if fs.NArg() > 0 {
		return withCode(exitError, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}
	o, err := f.options()
	if err != nil {
		return withCode(exitError, err)
	}
	o.ORT = func() (ortlib.Library, error) { return loadORT(e, f.ortPath) }

	rep := doctor.Run(o)
	if f.format == "json" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return withCode(exitError, err)
		}
		fmt.Fprintf(e.stdout, "%s\n", b)
	} else if err := doctor.WriteTable(e.stdout, rep); err != nil {
		return withCode(exitError, err)
	}
	return withCode(rep.Exit())
}

// options turns the flags into doctor options: the config's pins and CPUs, overridden by the
// flags. It reports every malformed flag at once.
func (f doctorFlags) options() (doctor.Options, error) {
	var errs []string
	o := doctor.Options{}
	if f.cfgPath != "" {
		c, err := config.Load(f.cfgPath)
		if err != nil {
			return o, fmt.Errorf("--config: %w", err)
		}
		o = doctor.OptionsFromConfig(c)
	}
	o.Root, o.TempWarnC, o.TempFailC, o.ToolVersion = f.root, f.tempWarn, f.tempFail, version
	if f.format != "table" && f.format != "json" {
		errs = append(errs, fmt.Sprintf("--format %q: want table or json", f.format))
	}
	if f.tempFail < f.tempWarn {
		errs = append(errs, fmt.Sprintf("--temp-fail %.0f is below --temp-warn %.0f", f.tempFail, f.tempWarn))
	}
	if f.cpuList != "" {
		cpus, err := host.ParseCPUList(f.cpuList)
		if err != nil {
			errs = append(errs, "--cpus: "+err.Error())
		}
		o.CPUs = cpus
	}
	if f.pinKernel != "" {
		o.Pins.Kernel = f.pinKernel
	}
	if f.pinORT != "" {
		o.Pins.ORTVersion = f.pinORT
	}
	if f.pinORTSHA != "" {
		o.Pins.ORTSHA256 = f.pinORTSHA
	}
	o.Pins.Models = mergeKV(o.Pins.Models, "--pin-model", f.pinModels, &errs)
	o.ModelPaths = mergeKV(o.ModelPaths, "--model", f.modelPaths, &errs)
	if len(errs) > 0 {
		return o, fmt.Errorf("%s", strings.Join(errs, "; "))
	}
	return o, nil
}

// mergeKV adds NAME=VALUE flag values to dst (allocating it when needed); malformed values
// are appended to errs naming the flag.
func mergeKV(dst map[string]string, flag string, vals []string, errs *[]string) map[string]string {
	for _, v := range vals {
		name, val, ok := strings.Cut(v, "=")
		if !ok || name == "" || val == "" {
			*errs = append(*errs, fmt.Sprintf("%s %q: want NAME=VALUE", flag, v))
			continue
		}
		if dst == nil {
			dst = map[string]string{}
		}
		dst[name] = val
	}
	return dst
}
