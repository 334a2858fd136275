package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestActionFlagsExist keeps the composite action in step with `tailgate ci`: every flag the
// action passes must be one ci accepts, or every workflow run would stop with a usage error.
func TestActionFlagsExist(t *testing.T) {
	b, err := os.ReadFile("../../.github/actions/tailgate/action.yml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	i := strings.Index(text, `"$TAILGATE" ci`)
	if i < 0 {
		t.Fatal(`action.yml: no "$TAILGATE" ci invocation found`)
	}
	// The invocation runs to the first line that does not end in a continuation.
	var call strings.Builder
	for _, line := range strings.Split(text[i:], "\n") {
		call.WriteString(line)
		if !strings.HasSuffix(strings.TrimSpace(line), `\`) {
			break
		}
	}
	_, _, usage := runTailgate(t, nil, "ci", "--help")
	flags := regexp.MustCompile(`--([a-z][a-z-]*)`).FindAllStringSubmatch(call.String(), -1)
	if len(flags) == 0 {
		t.Fatalf("no flags found in %q", call.String())
	}
	for _, m := range flags {
		if !strings.Contains(usage, "--"+m[1]+" ") && !strings.Contains(usage, "--"+m[1]+"[") {
			t.Errorf("action.yml passes --%s, which `tailgate ci` does not accept", m[1])
		}
	}
}
