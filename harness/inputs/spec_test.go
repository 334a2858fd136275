package inputs

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in   string
		want Spec
	}{
		{"x=1x3x96x96", Spec{Name: "x", Dims: []int64{1, 3, 96, 96}}},
		{"x=1x3x96x96:random", Spec{Name: "x", Dims: []int64{1, 3, 96, 96}}},
		{"n=scalar:const=5", Spec{Name: "n", Dims: []int64{}, Scalar: true, Fill: Fill{Kind: FillConst, Value: "5"}}},
		{"input:0=1x4:zeros", Spec{Name: "input:0", Dims: []int64{1, 4}, Fill: Fill{Kind: FillZeros}}},
		{"x=2x2:file=/tmp/a:b=c.npy", Spec{Name: "x", Dims: []int64{2, 2}, Fill: Fill{Kind: FillFile, Path: "/tmp/a:b=c.npy"}}},
		{"tok=1x64:random=0..255", Spec{Name: "tok", Dims: []int64{1, 64}, Fill: Fill{Kind: FillRandom, Lo: "0", Hi: "255"}}},
		{"x=1x3x96x96:adversarial", Spec{Name: "x", Dims: []int64{1, 3, 96, 96}, Fill: Fill{Kind: FillAdversarial}}},
		{"m=1x1:const=true", Spec{Name: "m", Dims: []int64{1, 1}, Fill: Fill{Kind: FillConst, Value: "true"}}},
		{"f=3:const=-1.5e-40", Spec{Name: "f", Dims: []int64{3}, Fill: Fill{Kind: FillConst, Value: "-1.5e-40"}}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSpec(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParseSpec(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			again, err := ParseSpec(got.String())
			if err != nil || !reflect.DeepEqual(again, got) {
				t.Fatalf("round trip of %q via %q: %+v, %v", tt.in, got.String(), again, err)
			}
		})
	}
}

func TestParseSpecErrors(t *testing.T) {
	tests := []struct {
		in   string
		want []string // substrings of the error, all required
	}{
		{"x", []string{`"x": want`, "NAME=DIMS"}},
		{"=1x2", []string{"empty input name"}},
		{"x=", []string{"missing DIMS"}},
		{"x=1x0x3", []string{`dimension 2 of "1x0x3" is "0"`}},
		{"x=1x-3", []string{"dimension 2", "positive integer"}},
		{"x=1xx3", []string{"dimension 2"}},
		{"x=100000x100000x100", []string{"more than"}},
		{"x=1x3:bogus", []string{`unknown fill "bogus"`}},
		{"x=1x3:const=", []string{"want const=V"}},
		{"x=1x3:const=abc", []string{`"abc" is not a number`}},
		{"x=1x3:file=", []string{"want file=PATH"}},
		{"x=1x3:random=5", []string{"random=LO..HI"}},
		{"x=1x3:random=5..1", []string{"above HI"}},
		{"x=1x3:random=a..1", []string{"finite numbers"}},
		{"x=1x3:zeros=1", []string{"takes no value"}},
		// Both halves wrong: both are reported.
		{"x=1xq:nope", []string{"dimension 2", `unknown fill "nope"`}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseSpec(tt.in)
			if err == nil {
				t.Fatalf("ParseSpec(%q) succeeded", tt.in)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestParseSpecsCollectsAllErrors(t *testing.T) {
	_, err := ParseSpecs([]string{"a=1x2", "b=0", "a=3", "c=1:nope"})
	if err == nil {
		t.Fatal("no error")
	}
	for _, w := range []string{`"b=0"`, `input "a" is given more than once`, `"c=1:nope"`} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q lacks %q", err, w)
		}
	}
	specs, err := ParseSpecs([]string{"a=1x2", "b=scalar:zeros"})
	if err != nil || len(specs) != 2 || specs[1].Name != "b" || !specs[1].Scalar {
		t.Fatalf("ParseSpecs = %+v, %v", specs, err)
	}
}

func TestFormatDims(t *testing.T) {
	for _, tt := range []struct {
		dims []int64
		want string
	}{{nil, "scalar"}, {[]int64{1, 3}, "1x3"}, {[]int64{-1, 64}, "?x64"}} {
		if got := FormatDims(tt.dims); got != tt.want {
			t.Errorf("FormatDims(%v) = %q, want %q", tt.dims, got, tt.want)
		}
	}
}

func TestParseElemType(t *testing.T) {
	for _, et := range ElemTypes {
		got, err := ParseElemType(et.String())
		if err != nil || got != et {
			t.Errorf("ParseElemType(%q) = %v, %v", et.String(), got, err)
		}
	}
	if _, err := ParseElemType("complex64"); err == nil {
		t.Error("complex64 accepted")
	}
	if ElemType(8).String() != "string" || ElemType(8).Supported() {
		t.Error("string type misreported")
	}
}

func FuzzParseSpec(f *testing.F) {
	for _, s := range []string{"x=1x3x96x96", "n=scalar:const=5", "a:0=1x2:file=/p:q", "t=1x64:random=0..9",
		"x=2:adversarial", "x=1x", "=", "x=scalar:random=-1e308..1e308"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		spec, err := ParseSpec(s)
		if err != nil {
			return
		}
		if spec.Name == "" || strings.Contains(spec.Name, "=") {
			t.Fatalf("bad name %q from %q", spec.Name, s)
		}
		if _, err := Elements(spec.Dims); err != nil {
			t.Fatalf("accepted dims %v: %v", spec.Dims, err)
		}
		again, err := ParseSpec(spec.String())
		if err != nil || !reflect.DeepEqual(again, spec) {
			t.Fatalf("round trip of %q via %q: %+v, %v", s, spec.String(), again, err)
		}
	})
}
