// Package synthetic is a backend that spins for durations drawn from a seeded distribution,
// so the whole pipeline (loop, log, gate, pWCET) runs against a known ground truth without
// ONNX Runtime. It owns the --synthetic grammar. It does not time anything itself: the
// harness loop times its Run like any other backend's.
package synthetic

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/harness"
)

// DefaultSpec is the --synthetic default: a 1ms lognormal body with a rare 5× spike.
const DefaultSpec = "lognormal:median=1ms,sigma=0.1;spike:p=0.001,x=5"

// DefaultRing is how many durations are drawn before timing starts; Run cycles through them.
const DefaultRing = 1 << 20

// Spec is a parsed --synthetic value. The grammar is a list of components separated by ";",
// each NAME:KEY=VALUE,KEY=VALUE. Exactly one body component gives the base duration:
//
//	const:d=DUR                    always DUR
//	uniform:min=DUR,max=DUR        uniform on [min, max)
//	lognormal:median=DUR,sigma=S   exp(N(ln median, S²))
//	normal:mean=DUR,sd=DUR         N(mean, sd²), clamped at 0
//	exp:min=DUR,mean=DUR           min + Exponential(mean)     (an exponential tail)
//	gumbel:mu=DUR,beta=DUR         Gumbel(mu, beta), clamped at 0 (a Gumbel tail)
//
// followed by any number of modifiers, applied in order:
//
//	spike:p=P,x=X                  with probability P multiply the duration by X
//	add:p=P,d=DUR                  with probability P add DUR
//
// and an optional ring:n=N (how many durations are precomputed, default DefaultRing).
// DUR is a Go duration (250us, 1.5ms). The sequence is a pure function of the spec and seed.
type Spec struct {
	Body      string
	Params    map[string]float64 // body parameters; durations in nanoseconds
	Modifiers []Modifier
	Ring      int
	text      string
}

// Modifier is one spike or add component.
type Modifier struct {
	Kind string // "spike" or "add"
	P    float64
	X    float64 // spike factor, or add duration in ns
}

// String returns the spec as it was given.
func (s Spec) String() string { return s.text }

var bodies = map[string][]string{
	"const":     {"d"},
	"uniform":   {"min", "max"},
	"lognormal": {"median", "sigma"},
	"normal":    {"mean", "sd"},
	"exp":       {"min", "mean"},
	"gumbel":    {"mu", "beta"},
}

// unitless lists the parameters that are plain numbers rather than durations.
var unitless = map[string]bool{"sigma": true, "p": true, "x": true, "n": true}

// Parse reads a --synthetic spec, reporting every problem at once.
func Parse(text string) (Spec, error) {
	s := Spec{Ring: DefaultRing, text: text}
	var errs []error
	for _, comp := range strings.Split(text, ";") {
		comp = strings.TrimSpace(comp)
		if comp == "" {
			continue
		}
		name, args, _ := strings.Cut(comp, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		params, err := parseParams(args)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			continue
		}
		switch {
		case bodies[name] != nil:
			if s.Body != "" {
				errs = append(errs, fmt.Errorf("%s: a second body component (already %s); give exactly one of const, uniform, lognormal, normal, exp, gumbel", name, s.Body))
				continue
			}
			if err := need(name, params, bodies[name]...); err != nil {
				errs = append(errs, err)
				continue
			}
			s.Body, s.Params = name, params
		case name == "spike" || name == "add":
			key := "x"
			if name == "add" {
				key = "d"
			}
			if err := need(name, params, "p", key); err != nil {
				errs = append(errs, err)
				continue
			}
			if p := params["p"]; p < 0 || p > 1 {
				errs = append(errs, fmt.Errorf("%s: p=%g is not a probability in [0,1]", name, p))
				continue
			}
			s.Modifiers = append(s.Modifiers, Modifier{Kind: name, P: params["p"], X: params[key]})
		case name == "ring":
			if err := need(name, params, "n"); err != nil {
				errs = append(errs, err)
				continue
			}
			if n := params["n"]; n < 1 || n > 1<<26 || n != math.Trunc(n) {
				errs = append(errs, fmt.Errorf("ring: n=%g must be an integer in 1..%d", n, 1<<26))
				continue
			}
			s.Ring = int(params["n"])
		default:
			errs = append(errs, fmt.Errorf("unknown component %q (want const, uniform, lognormal, normal, exp, gumbel, spike, add or ring)", name))
		}
	}
	if s.Body == "" && len(errs) == 0 {
		errs = append(errs, errors.New("no body component (e.g. lognormal:median=1ms,sigma=0.1)"))
	}
	if s.Body != "" {
		for k, v := range s.Params {
			if v < 0 {
				errs = append(errs, fmt.Errorf("%s: %s=%g must not be negative", s.Body, k, v))
			}
		}
		if s.Body == "uniform" && s.Params["max"] <= s.Params["min"] {
			errs = append(errs, fmt.Errorf("uniform: max must be above min"))
		}
	}
	if len(errs) > 0 {
		return Spec{}, fmt.Errorf("%q: %w", text, errors.Join(errs...))
	}
	return s, nil
}

