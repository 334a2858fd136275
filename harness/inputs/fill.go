package inputs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/x448/float16"
)

// Class names. An input whose fill is not adversarial has the single class ClassDefault.
const (
	ClassDefault   = "default"
	ClassZeros     = "zeros"
	ClassRandom    = "random"
	ClassLarge     = "large"
	ClassSubnormal = "subnormal"
	ClassMin       = "min"
	ClassMax       = "max"
)

// DefaultSets is how many rotating input sets are prepared per class of a random fill, so
// caches and branch predictors do not see the same bytes every iteration.
const DefaultSets = 8

// Class is one prepared input class: its rotating sets, each a whole tensor's little-endian bytes.
type Class struct {
	Name string
	Sets [][]byte
}

// PrepareOptions are the knobs of Prepare beyond the input itself.
type PrepareOptions struct {
	// Seed seeds every random fill; together with the input and class names it fixes the
	// bytes, so the same seed gives the same data whatever the order of inputs.
	Seed int64
	// Sets is the number of rotating sets per random class; 0 means DefaultSets. Fills whose
	// data cannot vary (zeros, const, file, extremes) get one set.
	Sets int
}

// Elements returns the element count of a shape (1 for a scalar) or an error naming the limit.
func Elements(shape []int64) (int, error) {
	n := int64(1)
	for _, d := range shape {
		if d < 0 {
			return 0, fmt.Errorf("shape %s has a dynamic dimension", FormatDims(shape))
		}
		if d > 0 && n > MaxElements/d {
			return 0, fmt.Errorf("shape %s has more than %d elements", FormatDims(shape), MaxElements)
		}
		n *= d
	}
	return int(n), nil
}

// Prepare produces the classes of one input of element type t and a fully resolved shape.
// Errors name the input.
func Prepare(name string, f Fill, t ElemType, shape []int64, o PrepareOptions) ([]Class, error) {
	if !t.Supported() {
		return nil, fmt.Errorf("input %q: element type %s is not supported", name, t)
	}
	n, err := Elements(shape)
	if err != nil {
		return nil, fmt.Errorf("input %q: %w", name, err)
	}
	sets := o.Sets
	if sets <= 0 {
		sets = DefaultSets
	}
	g := gen{t: t, n: n, seed: o.Seed, name: name, sets: sets}
	switch f.Kind {
	case FillZeros:
		return []Class{{ClassDefault, [][]byte{make([]byte, n*t.Size())}}}, nil
	case FillConst:
		v, err := g.constBytes(f.Value)
		if err != nil {
			return nil, fmt.Errorf("input %q: const=%s: %w", name, f.Value, err)
		}
		return []Class{{ClassDefault, [][]byte{v}}}, nil
	case FillFile:
		b, err := readFile(f.Path, t, shape)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", name, err)
		}
		return []Class{{ClassDefault, [][]byte{b}}}, nil
	case FillAdversarial:
		return g.adversarial()
	default:
		sets, err := g.random(ClassDefault, f.Lo, f.Hi)
		if err != nil {
			return nil, fmt.Errorf("input %q: %s: %w", name, f, err)
		}
		return []Class{{ClassDefault, sets}}, nil
	}
}

// AdversarialClasses names the classes FillAdversarial prepares for a type, in timing order.
func AdversarialClasses(t ElemType) []string {
	switch {
	case t.IsFloat():
		return []string{ClassZeros, ClassRandom, ClassLarge, ClassSubnormal}
	case t.IsSigned():
		return []string{ClassZeros, ClassRandom, ClassMin, ClassMax}
	default:
		// For unsigned types and bool the minimum is zero, already a class of its own.
		return []string{ClassZeros, ClassRandom, ClassMax}
	}
}

type gen struct {
	t    ElemType
	n    int
	seed int64
	name string
	sets int
}

// rng returns a generator for one set of one class, independent of every other input, class
// and set.
func (g gen) rng(class string, set int) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(g.name))
	h.Write([]byte{0})
	h.Write([]byte(class))
	return rand.New(rand.NewPCG(uint64(g.seed), h.Sum64()^uint64(set)*0x9e3779b97f4a7c15))
}

