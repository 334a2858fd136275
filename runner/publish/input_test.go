package publish_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tailgate-ci/tailgate/gate/render"
	"github.com/tailgate-ci/tailgate/runner/publish"
)

func TestReadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	suite := `"suites":[{"name":"npu","verdict":"pass","exit_code":0,"headline":"npu pass"}]`
	for _, tc := range []struct {
		name, path, config, wantConfig, errHas string
	}{
		{"named config", write("named.json", `{"config":"soak",`+suite+`}`), "default", "soak", ""},
		{"config from the caller", write("unnamed.json", `{`+suite+`}`), "default", "default", ""},
		{"unknown field", write("bad.json", `{"config":"x","suites":[{"name":"a","verdit":"pass"}]}`), "default", "", `unknown field "verdit"`},
		{"missing", filepath.Join(dir, "nope.json"), "default", "", "nope.json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, err := publish.ReadInput(tc.path, tc.config)
			if tc.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("error %v, want %q", err, tc.errHas)
				}
				return
			}
			if err != nil || in.Config != tc.wantConfig || len(in.Suites) != 1 {
				t.Fatalf("got %+v, %v", in, err)
			}
		})
	}
}

func TestInputFromReports(t *testing.T) {
	dir := t.TempDir()
	rep := gateReport(t, 1, nil)
	var b bytes.Buffer
	if err := render.JSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("reads", func(t *testing.T) {
		in, policy, keys, err := publish.InputFromReports("cfg", []string{good})
		if err != nil {
			t.Fatal(err)
		}
		if in.Config != "cfg" || len(in.Suites) != 1 || in.Suites[0].Name != "vision" || in.Suites[0].Markdown == "" {
			t.Errorf("input %+v", in)
		}
		if want, _ := publish.ParsePolicy(string(rep.Policy)); policy != want {
			t.Errorf("policy %q, want %q", policy, want)
		}
		if keys["vision"] != rep.Pins.CandidateKey {
			t.Errorf("keys %v, want vision: %s", keys, rep.Pins.CandidateKey)
		}
	})
	t.Run("every unreadable file at once", func(t *testing.T) {
		_, _, _, err := publish.InputFromReports("cfg", []string{filepath.Join(dir, "a.json"), good, filepath.Join(dir, "b.json")})
		if err == nil || !strings.Contains(err.Error(), "a.json") || !strings.Contains(err.Error(), "b.json") {
			t.Errorf("error %v, want both missing files", err)
		}
	})
}

func TestToken(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"tailgate's wins", map[string]string{"TAILGATE_GITHUB_TOKEN": " tg ", "GITHUB_TOKEN": "gh"}, "tg"},
		{"blank skipped", map[string]string{"TAILGATE_GITHUB_TOKEN": "  ", "GITHUB_TOKEN": "gh"}, "gh"},
		{"none", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := publish.Token(func(k string) string { return tc.env[k] }); got != tc.want {
				t.Errorf("Token = %q, want %q", got, tc.want)
			}
		})
	}
}