func parseParams(args string) (map[string]float64, error) {
	out := map[string]float64{}
	var errs []error
	for _, kv := range strings.Split(args, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		k = strings.ToLower(strings.TrimSpace(k))
		v = strings.TrimSpace(v)
		if !ok {
			errs = append(errs, fmt.Errorf("%q is not KEY=VALUE", kv))
			continue
		}
		if _, dup := out[k]; dup {
			errs = append(errs, fmt.Errorf("%s given twice", k))
			continue
		}
		if unitless[k] {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				errs = append(errs, fmt.Errorf("%s=%q is not a finite number", k, v))
				continue
			}
			out[k] = f
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s=%q is not a duration (e.g. 1ms, 250us)", k, v))
			continue
		}
		out[k] = float64(d)
	}
	return out, errors.Join(errs...)
}

func need(name string, params map[string]float64, keys ...string) error {
	var errs []error
	want := map[string]bool{}
	for _, k := range keys {
		want[k] = true
		if _, ok := params[k]; !ok {
			errs = append(errs, fmt.Errorf("%s: missing %s= (want %s)", name, k, strings.Join(keys, ", ")))
		}
	}
	for k := range params {
		if !want[k] {
			errs = append(errs, fmt.Errorf("%s: unknown parameter %s (want %s)", name, k, strings.Join(keys, ", ")))
		}
	}
	return errors.Join(errs...)
}

// Durations draws n durations (ns) from the spec with a PCG seeded by seed.
func (s Spec) Durations(seed int64, n int) []int64 {
	r := rand.New(rand.NewPCG(uint64(seed), 0x7461696c67617465)) // "tailgate"
	out := make([]int64, n)
	p := s.Params
	for i := range out {
		var d float64
		switch s.Body {
		case "const":
			d = p["d"]
		case "uniform":
			d = p["min"] + r.Float64()*(p["max"]-p["min"])
		case "lognormal":
			d = p["median"] * math.Exp(p["sigma"]*r.NormFloat64())
		case "normal":
			d = p["mean"] + p["sd"]*r.NormFloat64()
		case "exp":
			d = p["min"] + p["mean"]*r.ExpFloat64()
		case "gumbel":
			u := r.Float64()
			for u == 0 {
				u = r.Float64()
			}
			d = p["mu"] - p["beta"]*math.Log(-math.Log(u))
		}
		for _, m := range s.Modifiers {
			if r.Float64() < m.P {
				if m.Kind == "spike" {
					d *= m.X
				} else {
					d += m.X
				}
			}
		}
		out[i] = int64(math.Max(0, math.Round(d)))
	}
	return out
}

// Backend spins through a precomputed ring of durations. It satisfies harness.Backend.
type Backend struct {
	ring    []int64
	next    int
	classes []string
}

// New draws the spec's ring with seed before any timing starts.
func New(s Spec, seed int64) *Backend {
	n := s.Ring
	if n <= 0 {
		n = DefaultRing
	}
	return &Backend{ring: s.Durations(seed, n), classes: []string{"default"}}
}

// Classes returns the single "default" class.
func (b *Backend) Classes() []string { return b.classes }

// Run busy-waits for the next duration of the ring on the loop's clock.
func (b *Backend) Run(int) error {
	d := b.ring[b.next]
	if b.next++; b.next == len(b.ring) {
		b.next = 0
	}
	start := harness.Now()
	for harness.Now()-start < d {
	}
	return nil
}

// Close releases the ring.
func (b *Backend) Close() error { b.ring = nil; return nil }

// Ring returns the precomputed durations (ns), for tests that know the ground truth.
func (b *Backend) Ring() []int64 { return b.ring }

var _ harness.Backend = (*Backend)(nil)
