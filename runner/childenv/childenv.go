// Package childenv builds the environment of the processes tailgate starts (the stress load,
// workers): the caller's environment without the credentials a CI job carries. A child runs
// code tailgate did not write (a stress command from the config, a worker's libraries); it
// must not be able to read the job's GitHub token, the Actions runtime and OIDC tokens, or
// write the runner's file commands (GITHUB_ENV, GITHUB_PATH …) that steer later steps.
//
// The git store does not use this deny list: it starts git from an allow list (baseline's
// hardened git), which is stricter, and baseline sits below runner in the package layers.
package childenv

import (
	"os"
	"strings"
)

// dropped are dropped by exact name (upper-cased): the tokens tailgate and the GitHub CLI
// read, and the runner's file commands, which let a process set the environment, PATH,
// outputs and state of the job's later steps.
var dropped = map[string]bool{
	"GITHUB_TOKEN": true, "TAILGATE_GITHUB_TOKEN": true, "GH_TOKEN": true,
	"GH_ENTERPRISE_TOKEN": true, "GITHUB_ENTERPRISE_TOKEN": true,
	"GITHUB_ENV": true, "GITHUB_PATH": true, "GITHUB_OUTPUT": true, "GITHUB_STATE": true,
	"GITHUB_STEP_SUMMARY": true,
	// Credentials git would use on the child's behalf.
	"GIT_ASKPASS": true, "SSH_ASKPASS": true, "GIT_CONFIG_PARAMETERS": true, "GIT_CONFIG_COUNT": true,
}

// droppedParts drop every variable whose upper-cased name contains one of them.
var droppedParts = []string{"TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "API_KEY", "APIKEY", "PRIVATE_KEY", "ACCESS_KEY"}

// droppedPrefixes drop every variable whose upper-cased name starts with one of them:
// ACTIONS_RUNTIME_TOKEN, ACTIONS_ID_TOKEN_REQUEST_TOKEN/_URL, ACTIONS_CACHE_URL …, and the
// per-entry values of a GIT_CONFIG_COUNT configuration (which may carry an auth header).
var droppedPrefixes = []string{"ACTIONS_", "GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"}

// Secret reports whether the variable name is one Scrub drops.
func Secret(name string) bool {
	n := strings.ToUpper(name)
	if dropped[n] {
		return true
	}
	for _, p := range droppedPrefixes {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	for _, p := range droppedParts {
		if strings.Contains(n, p) {
			return true
		}
	}
	return false
}

// Scrub returns environ ("NAME=value" entries) without the variables Secret names, and without
// malformed entries. The order of the rest is kept.
func Scrub(environ []string) []string {
	out := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || name == "" || Secret(name) {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// Environ is Scrub(os.Environ()): the environment to give a child process.
func Environ() []string { return Scrub(os.Environ()) }