func (g gen) adversarial() ([]Class, error) {
	var out []Class
	for _, c := range AdversarialClasses(g.t) {
		var sets [][]byte
		var err error
		switch c {
		case ClassZeros:
			sets = [][]byte{make([]byte, g.n*g.t.Size())}
		case ClassRandom:
			sets, err = g.random(c, "", "")
		case ClassLarge, ClassSubnormal:
			sets = g.special(c)
		case ClassMin, ClassMax:
			sets = [][]byte{g.extreme(c == ClassMax)}
		}
		if err != nil {
			return nil, fmt.Errorf("input %q: adversarial class %s: %w", g.name, c, err)
		}
		out = append(out, Class{c, sets})
	}
	return out, nil
}

// random draws uniform values: floats in [lo, hi), integers in [lo, hi], bools 50/50.
func (g gen) random(class, loText, hiText string) ([][]byte, error) {
	var ilo, ihi int64
	var ulo, uhi uint64
	flo, fhi := -1.0, 1.0
	if loText == "" {
		ilo, ihi, ulo, uhi = 0, 99, 0, 99
	} else {
		var errs []error
		switch {
		case g.t.IsFloat():
			flo, _ = strconv.ParseFloat(loText, 64)
			fhi, _ = strconv.ParseFloat(hiText, 64)
			if m := maxFinite(g.t); flo < -m || fhi > m {
				errs = append(errs, fmt.Errorf("range %s..%s exceeds %s's ±%g", loText, hiText, g.t, m))
			}
		case g.t.IsSigned():
			var e1, e2 error
			ilo, e1 = strconv.ParseInt(loText, 10, g.t.Size()*8)
			ihi, e2 = strconv.ParseInt(hiText, 10, g.t.Size()*8)
			errs = append(errs, e1, e2)
		case g.t.IsUnsigned():
			var e1, e2 error
			ulo, e1 = strconv.ParseUint(loText, 10, g.t.Size()*8)
			uhi, e2 = strconv.ParseUint(hiText, 10, g.t.Size()*8)
			errs = append(errs, e1, e2)
		case g.t == Bool:
			errs = append(errs, errors.New("a bool input takes no range"))
		}
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("range for %s: %w", g.t, err)
		}
	}
	// Signed bounds are carried as their two's complement so one unsigned draw serves both.
	base, span := ulo, uhi-ulo
	if g.t.IsSigned() {
		base, span = uint64(ilo), uint64(ihi-ilo)
	}
	return g.eachElem(class, func(r *rand.Rand, e []byte) {
		switch {
		case g.t.IsFloat():
			u := r.Float64()
			putFloat(e, g.t, flo*(1-u)+fhi*u) // not flo+u*(fhi-flo): the span may overflow
		case g.t == Bool:
			e[0] = byte(r.IntN(2))
		case span == math.MaxUint64:
			putUint(e, r.Uint64())
		default:
			putUint(e, base+r.Uint64N(span+1))
		}
	}), nil
}

// eachElem prepares g.sets sets of one class, calling fill for every element with the set's
// own generator.
func (g gen) eachElem(class string, fill func(r *rand.Rand, e []byte)) [][]byte {
	out := make([][]byte, g.sets)
	size := g.t.Size()
	for s := range out {
		r := g.rng(class, s)
		b := make([]byte, g.n*size)
		for i := 0; i < g.n; i++ {
			fill(r, b[i*size:(i+1)*size])
		}
		out[s] = b
	}
	return out
}

// special draws the float adversarial classes straight in the type's bit layout: large
// magnitudes in the top decades of the finite range, and subnormals (zero exponent, non-zero
// mantissa), with random signs.
func (g gen) special(class string) [][]byte {
	return g.eachElem(class, func(r *rand.Rand, e []byte) {
		neg := r.IntN(2) == 1
		if class == ClassLarge {
			// Between a thousandth of and the largest finite value, log-uniform.
			v := maxFinite(g.t) * math.Pow(10, -3*r.Float64())
			if neg {
				v = -v
			}
			putFloat(e, g.t, v)
			return
		}
		var bits, sign uint64
		switch g.t {
		case Float16:
			bits, sign = 1+r.Uint64N(0x3ff), 1<<15
		case Float32:
			bits, sign = 1+r.Uint64N(0x7fffff), 1<<31
		default:
			bits, sign = 1+r.Uint64N(1<<52-1), 1<<63
		}
		if neg {
			bits |= sign
		}
		putUint(e, bits)
	})
}

