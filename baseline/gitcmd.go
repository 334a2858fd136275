package baseline

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Every git process tailgate starts is hardened the same way, because the repositories it runs
// in (the store's clone under a cache folder that outlives jobs, the job's checkout) may have
// been touched by an earlier, untrusted job on the same persistent runner:
//
//   - hooks are off (core.hooksPath=/dev/null: git finds no hook there and runs none);
//   - only the transports the store supports are allowed (file, https, ssh): no ext::, no fd::,
//     no plain http that would carry a token in clear;
//   - the settings through which a config file runs programs are overridden on the command
//     line, which beats every config file (core.fsmonitor, core.pager, core.askPass,
//     credential.helper, commit.gpgSign, automatic gc and maintenance, submodules);
//   - the system and global config files are not read (GIT_CONFIG_NOSYSTEM,
//     GIT_CONFIG_GLOBAL=/dev/null, HOME and XDG_CONFIG_HOME=/dev/null, GIT_ATTR_NOSYSTEM), so
//     neither are the user's ~/.gitconfig, attributes or ignore files;
//   - the environment is built from an allow list, not inherited: PATH, the proxy variables
//     and SSH_AUTH_SOCK are the only things taken from the caller; no GIT_* variable, no
//     token. A credential reaches git only through GitAuthEnv, in the environment of the
//     network commands (never argv, never a file).
//
// What the command line cannot override (url.<base>.insteadOf, http.proxy, include.path,
// filter drivers: keys an attacker names) is handled for the store's clone by refusing to use
// a clone whose .git/config is not byte for byte the one tailgate wrote (see gitStore.trusted).

// gitHardening are the -c options every git call carries, before its subcommand.
var gitHardening = []string{
	"-c", "core.hooksPath=/dev/null",
	"-c", "protocol.allow=never",
	"-c", "protocol.file.allow=always",
	"-c", "protocol.https.allow=always",
	"-c", "protocol.ssh.allow=always",
	"-c", "core.fsmonitor=false",
	"-c", "core.pager=cat",
	"-c", "core.askPass=",
	"-c", "credential.helper=",
	"-c", "commit.gpgSign=false",
	"-c", "gc.auto=0",
	"-c", "maintenance.auto=false",
	"-c", "submodule.recurse=false",
	"-c", "fetch.recurseSubmodules=false",
	"-c", "http.sslVerify=true",
}

// gitPassEnv are the only variables taken from the caller's environment: what finds git and
// ssh, and what reaches the network from behind a proxy.
var gitPassEnv = []string{"PATH", "SSH_AUTH_SOCK", "http_proxy", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"}

// gitBaseEnv is the fixed part of every git process's environment.
var gitBaseEnv = []string{
	"HOME=/dev/null", "XDG_CONFIG_HOME=/dev/null", "LANG=C", "LC_ALL=C",
	"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "GIT_ATTR_NOSYSTEM=1",
	"GIT_TERMINAL_PROMPT=0", "GIT_NO_REPLACE_OBJECTS=1", "GIT_SSH_COMMAND=ssh -o BatchMode=yes",
	"GIT_AUTHOR_NAME=tailgate", "GIT_AUTHOR_EMAIL=tailgate@localhost",
	"GIT_COMMITTER_NAME=tailgate", "GIT_COMMITTER_EMAIL=tailgate@localhost",
}

// GitEnv is the environment of a hardened git process: gitBaseEnv, the allowed variables of
// the caller and extra (e.g. GitAuthEnv's entries).
func GitEnv(extra ...string) []string {
	env := append([]string(nil), gitBaseEnv...)
	for _, k := range gitPassEnv {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, extra...)
}

// GitCommand returns a hardened git command (hooks off, allowed transports only, no system or
// global config, the environment of GitEnv(extraEnv...)) running args in dir ("" for the
// current folder). Other packages that run git on repositories a job may have touched (e.g. a
// fetch of pull-request data) use it too.
func GitCommand(ctx context.Context, dir string, extraEnv []string, args ...string) *exec.Cmd {
	return gitCommand(ctx, dir, extraEnv, nil, args...)
}

func gitCommand(ctx context.Context, dir string, extraEnv, extraConfig []string, args ...string) *exec.Cmd {
	argv := append(append(append([]string(nil), gitHardening...), extraConfig...), args...)
	cmd := exec.CommandContext(ctx, "git", argv...)
	cmd.Dir = dir
	cmd.Env = GitEnv(extraEnv...)
	cmd.Stdin = nil
	return cmd
}

// DefaultGitTokenHost is the host a git token is sent to when Options.GitTokenHost is empty.
const DefaultGitTokenHost = "github.com"

// GitAuthEnv returns the environment entries that authenticate git to remote with token, the
// way actions/checkout does but without writing it to a config file: an
// http.https://HOST/.extraheader given through GIT_CONFIG_COUNT. It returns nil (no
// credential) unless token is set and remote is an https URL on host (host[:port],
// DefaultGitTokenHost when empty): a remote elsewhere never sees the token.
func GitAuthEnv(remote, token, host string) []string {
	if token == "" {
		return nil
	}
	if host == "" {
		host = DefaultGitTokenHost
	}
	u, err := url.Parse(remote)
	if err != nil || u.Scheme != "https" || !strings.EqualFold(u.Host, host) {
		return nil
	}
	cred := base64.StdEncoding.EncodeToString([]byte("x-access-token:" + token))
	return []string{
		"GIT_CONFIG_COUNT=1",
		"GIT_CONFIG_KEY_0=http.https://" + strings.ToLower(host) + "/.extraheader",
		"GIT_CONFIG_VALUE_0=AUTHORIZATION: basic " + cred,
	}
}

// gitRunner runs the hardened git commands of one store.
type gitRunner struct {
	timeout time.Duration
	// auth goes into the environment of the commands that talk to the remote.
	auth []string
	// config are extra -c options (tests: the CA of a test server).
	config []string
}

// networkCommands are the subcommands that talk to the remote: only they get the credential.
var networkCommands = map[string]bool{"ls-remote": true, "fetch": true, "push": true}

// run runs one git command in dir ("" for the current folder) and returns its stdout; the
// error carries stderr.
func (g gitRunner) run(dir string, args ...string) (string, error) {
	timeout := g.timeout
	if timeout <= 0 {
		timeout = DefaultGitTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var env []string
	if len(args) > 0 && networkCommands[args[0]] {
		env = g.auth
	}
	cmd := gitCommand(ctx, dir, env, g.config, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}
