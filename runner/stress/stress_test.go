package stress_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tailgate-ci/tailgate/runner/stress"
)

func TestSplit(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		err  string
	}{
		{in: "stress-ng --cpu 1 --vm 1", want: []string{"stress-ng", "--cpu", "1", "--vm", "1"}},
		{in: `  a  'b c'  "d \"e\"" f\ g ''`, want: []string{"a", "b c", `d "e"`, "f g", ""}},
		{in: "", err: "empty"},
		{in: "a 'b", err: "unterminated ' quote"},
		{in: `a \`, err: "trailing backslash"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := stress.Split(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

// waitGroupMembers waits until the group has at least n live processes (stress-ng forks its
// workers after it starts).
func waitGroupMembers(t *testing.T, pgid, n int) {
	t.Helper()
	for range 200 {
		if members(pgid) >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("group %d has %d members, want %d", pgid, members(pgid), n)
}

func members(pgid int) int {
	out, _ := exec.Command("pgrep", "-g", strconv.Itoa(pgid)).Output()
	return len(strings.Fields(string(out)))
}

func TestStressNgStartStop(t *testing.T) {
	p, err := stress.Start("stress-ng --cpu 1 --vm 1 --vm-bytes 16M --timeout 120s --quiet", stress.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// stress-ng itself plus a cpu and a vm worker (the vm stressor forks one more).
	waitGroupMembers(t, p.Pid, 3)
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if stress.GroupAlive(p.Pid) {
		t.Fatalf("group %d alive after Stop", p.Pid)
	}
	if err := p.Stop(); err != nil { // idempotent
		t.Fatal(err)
	}
}

func TestMissingCommand(t *testing.T) {
	if _, err := stress.Start("no-such-stress-tool --cpu 1", stress.Options{}); err == nil || !strings.Contains(err.Error(), "no-such-stress-tool") {
		t.Fatalf("err %v", err)
	}
}

// TestMain doubles as the child of TestCrashEndsGroup: with TAILGATE_STRESS_HELPER=1 the test
// binary starts stress-ng, prints its group and waits to be killed.
func TestMain(m *testing.M) {
	if os.Getenv("TAILGATE_STRESS_HELPER") == "1" {
		p, err := stress.Start("stress-ng --cpu 1 --timeout 120s --quiet", stress.Options{})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("pgid", p.Pid)
		time.Sleep(time.Minute)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// TestCrashEndsGroup SIGKILLs a process that started stress-ng: the parent-death signal must
// take the load down with it.
func TestCrashEndsGroup(t *testing.T) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "TAILGATE_STRESS_HELPER=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	sc := bufio.NewScanner(out)
	pgid := 0
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "pgid %d", &pgid); err == nil {
			break
		}
	}
	if pgid == 0 {
		t.Fatal("helper printed no pgid")
	}
	waitGroupMembers(t, pgid, 2)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	for range 250 {
		if !stress.GroupAlive(pgid) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	t.Fatalf("stress-ng group %d outlived its SIGKILLed parent", pgid)
}

// TestStressEnvScrubbed runs `env` as the stress command with the job's tokens in tailgate's
// environment: none of them reaches the load.
func TestStressEnvScrubbed(t *testing.T) {
	secrets := map[string]string{
		"GITHUB_TOKEN": "ghs_stressleak1", "TAILGATE_GITHUB_TOKEN": "ghs_stressleak2", "GH_TOKEN": "gho_stressleak3",
		"ACTIONS_RUNTIME_TOKEN": "rt_stressleak4", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc_stressleak5",
		"ACTIONS_ID_TOKEN_REQUEST_URL": "https://oidc.example/stressleak6", "NPM_TOKEN": "npm_stressleak7",
		"DEPLOY_SECRET": "stressleak8", "DB_PASSWORD": "stressleak9",
	}
	for k, v := range secrets {
		t.Setenv(k, v)
	}
	t.Setenv("TAILGATE_STRESS_KEPT", "kept-value")
	out, err := os.Create(t.TempDir() + "/env.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	p, err := stress.Start("env", stress.Options{Stdout: out})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 250 && stress.GroupAlive(p.Pid); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	got := string(b)
	if !strings.Contains(got, "TAILGATE_STRESS_KEPT=kept-value") {
		t.Fatalf("env output lacks an ordinary variable (did env run?):\n%s", got)
	}
	for k, v := range secrets {
		if strings.Contains(got, k+"=") || strings.Contains(got, v) {
			t.Errorf("the stress command saw %s", k)
		}
	}
}