// extreme fills every element with the type's minimum or maximum (true for bool).
func (g gen) extreme(max bool) []byte {
	size := g.t.Size()
	var v uint64
	switch {
	case g.t.IsSigned() && max:
		v = 1<<(size*8-1) - 1
	case g.t.IsSigned():
		v = 1 << (size*8 - 1) // two's complement minimum, truncated to size by putUint
	case max && g.t == Bool:
		v = 1
	case max:
		v = math.MaxUint64
	}
	b := make([]byte, g.n*size)
	for i := 0; i < g.n; i++ {
		putUint(b[i*size:(i+1)*size], v)
	}
	return b
}

func (g gen) constBytes(text string) ([]byte, error) {
	e := make([]byte, g.t.Size())
	switch {
	case g.t == Bool:
		v, err := strconv.ParseBool(text)
		if err != nil {
			return nil, fmt.Errorf("not a bool (want true, false, 1 or 0)")
		}
		if v {
			e[0] = 1
		}
	case g.t.IsFloat():
		v, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Errorf("not a number")
		}
		if m := maxFinite(g.t); !math.IsInf(v, 0) && math.Abs(v) > m {
			return nil, fmt.Errorf("out of %s's range ±%g", g.t, m)
		}
		putFloat(e, g.t, v)
	case g.t.IsSigned():
		v, err := strconv.ParseInt(text, 10, g.t.Size()*8)
		if err != nil {
			return nil, fmt.Errorf("not an integer in %s's range", g.t)
		}
		putUint(e, uint64(v))
	default:
		v, err := strconv.ParseUint(text, 10, g.t.Size()*8)
		if err != nil {
			return nil, fmt.Errorf("not an integer in %s's range", g.t)
		}
		putUint(e, v)
	}
	b := make([]byte, 0, g.n*len(e))
	for range g.n {
		b = append(b, e...)
	}
	return b, nil
}

// readFile loads file=PATH: a .npy array must match the type and shape exactly; raw data must
// have exactly the tensor's byte size.
func readFile(path string, t ElemType, shape []int64) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("file=%s: %w", path, err)
	}
	n, err := Elements(shape)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(filepath.Ext(path), ".npy") {
		a, err := ParseNPY(b)
		if err != nil {
			return nil, fmt.Errorf("file=%s: %w", path, err)
		}
		var errs []error
		if a.Type != t {
			errs = append(errs, fmt.Errorf("dtype %s, but the model wants %s", a.Type, t))
		}
		if !slices.Equal(a.Shape, shape) {
			errs = append(errs, fmt.Errorf("shape %s, but the input is %s", FormatDims(a.Shape), FormatDims(shape)))
		}
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("file=%s: %w", path, err)
		}
		return a.Data, nil
	}
	if want := n * t.Size(); len(b) != want {
		return nil, fmt.Errorf("file=%s: %d bytes, but %s %s of %s is %d bytes (raw little-endian)", path, len(b), FormatDims(shape), t, t, want)
	}
	return b, nil
}

func maxFinite(t ElemType) float64 {
	switch t {
	case Float16:
		return 65504
	case Float32:
		return math.MaxFloat32
	}
	return math.MaxFloat64
}

// putFloat encodes v as t; float16 goes through float32 with round-to-nearest-even, which
// keeps subnormal float16 values.
func putFloat(e []byte, t ElemType, v float64) {
	switch t {
	case Float16:
		binary.LittleEndian.PutUint16(e, float16.Fromfloat32(float32(v)).Bits())
	case Float32:
		binary.LittleEndian.PutUint32(e, math.Float32bits(float32(v)))
	default:
		binary.LittleEndian.PutUint64(e, math.Float64bits(v))
	}
}

// putUint writes the low len(e) bytes of v little-endian.
func putUint(e []byte, v uint64) {
	for i := range e {
		e[i] = byte(v >> (8 * i))
	}
}
