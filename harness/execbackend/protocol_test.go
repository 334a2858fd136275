package execbackend

import (
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/baseline/result"
)

func TestParseReady(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{`{"worker":1,"runtime":"hailort","version":"4.20.0","device":"Hailo-10H"}`, ""},
		{`{"worker":1,"runtime":"hailort","version":"4.20.0","device":"Hailo-10H","classes":["a","b"]}`, ""},
		{`{"worker":2,"runtime":"hailort","version":"4.20.0","device":"x"}`, "worker protocol 2"},
		{`{"worker":1,"runtime":"HailoRT","version":"4.20.0","device":"x"}`, `runtime "HailoRT"`},
		{`{"worker":1,"runtime":"hailort","device":"x"}`, `version ""`},
		{`{"worker":1,"runtime":"hailort","version":"1","device":"x","classes":["a","a"]}`, `class "a" named twice`},
		{`{"worker":1,"runtime":"hailort","version":"1","device":"x","classes":["device"]}`, "reserved"},
		{`{"worker":1,"runtime":"hailort","version":"1","device":"x","classes":["a b"]}`, `class "a b"`},
		{`{"worker":1,"runtime":"hailort","version":"1","device":"x","colour":"red"}`, "unknown field"},
		{`{"worker":1,"runtime":"hailort","version":"1","device":"x"} {}`, "trailing data"},
		{`{"worker":1,"error":"no NPU"}`, "could not start: no NPU"},
	} {
		t.Run(c.line, func(t *testing.T) {
			r, err := ParseReady([]byte(c.line))
			switch {
			case c.want == "" && err != nil:
				t.Fatal(err)
			case c.want == "" && len(r.Classes) == 0:
				t.Fatal("no classes")
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want %q", err, c.want)
			}
		})
	}
}

func FuzzParseReady(f *testing.F) {
	f.Add([]byte(`{"worker":1,"runtime":"hailort","version":"4.20.0","device":"Hailo-10H","classes":["a","b"]}`))
	f.Add([]byte(`{"worker":1,"error":"x"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := ParseReady(line)
		if err != nil {
			return
		}
		if !ValidRuntime(r.Runtime) || r.Version == "" || r.Device == "" || len(r.Classes) == 0 || len(r.Classes) > MaxClasses {
			t.Fatalf("accepted %+v", r)
		}
		for _, c := range r.Classes {
			if c == "" || result.CheckTag(c) != nil || result.IsDeviceTag(c) {
				t.Fatalf("accepted class %q", c)
			}
		}
	})
}
