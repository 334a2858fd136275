package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/tw"
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

// doctorDetailWidth is where the table wraps the detail column, so a row fits a 120-column
// terminal or CI log.
const doctorDetailWidth = 72

// doctorOptionsFromConfig turns a loaded tailgate.yaml into doctor options: the kernel and
// ONNX Runtime pins, each pinned model's file, and the union of the suites' CPUs as the
// measured CPUs. The library hash is pinned only for the ONNX Runtime version tailgate ships a
// hash for. `ci` uses it too.
func doctorOptionsFromConfig(c *config.Config) doctor.Options {
	o := doctor.Options{Pins: doctor.Pins{Kernel: c.Pins.Kernel, ORTVersion: c.Pins.ONNXRuntime}}
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

func doctorCmd(e *env, args []string) error {
	fs := pflag.NewFlagSet("doctor", pflag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "usage: tailgate doctor [--root DIR] [--config FILE] [--cpus LIST] [--format table|json] [pin flags]")
		fmt.Fprintln(e.stderr, "\nexit: 0 no FAIL (WARNs allowed), 2 a host check failed, 3 a pin failed (a run would be incomparable)")
		fs.PrintDefaults()
	}
	var (
		root, cfgPath, cpuList, format, ortPath string
		pinKernel, pinORT, pinORTSHA            string
		pinModels, modelPaths                   []string
		tempWarn, tempFail                      float64
	)
	fs.StringVar(&root, "root", host.DefaultRoot, "read /proc and /sys below DIR (a captured tree, see fixtures/hosts/capture.sh)")
	fs.StringVar(&cfgPath, "config", "", "tailgate.yaml whose pins and suite CPUs to check")
	fs.StringVar(&cpuList, "cpus", "", "measured CPUs, e.g. 3 or 2-3 (default: the config's suite CPUs, else isolcpus=, else the last CPU)")
	fs.StringVar(&format, "format", DefaultDoctorFormat, "output: table or json")
	fs.StringVar(&pinKernel, "pin-kernel", "", "kernel release glob, e.g. '6.12.*-rt*' (overrides the config)")
	fs.StringVar(&pinORT, "pin-ort-version", "", "ONNX Runtime version, e.g. "+ortlib.PinnedVersion+" (overrides the config)")
	fs.StringVar(&pinORTSHA, "pin-ort-sha256", "", "ONNX Runtime library SHA-256 (overrides the config)")
	fs.StringArrayVar(&pinModels, "pin-model", nil, "NAME=SHA256 pin of a model file (repeatable)")
	fs.StringArrayVar(&modelPaths, "model", nil, "NAME=PATH of a pinned model (repeatable)")
	fs.Float64Var(&tempWarn, "temp-warn", doctor.DefaultTempWarnC, "WARN above this CPU temperature (°C)")
	fs.Float64Var(&tempFail, "temp-fail", doctor.DefaultTempFailC, "FAIL above this CPU temperature (°C)")
	addORTFlag(fs, &ortPath)
	if err := fs.Parse(args); err != nil {
		return withCode(exitError, err)
	}
	if fs.NArg() > 0 {
		return withCode(exitError, fmt.Errorf("unexpected argument %q", fs.Arg(0)))
	}

	var errs []string
	o := doctor.Options{}
	if cfgPath != "" {
		c, err := config.Load(cfgPath)
		if err != nil {
			return withCode(exitError, fmt.Errorf("--config: %w", err))
		}
		o = doctorOptionsFromConfig(c)
	}
	o.Root, o.TempWarnC, o.TempFailC, o.ToolVersion = root, tempWarn, tempFail, version
	if format != "table" && format != "json" {
		errs = append(errs, fmt.Sprintf("--format %q: want table or json", format))
	}
	if tempFail < tempWarn {
		errs = append(errs, fmt.Sprintf("--temp-fail %.0f is below --temp-warn %.0f", tempFail, tempWarn))
	}
	if cpuList != "" {
		cpus, err := host.ParseCPUList(cpuList)
		if err != nil {
			errs = append(errs, "--cpus: "+err.Error())
		}
		o.CPUs = cpus
	}
	if pinKernel != "" {
		o.Pins.Kernel = pinKernel
	}
	if pinORT != "" {
		o.Pins.ORTVersion = pinORT
	}
	if pinORTSHA != "" {
		o.Pins.ORTSHA256 = pinORTSHA
	}
	o.Pins.Models = mergeKV(o.Pins.Models, "--pin-model", pinModels, &errs)
	o.ModelPaths = mergeKV(o.ModelPaths, "--model", modelPaths, &errs)
	if len(errs) > 0 {
		return withCode(exitError, fmt.Errorf("%s", strings.Join(errs, "; ")))
	}
	o.ORT = func() (ortlib.Library, error) { return loadORT(e, ortPath) }

	rep := doctor.Run(o)
	if format == "json" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return withCode(exitError, err)
		}
		fmt.Fprintf(e.stdout, "%s\n", b)
	} else if err := renderDoctor(e.stdout, rep); err != nil {
		return withCode(exitError, err)
	}
	return doctorExit(rep)
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

