// Package stress runs a background load (e.g. `stress-ng --cpu 1 --vm 1`) beside a timed run,
// so a suite can be measured under interference. The command runs in its own process group,
// which is ended as a whole when the run ends; the kernel ends it too (PR_SET_PDEATHSIG) when
// tailgate itself dies, so a crashed or SIGKILLed run never leaves a load behind on the board.
//
// It only starts and stops the load; when to start it (after warm-up) is the caller's call,
// and what it did to the latency is the gate's.
package stress

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/tailgate-ci/tailgate/runner/childenv"
)

// DefaultGrace is how long the group gets to exit after SIGTERM before it is SIGKILLed.
const DefaultGrace = 2 * time.Second

// Split splits a command line into words: blanks separate words, single quotes keep text as
// is, double quotes keep blanks, a backslash escapes the next character. No shell runs, so
// there are no variables, globs or pipes; an unterminated quote is an error.
func Split(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // a word has started (possibly an empty quoted one)
		quote rune
	)
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case quote == '"':
			switch {
			case r == '"':
				quote = 0
			case r == '\\' && i+1 < len(rs) && (rs[i+1] == '"' || rs[i+1] == '\\'):
				i++
				cur.WriteRune(rs[i])
			default:
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == '\\':
			if i+1 == len(rs) {
				return nil, fmt.Errorf("command %q: trailing backslash", s)
			}
			i++
			cur.WriteRune(rs[i])
			in = true
		case r == ' ' || r == '\t' || r == '\n':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("command %q: unterminated %c quote", s, quote)
	}
	if in {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("command %q: empty", s)
	}
	return words, nil
}

// Process is a running stress command and its process group.
type Process struct {
	Command string
	Pid     int
	grace   time.Duration

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
	waitErr  error
	stopErr  error
}

// Options tune Start.
type Options struct {
	// Grace overrides DefaultGrace when positive.
	Grace time.Duration
	// Stdout and Stderr receive the command's output; nil discards it.
	Stdout, Stderr *os.File
	// Env is the command's environment before scrubbing (os.Environ() when nil). Whatever is
	// given, the command never sees the job's tokens or the runner's file commands:
	// childenv.Scrub removes them.
	Env []string
}

// Start starts command (split by Split) in a new process group, with an environment scrubbed
// of credentials (childenv.Scrub): GITHUB_TOKEN, TAILGATE_GITHUB_TOKEN, ACTIONS_* and any
// *TOKEN*, *SECRET*, *PASSWORD* variable never reach the load. The child is started from a
// dedicated OS thread that lives until Stop, because the kernel's parent-death signal fires
// when the thread that forked the child exits, not the process: a Go thread that a locked
// goroutine retires (the harness's timing thread is one) would otherwise kill the load early.
func Start(command string, o Options) (*Process, error) {
	argv, err := Split(command)
	if err != nil {
		return nil, err
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return nil, fmt.Errorf("stress command: %w", err)
	}
	p := &Process{Command: command, grace: o.Grace, stop: make(chan struct{}), done: make(chan struct{})}
	if p.grace <= 0 {
		p.grace = DefaultGrace
	}
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// Never unlocked: the thread exits with the goroutine, after the group is gone.
		defer close(p.done)
		cmd := exec.Command(path, argv[1:]...)
		cmd.Stdin = nil
		env := o.Env
		if env == nil {
			env = os.Environ()
		}
		cmd.Env = childenv.Scrub(env)
		if o.Stdout != nil {
			cmd.Stdout = o.Stdout
		}
		if o.Stderr != nil {
			cmd.Stderr = o.Stderr
		}
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			started <- fmt.Errorf("stress command %q: %w", command, err)
			return
		}
		p.Pid = cmd.Process.Pid
		exited := make(chan struct{})
		go func() { p.waitErr = cmd.Wait(); close(exited) }()
		started <- nil
		select {
		case <-exited:
			// The load ended on its own (e.g. its own --timeout); its group may live on.
			<-p.stop
			p.stopErr = killGroup(p.Pid, p.grace, nil)
		case <-p.stop:
			p.stopErr = killGroup(p.Pid, p.grace, exited)
		}
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return p, nil
}

// killGroup sends SIGTERM to the group, then SIGKILL after grace if any member is left, and
// waits until none is.
func killGroup(pgid int, grace time.Duration, leaderExited <-chan struct{}) error {
	if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("stress group %d: SIGTERM: %w", pgid, err)
	}
	deadline := time.Now().Add(grace)
	for GroupAlive(pgid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if GroupAlive(pgid) {
		if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("stress group %d: SIGKILL: %w", pgid, err)
		}
	}
	if leaderExited != nil {
		<-leaderExited
	}
	for i := 0; GroupAlive(pgid) && i < 500; i++ {
		time.Sleep(10 * time.Millisecond) // the kernel reaps orphans through init
	}
	if GroupAlive(pgid) {
		return fmt.Errorf("stress group %d still has members after SIGKILL", pgid)
	}
	return nil
}

// GroupAlive reports whether process group pgid has a member that is not a zombie.
func GroupAlive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); err != nil {
		return false
	}
	// kill(2) also succeeds for zombies waiting to be reaped; look for a live member.
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return true
	}
	for _, e := range ents {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		// state is field 3, pgrp field 5 (proc(5)).
		if len(f) > 2 && f[2] == fmt.Sprint(pgid) && f[0] != "Z" && f[0] != "X" {
			return true
		}
	}
	return false
}

// Stop ends the whole process group (SIGTERM, then SIGKILL after the grace period) and waits
// for it. It is safe to call more than once and from a signal handler's goroutine.
func (p *Process) Stop() error {
	p.stopOnce.Do(func() { close(p.stop) })
	<-p.done
	return p.stopErr
}

// Exited returns the command's own exit error once Stop has returned (nil if it exited 0;
// a *exec.ExitError for the signal Stop sent).
func (p *Process) Exited() error { return p.waitErr }
