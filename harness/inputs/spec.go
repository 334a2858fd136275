package inputs

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// FillKind says how an input's data is produced.
type FillKind int

// The fills of the --input grammar.
const (
	// FillRandom draws seeded uniform values: floats in [-1, 1), integers in [0, 99], bools
	// 50/50, unless a range is given (random=LO..HI).
	FillRandom FillKind = iota
	// FillZeros is all zero bytes.
	FillZeros
	// FillConst repeats one value, parsed for the input's element type.
	FillConst
	// FillFile reads raw little-endian data or a .npy array from a file.
	FillFile
	// FillAdversarial prepares several classes (zeros, random, large, subnormal; min/max for
	// integers), each timed on its own, because some values slow some kernels down.
	FillAdversarial
)

// DefaultFill is the fill of an --input without one.
const DefaultFill = FillRandom

// Fill is a parsed FILL. Only the fields of its Kind are set.
type Fill struct {
	Kind FillKind
	// Value is the text of const=V; it is parsed once the element type is known.
	Value string
	// Lo and Hi bound random=LO..HI, inclusive for integers, [Lo, Hi) for floats; empty for
	// the default range.
	Lo, Hi string
	// Path is the file of file=PATH.
	Path string
}

// String renders the fill in the grammar ParseSpec reads.
func (f Fill) String() string {
	switch f.Kind {
	case FillZeros:
		return "zeros"
	case FillConst:
		return "const=" + f.Value
	case FillFile:
		return "file=" + f.Path
	case FillAdversarial:
		return "adversarial"
	default:
		if f.Lo != "" || f.Hi != "" {
			return "random=" + f.Lo + ".." + f.Hi
		}
		return "random"
	}
}

// Spec is one parsed --input NAME=DIMS[:FILL].
type Spec struct {
	Name string
	// Dims is the shape; empty (and Scalar set) for a rank-0 input.
	Dims   []int64
	Scalar bool
	Fill   Fill
}

// String renders the spec in the grammar ParseSpec reads.
func (s Spec) String() string {
	return s.Name + "=" + FormatDims(s.Dims) + ":" + s.Fill.String()
}

// FormatDims renders a shape as DIMS: "1x3x96x96", "scalar" for rank 0, and "?" for a dynamic
// (negative) dimension.
func FormatDims(dims []int64) string {
	if len(dims) == 0 {
		return "scalar"
	}
	parts := make([]string, len(dims))
	for i, d := range dims {
		if d < 0 {
			parts[i] = "?"
		} else {
			parts[i] = strconv.FormatInt(d, 10)
		}
	}
	return strings.Join(parts, "x")
}

// MaxElements bounds the element count of one input so a typo ("1x3x9600x9600") is an error,
// not an out-of-memory kill while preparing rotating sets.
const MaxElements = 1 << 28

// ParseSpec parses NAME=DIMS[:FILL]. NAME runs to the first '=' (ONNX names often contain ':',
// as in "input:0", rarely '='); DIMS runs to the next ':'; FILL is the rest, so a file path
// may contain ':' and '='. DIMS is dimensions joined by 'x' (each ≥ 1) or "scalar". FILL is
// random, random=LO..HI, zeros, const=V, file=PATH or adversarial.
func ParseSpec(s string) (Spec, error) {
	name, rest, ok := strings.Cut(s, "=")
	if !ok {
		return Spec{}, fmt.Errorf("%q: want NAME=DIMS[:FILL], e.g. x=1x3x96x96:random", s)
	}
	if name == "" {
		return Spec{}, fmt.Errorf("%q: empty input name", s)
	}
	dimText, fillText, hasFill := strings.Cut(rest, ":")
	spec := Spec{Name: name}
	var errs []error
	dims, scalar, err := ParseDims(dimText)
	if err != nil {
		errs = append(errs, err)
	}
	spec.Dims, spec.Scalar = dims, scalar
	if hasFill {
		f, err := ParseFill(fillText)
		if err != nil {
			errs = append(errs, err)
		}
		spec.Fill = f
	}
	if err := errors.Join(errs...); err != nil {
		return Spec{}, fmt.Errorf("%q: %w", s, err)
	}
	return spec, nil
}

