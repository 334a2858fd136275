package synthetic

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		spec    string
		body    string
		mods    int
		ring    int
		wantErr []string // substrings every one of which the error must contain
	}{
		{spec: DefaultSpec, body: "lognormal", mods: 1, ring: DefaultRing},
		{spec: "const:d=250us", body: "const", ring: DefaultRing},
		{spec: "exp:min=1ms,mean=100us; ring:n=1000", body: "exp", ring: 1000},
		{spec: "gumbel:mu=1ms,beta=50us;add:p=0.01,d=2ms;spike:p=0.001,x=3", body: "gumbel", mods: 2, ring: DefaultRing},
		{spec: "", wantErr: []string{"no body component"}},
		{spec: "lognormal:median=1ms", wantErr: []string{"missing sigma"}},
		{spec: "lognormal:median=1ms,sigma=0.1,foo=2ms", wantErr: []string{"unknown parameter foo"}},
		{spec: "const:d=1ms;const:d=2ms", wantErr: []string{"second body"}},
		{spec: "const:d=fast;spike:p=2,x=5;warp:x=1", wantErr: []string{`d="fast"`, "p=2 is not a probability", `unknown component "warp"`}},
		{spec: "uniform:min=2ms,max=1ms", wantErr: []string{"max must be above min"}},
		{spec: "const:d=1ms;ring:n=0", wantErr: []string{"ring: n=0"}},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			s, err := Parse(tc.spec)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("want an error, got %+v", s)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not mention %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Body != tc.body || len(s.Modifiers) != tc.mods || s.Ring != tc.ring || s.String() != tc.spec {
				t.Fatalf("got %+v", s)
			}
		})
	}
}

func quantile(d []int64, q float64) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[int(q*float64(len(s)-1))])
}

func TestDurationsAreSeededAndFollowTheSpec(t *testing.T) {
	const n = 200000
	for _, tc := range []struct {
		spec string
		q    float64
		want float64 // the distribution's true q-quantile in ns
	}{
		{"lognormal:median=1ms,sigma=0.1", 0.5, 1e6},
		{"lognormal:median=1ms,sigma=0.1", 0.99, 1e6 * math.Exp(0.1*2.3263)},
		{"exp:min=1ms,mean=100us", 0.999, 1e6 + 1e5*math.Log(1000)},
		{"gumbel:mu=1ms,beta=50us", 0.99, 1e6 - 5e4*math.Log(-math.Log(0.99))},
		{"const:d=1ms;spike:p=0.1,x=5", 0.95, 5e6},
		{"const:d=1ms;add:p=0.5,d=1ms", 0.25, 1e6},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			s, err := Parse(tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			a, b := s.Durations(42, n), s.Durations(42, n)
			if !slices.Equal(a, b) {
				t.Fatal("same seed gave different sequences")
			}
			if slices.Equal(a, s.Durations(43, n)) && s.Body != "const" {
				t.Fatal("different seeds gave the same sequence")
			}
			if got := quantile(a, tc.q); math.Abs(got-tc.want)/tc.want > 0.02 {
				t.Fatalf("q%.3f = %.0fns, want %.0fns ±2%%", tc.q, got, tc.want)
			}
		})
	}
}

func TestBackendCyclesTheRing(t *testing.T) {
	s, err := Parse("uniform:min=1us,max=2us;ring:n=3")
	if err != nil {
		t.Fatal(err)
	}
	b := New(s, 7)
	if len(b.Ring()) != 3 || len(b.Classes()) != 1 {
		t.Fatalf("ring %v classes %v", b.Ring(), b.Classes())
	}
	for i := 0; i < 7; i++ {
		if err := b.Run(0); err != nil {
			t.Fatal(err)
		}
	}
	if b.next != 1 {
		t.Fatalf("after 7 runs over a ring of 3 the cursor is %d, want 1", b.next)
	}
	if allocs := testing.AllocsPerRun(100, func() { _ = b.Run(0) }); allocs != 0 {
		t.Fatalf("Run allocated %.1f times", allocs)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{DefaultSpec, "const:d=1ms", "exp:min=1ms,mean=1us;ring:n=5", "x:y=z;;", "spike:p=1e309,x=1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := Parse(spec)
		if err != nil {
			return
		}
		s.Ring = 16
		for _, d := range s.Durations(1, 16) {
			if d < 0 {
				t.Fatalf("%q drew a negative duration %d", spec, d)
			}
		}
	})
}
