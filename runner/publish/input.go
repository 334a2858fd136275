package publish

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/tailgate-ci/tailgate/gate"
	"github.com/tailgate-ci/tailgate/gate/render"
)

// ReadInput reads a publish input JSON (docs/github.md); unknown fields are errors. A missing
// config name becomes config.
func ReadInput(path, config string) (Input, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Input{}, err
	}
	var in Input
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return Input{}, fmt.Errorf("%s: %w", path, err)
	}
	if in.Config == "" {
		in.Config = config
	}
	return in, in.Validate()
}

// InputFromReports reads the gate reports at paths (`tailgate compare --format json`, one per
// suite) into the input of config, reporting every unreadable file at once. It returns the
// reports' inconclusive policy when they agree on one (else ""), and each suite's candidate
// environment key.
func InputFromReports(config string, paths []string) (Input, Policy, map[string]string, error) {
	in := Input{Config: config}
	var errs []error
	policies := map[gate.InconclusivePolicy]bool{}
	keys := map[string]string{}
	for _, p := range paths {
		rep, err := ReadReport(p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		policies[rep.Policy] = true
		keys[rep.Suite] = rep.Pins.CandidateKey
		in.Suites = append(in.Suites, FromReport(rep, render.Markdown(rep, render.MarkdownLimit)))
	}
	if err := errors.Join(errs...); err != nil {
		return in, "", nil, err
	}
	var policy Policy
	if len(policies) == 1 {
		for p := range policies {
			policy, _ = ParsePolicy(string(p))
		}
	}
	return in, policy, keys, in.Validate()
}
