package ortbackend

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/tailgate-ci/tailgate/harness/inputs"
	ort "github.com/yalue/onnxruntime_go"
)

// IOInfo is one declared input or output of a model.
type IOInfo struct {
	Name string
	// Kind is "tensor", or what else ONNX Runtime reports (sequence, map, ...).
	Kind string
	Type inputs.ElemType
	// Dims are the declared dimensions; -1 marks a dynamic (symbolic or unknown) one.
	Dims []int64
}

// String renders the info as the listing prints it: name, type, DIMS.
func (i IOInfo) String() string {
	if i.Kind != "tensor" {
		return fmt.Sprintf("%s\t%s\t", i.Name, i.Kind)
	}
	return fmt.Sprintf("%s\t%s\t%s", i.Name, i.Type, inputs.FormatDims(i.Dims))
}

// Describe opens a model just to list its inputs and outputs.
func Describe(model string) (ins, outs []IOInfo, err error) {
	return describe(model, nil)
}

func describe(model string, so *ort.SessionOptions) (ins, outs []IOInfo, err error) {
	i, o, err := ort.GetInputOutputInfoWithOptions(model, so)
	if err != nil {
		return nil, nil, fmt.Errorf("model %s: %w", model, err)
	}
	return convertInfo(i), convertInfo(o), nil
}

func convertInfo(infos []ort.InputOutputInfo) []IOInfo {
	out := make([]IOInfo, len(infos))
	for k, in := range infos {
		kind := "tensor"
		if in.OrtValueType != ort.ONNXTypeTensor {
			kind = strings.ToLower(in.OrtValueType.String())
		}
		out[k] = IOInfo{Name: in.Name, Kind: kind, Type: inputs.ElemType(in.DataType), Dims: slices.Clone([]int64(in.Dimensions))}
	}
	return out
}

// InputError says the --input specs do not fit the model. Its message lists every problem and
// then every input the model declares, so the user can write the right flags at once.
type InputError struct {
	Model    string
	Problems []string
	Inputs   []IOInfo
}

func (e *InputError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "model %s: the inputs do not fit the model:\n", e.Model)
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "  - %s\n", p)
	}
	b.WriteString("the model's inputs (name, element type, DIMS; ? is dynamic and must be given):\n")
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, in := range e.Inputs {
		fmt.Fprintf(tw, "  %s\n", in)
	}
	tw.Flush()
	b.WriteString("give each with --input NAME=DIMS[:FILL]")
	return b.String()
}

// planned is one model input with its resolved shape and fill.
type planned struct {
	info  IOInfo
	shape []int64
	fill  inputs.Fill
}

// resolve matches the specs to the model's inputs, in the model's order, and collects every
// problem into an *InputError.
func resolve(o Options, model []IOInfo) ([]planned, error) {
	var probs []string
	specs := map[string]inputs.Spec{}
	for _, s := range o.Inputs {
		if !slices.ContainsFunc(model, func(i IOInfo) bool { return i.Name == s.Name }) {
			probs = append(probs, fmt.Sprintf("input %s: the model has no input %q", s, s.Name))
			continue
		}
		specs[s.Name] = s
	}
	var plan []planned
	for _, in := range model {
		spec, given := specs[in.Name]
		switch {
		case in.Kind != "tensor":
			probs = append(probs, fmt.Sprintf("input %q is a %s; tailgate feeds tensors only", in.Name, in.Kind))
			continue
		case !in.Type.Supported():
			probs = append(probs, fmt.Sprintf("input %q has element type %s; tailgate feeds numeric and bool tensors only", in.Name, in.Type))
			continue
		}
		dynamic := slices.ContainsFunc(in.Dims, func(d int64) bool { return d < 0 })
		if !given {
			if dynamic {
				probs = append(probs, fmt.Sprintf("input %q has dynamic dimensions (%s): give them with --input %s=DIMS", in.Name, inputs.FormatDims(in.Dims), in.Name))
				continue
			}
			plan = append(plan, planned{info: in, shape: in.Dims, fill: inputs.Fill{Kind: inputs.DefaultFill}})
			continue
		}
		if p := shapeProblem(in, spec); p != "" {
			probs = append(probs, fmt.Sprintf("input %s: %s", spec, p))
			continue
		}
		plan = append(plan, planned{info: in, shape: spec.Dims, fill: spec.Fill})
	}
	if len(probs) > 0 {
		return nil, &InputError{Model: o.Model, Problems: probs, Inputs: model}
	}
	return plan, nil
}

// shapeProblem says how a spec's DIMS contradict the model's declared shape, or "".
func shapeProblem(in IOInfo, s inputs.Spec) string {
	if len(s.Dims) != len(in.Dims) {
		return fmt.Sprintf("%s has rank %d, but the model's %q is %s (rank %d)", inputs.FormatDims(s.Dims), len(s.Dims), in.Name, inputs.FormatDims(in.Dims), len(in.Dims))
	}
	var bad []string
	for i, d := range in.Dims {
		if d >= 0 && s.Dims[i] != d {
			bad = append(bad, fmt.Sprintf("dimension %d is %d where the model fixes %d", i+1, s.Dims[i], d))
		}
	}
	if len(bad) > 0 {
		return strings.Join(bad, ", ") + fmt.Sprintf(" (the model's %q is %s)", in.Name, inputs.FormatDims(in.Dims))
	}
	return ""
}