// doctorExit maps a report to the exit code: 3 when a pin failed (a run would be
// incomparable), else 2 when any check failed, else 0; WARNs never fail.
func doctorExit(rep doctor.Report) error {
	_, _, fail := rep.Counts()
	switch {
	case rep.PinsFailed():
		return withCode(exitIncomparable, fmt.Errorf("%d check(s) failed, pins among them: a run here would not be comparable with its baseline", fail))
	case fail > 0:
		return withCode(exitError, fmt.Errorf("%d check(s) failed", fail))
	}
	return nil
}

// wrapText breaks s into lines of at most width runes at spaces, splitting a longer word
// where it must.
func wrapText(s string, width int) string {
	var lines []string
	var line []rune
	for _, word := range strings.Fields(s) {
		w := []rune(word)
		if len(line) > 0 && len(line)+1+len(w) > width {
			lines = append(lines, string(line))
			line = line[:0]
		}
		if len(line) > 0 {
			line = append(line, ' ')
		}
		for len(line)+len(w) > width {
			n := width - len(line)
			lines = append(lines, string(append(line, w[:n]...)))
			line, w = line[:0], w[n:]
		}
		line = append(line, w...)
	}
	if len(line) > 0 {
		lines = append(lines, string(line))
	}
	return strings.Join(lines, "\n")
}

// renderDoctor writes the report as a host header, a table of checks and the fixes.
func renderDoctor(w io.Writer, rep doctor.Report) error {
	h := rep.Host
	board := h.Board
	if board == "" {
		board = "unknown board"
	}
	fmt.Fprintf(w, "host    %s · %s ×%d · %s\n", board, h.CPUModel, h.CPUCount, h.Arch)
	rt := "not PREEMPT_RT"
	if h.PreemptRT {
		rt = "PREEMPT_RT"
	}
	fmt.Fprintf(w, "kernel  %s (%s)\n", h.KernelRelease, rt)
	fmt.Fprintf(w, "cpus    measured %s · root %s\n\n", host.FormatCPUList(rep.CPUs), rep.Root)

	t := tablewriter.NewTable(w,
		tablewriter.WithHeaderAutoFormat(tw.Off),
		// Wrapped here, not by tablewriter: its word wrap drops characters around words
		// longer than the column (sysfs paths).
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header([]string{"CHECK", "STATUS", "DETAIL"})
	for _, c := range rep.Checks {
		if err := t.Append([]string{c.ID, c.Status.String(), wrapText(c.Detail, doctorDetailWidth)}); err != nil {
			return err
		}
	}
	if err := t.Render(); err != nil {
		return err
	}

	var fixes []doctor.Check
	for _, c := range rep.Checks {
		if c.Status != doctor.Pass {
			fixes = append(fixes, c)
		}
	}
	// Failures first: they are what stops a run.
	sort.SliceStable(fixes, func(i, j int) bool { return fixes[i].Status > fixes[j].Status })
	if len(fixes) > 0 {
		fmt.Fprintln(w, "\nfixes:")
		for _, c := range fixes {
			fmt.Fprintf(w, "  %s %s\n      %s\n", c.Status, c.ID, c.Fix)
		}
	}
	p, wn, f := rep.Counts()
	fmt.Fprintf(w, "\n%d checks: %d pass, %d warn, %d fail", len(rep.Checks), p, wn, f)
	if rep.PinsFailed() {
		fmt.Fprint(w, " · pins FAILED: `tailgate ci` stops before running")
	}
	fmt.Fprintln(w)
	return nil
}
