package childenv_test

import (
	"reflect"
	"testing"

	"github.com/tailgate-ci/tailgate/runner/childenv"
)

func TestScrub(t *testing.T) {
	in := []string{
		"PATH=/usr/bin", "HOME=/home/pi", "LANG=C.UTF-8",
		"GITHUB_TOKEN=ghs_a", "TAILGATE_GITHUB_TOKEN=ghs_b", "GH_TOKEN=gho_c", "github_token=lower",
		"ACTIONS_RUNTIME_TOKEN=rt", "ACTIONS_ID_TOKEN_REQUEST_TOKEN=oidc", "ACTIONS_ID_TOKEN_REQUEST_URL=https://x",
		"ACTIONS_CACHE_URL=https://c", "NPM_TOKEN=n", "AWS_SECRET_ACCESS_KEY=s", "AWS_SESSION_TOKEN=t",
		"DB_PASSWORD=p", "MY_SECRET_THING=q", "GITHUB_ENV=/runner/set_env", "GITHUB_PATH=/runner/add_path",
		"GITHUB_OUTPUT=/runner/out", "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=http.extraheader",
		"GIT_CONFIG_VALUE_0=AUTHORIZATION: basic eA==", "GIT_CONFIG_PARAMETERS='a.b'='c'",
		"GITHUB_SHA=abc", "GITHUB_REPOSITORY=o/r", "RUNNER_TEMP=/tmp/r", "noequals", "=x",
	}
	want := []string{"PATH=/usr/bin", "HOME=/home/pi", "LANG=C.UTF-8", "GITHUB_SHA=abc", "GITHUB_REPOSITORY=o/r", "RUNNER_TEMP=/tmp/r"}
	if got := childenv.Scrub(in); !reflect.DeepEqual(got, want) {
		t.Fatalf("Scrub:\n got %q\nwant %q", got, want)
	}
}
