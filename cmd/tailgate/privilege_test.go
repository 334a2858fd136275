package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestRunRefusedPrivilegeIsNamed runs the built binary as an unprivileged user (uid/gid 65534,
// no capabilities, RLIMIT_RTPRIO 0) and asks for real-time scheduling and mlockall: each refusal
// must be an error that names the privilege to grant, with exit 2 and no result written.
func TestRunRefusedPrivilegeIsNamed(t *testing.T) {
	if os.Getuid() != 0 {
		t.Fatal("this test drops privileges from root to uid 65534; run the tests as root (CI does)")
	}
	bin := buildTailgate(t)
	// The build folder and the output folder must be reachable by the unprivileged user.
	for _, d := range []string{filepath.Dir(bin), filepath.Dir(filepath.Dir(bin))} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	work := t.TempDir()
	if err := os.Chmod(work, 0o777); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"fifo", []string{"--sched", "fifo:80"}, []string{"SCHED_FIFO", "CAP_SYS_NICE", "RLIMIT_RTPRIO"}},
		{"deadline", []string{"--sched", "deadline:1ms/10ms/10ms"}, []string{"SCHED_DEADLINE", "CAP_SYS_NICE"}},
		{"mlock", []string{"--mlock"}, []string{"mlockall", "CAP_IPC_LOCK"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(work, c.name)
			args := append([]string{"run", "--backend", "synthetic", "--synthetic", "const:d=20us;ring:n=4",
				"--iterations", "100", "--warmup", "0", "--quiet", "--out", out}, c.args...)
			cmd := exec.Command(bin, args...)
			cmd.Dir = work
			cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + work}
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			b, err := cmd.CombinedOutput()
			msg := string(b)
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != exitError {
				t.Fatalf("exit %v, want %d; output:\n%s", err, exitError, msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not name %q:\n%s", w, msg)
				}
			}
			if _, err := os.Stat(filepath.Join(out, "meta.json")); err == nil {
				t.Errorf("a refused run wrote %s", out)
			}
		})
	}
}