// ParseDims parses DIMS: "scalar", or positive integers joined by 'x'.
func ParseDims(s string) (dims []int64, scalar bool, err error) {
	if s == "scalar" {
		return []int64{}, true, nil
	}
	if s == "" {
		return nil, false, errors.New(`missing DIMS (e.g. 1x3x96x96, or "scalar")`)
	}
	parts := strings.Split(s, "x")
	dims = make([]int64, len(parts))
	total := int64(1)
	for i, p := range parts {
		d, err := strconv.ParseInt(p, 10, 64)
		if err != nil || d < 1 {
			return nil, false, fmt.Errorf("dimension %d of %q is %q: want a positive integer", i+1, s, p)
		}
		if d > MaxElements || total > MaxElements/d {
			return nil, false, fmt.Errorf("shape %q has more than %d elements", s, MaxElements)
		}
		total *= d
		dims[i] = d
	}
	return dims, false, nil
}

// ParseFill parses FILL.
func ParseFill(s string) (Fill, error) {
	key, val, hasVal := strings.Cut(s, "=")
	switch key {
	case "random":
		if !hasVal {
			return Fill{Kind: FillRandom}, nil
		}
		lo, hi, ok := strings.Cut(val, "..")
		if !ok {
			return Fill{}, fmt.Errorf("fill %q: want random=LO..HI", s)
		}
		l, err1 := strconv.ParseFloat(lo, 64)
		h, err2 := strconv.ParseFloat(hi, 64)
		if err1 != nil || err2 != nil || math.IsNaN(l) || math.IsNaN(h) || math.IsInf(l, 0) || math.IsInf(h, 0) {
			return Fill{}, fmt.Errorf("fill %q: LO and HI must be finite numbers", s)
		}
		if l > h {
			return Fill{}, fmt.Errorf("fill %q: LO %s is above HI %s", s, lo, hi)
		}
		return Fill{Kind: FillRandom, Lo: lo, Hi: hi}, nil
	case "zeros", "adversarial":
		if hasVal {
			return Fill{}, fmt.Errorf("fill %q: %s takes no value", s, key)
		}
		if key == "zeros" {
			return Fill{Kind: FillZeros}, nil
		}
		return Fill{Kind: FillAdversarial}, nil
	case "const":
		if val == "" {
			return Fill{}, fmt.Errorf("fill %q: want const=V, e.g. const=0.5", s)
		}
		if _, err := strconv.ParseFloat(val, 64); err != nil && !isBoolText(val) {
			return Fill{}, fmt.Errorf("fill %q: %q is not a number or a bool", s, val)
		}
		return Fill{Kind: FillConst, Value: val}, nil
	case "file":
		if val == "" {
			return Fill{}, fmt.Errorf("fill %q: want file=PATH (raw little-endian or .npy)", s)
		}
		return Fill{Kind: FillFile, Path: val}, nil
	}
	return Fill{}, fmt.Errorf("unknown fill %q (want random, random=LO..HI, zeros, const=V, file=PATH or adversarial)", s)
}

func isBoolText(s string) bool { return s == "true" || s == "false" }

// ParseSpecs parses every input spec (--input values, or a suite's inputs:) and reports all
// problems at once, including an input named twice.
func ParseSpecs(values []string) ([]Spec, error) {
	var specs []Spec
	var errs []error
	seen := map[string]bool{}
	for _, v := range values {
		s, err := ParseSpec(v)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[s.Name] {
			errs = append(errs, fmt.Errorf("%q: input %q is given more than once", v, s.Name))
			continue
		}
		seen[s.Name] = true
		specs = append(specs, s)
	}
	return specs, errors.Join(errs...)
}
