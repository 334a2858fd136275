package execbackend

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/tailgate-ci/tailgate/harness"
	"github.com/tailgate-ci/tailgate/harness/sched"
)

// Defaults of Options.
const (
	// DefaultHandshakeTimeout is long: a worker loads its model (and an NPU its firmware and
	// network) before it says ready.
	DefaultHandshakeTimeout = 2 * time.Minute
	// DefaultRequestTimeout is how long one inference may take before the worker counts as hung.
	DefaultRequestTimeout = 10 * time.Second
	// StderrTail is how much of the worker's stderr is kept for error messages.
	StderrTail = 4096
	// exitGrace is how long a worker gets to exit after its stdin closes before it is killed.
	exitGrace = 3 * time.Second
)

// Options say which worker to start and how.
type Options struct {
	// Command is the worker's argv (argv[0] is looked up in PATH).
	Command []string
	// Env is the worker's whole environment; nil gives it an empty one, never tailgate's.
	Env []string
	Dir string
	// CPUs and Sched place the worker as the timing thread is placed: it inherits both from the
	// thread that starts it, and every thread it creates inherits them in turn.
	CPUs  []int
	Sched sched.Policy
	// Seed is handed to the worker in the handshake, for its random inputs.
	Seed int64
	// HandshakeTimeout and RequestTimeout: zero takes the defaults.
	HandshakeTimeout, RequestTimeout time.Duration
}

// Backend is a started worker that answered the handshake: a harness.Backend whose Run is one
// request and one reply over the pipes, and a harness.DeviceTimer when the worker reports
// device-side durations.
type Backend struct {
	o       Options
	cmd     *exec.Cmd
	ready   Ready
	stderr  *tail
	reqW    int // request pipe, tailgate's end
	repR    int // reply pipe, tailgate's end
	req     [RequestSize]byte
	rep     [ReplySize]byte
	seq     uint32
	devNs   int64
	exited  chan struct{}
	waitErr error
	stop    chan struct{}
	closed  bool

	// inflight is the request being waited for (0: none; handshakeSeq during the handshake),
	// limit how long it may take; the watchdog kills a worker that overstays and sets timedOut.
	inflight atomic.Uint64
	limit    atomic.Int64
	timedOut atomic.Bool
	// killedAfter is the limit the watchdog enforced when it killed the worker.
	killedAfter atomic.Int64
}

var (
	_ harness.Backend     = (*Backend)(nil)
	_ harness.DeviceTimer = (*Backend)(nil)
)

const handshakeSeq = 1 << 40

// Open starts the worker on a thread placed as o says, sends the hello and waits for the
// worker's ready line. Any failure (the command does not start, the worker exits, says
// nothing within the handshake timeout, or says something else) is an error carrying the
// worker's stderr tail, and leaves no process behind.
func Open(o Options) (*Backend, error) {
	if len(o.Command) == 0 || o.Command[0] == "" {
		return nil, errors.New("worker: no command given")
	}
	if o.Sched.Kind == sched.Deadline {
		return nil, errors.New("worker: a SCHED_DEADLINE thread cannot start a process; use sched fifo:PRIO with the exec backend")
	}
	if o.HandshakeTimeout <= 0 {
		o.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	b := &Backend{o: o, stderr: &tail{}, exited: make(chan struct{}), stop: make(chan struct{}), reqW: -1, repR: -1}
	if err := b.start(); err != nil {
		return nil, fmt.Errorf("worker %q does not start: %w", o.Command[0], err)
	}
	go b.watch()
	if err := b.handshake(); err != nil {
		err = b.fault(fmt.Errorf("handshake: %w", err))
		b.Close()
		return nil, err
	}
	return b, nil
}

// start creates the pipes and starts the process from a locked thread pinned and scheduled
// as the worker should be: affinity and policy are inherited across fork and exec.
func (b *Backend) start() error {
	var req, rep [2]int
	if err := unix.Pipe2(req[:], unix.O_CLOEXEC); err != nil {
		return err
	}
	if err := unix.Pipe2(rep[:], unix.O_CLOEXEC); err != nil {
		unix.Close(req[0])
		unix.Close(req[1])
		return err
	}
	b.reqW, b.repR = req[1], rep[0]
	childIn, childOut := os.NewFile(uintptr(req[0]), "worker-stdin"), os.NewFile(uintptr(rep[1]), "worker-stdout")
	defer childIn.Close()
	defer childOut.Close()
	cmd := exec.Command(b.o.Command[0], b.o.Command[1:]...)
	cmd.Env = b.o.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Dir = b.o.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = childIn, childOut, b.stderr
	// Its own process group: a terminal's Ctrl-C reaches tailgate, which shuts the worker down
	// in order, and a kill reaches whatever the worker started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second
	b.cmd = cmd
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread's affinity and policy are changed, so the runtime retires
		// it with this goroutine.
		runtime.LockOSThread()
		if err := sched.Pin(b.o.CPUs); err != nil {
			errc <- err
			return
		}
		if err := sched.Apply(b.o.Sched); err != nil {
			errc <- err
			return
		}
		errc <- cmd.Start()
	}()
	if err := <-errc; err != nil {
		b.closeFds()
		return err
	}
	go func() {
		b.waitErr = cmd.Wait()
		close(b.exited)
	}()
	return nil
}

// handshake sends the hello line and reads and checks the ready line.
func (b *Backend) handshake() error {
	hello, _ := json.Marshal(Hello{Tailgate: ProtocolVersion, Seed: b.o.Seed})
	b.limit.Store(int64(b.o.HandshakeTimeout))
	b.inflight.Store(handshakeSeq)
	defer func() {
		b.inflight.Store(0)
		b.limit.Store(int64(b.o.RequestTimeout))
	}()
	if err := writeFull(b.reqW, append(hello, '\n')); err != nil {
		return err
	}
	line, err := b.readLine()
	if err != nil {
		return err
	}
	if b.ready, err = ParseReady(line); err != nil {
		return err
	}
	return nil
}

// readLine reads the ready line byte by byte: nothing may follow it before the first request.
func (b *Backend) readLine() ([]byte, error) {
	var line []byte
	var c [1]byte
	for len(line) < MaxLine {
		if err := readFull(b.repR, c[:]); err != nil {
			if errors.Is(err, io.EOF) && len(line) > 0 {
				return nil, fmt.Errorf("the worker closed stdout in the middle of its ready line %q", clip(line))
			}
			return nil, err
		}
		if c[0] == '\n' {
			return bytes.TrimRight(line, "\r"), nil
		}
		line = append(line, c[0])
	}
	return nil, fmt.Errorf("no newline in the first %d bytes the worker wrote (%q)", MaxLine, clip(line))
}

// Ready is what the worker said in its handshake.
func (b *Backend) Ready() Ready { return b.ready }

// Pid is the worker's process id.
func (b *Backend) Pid() int { return b.cmd.Process.Pid }

// Classes returns the worker's input classes.
func (b *Backend) Classes() []string { return b.ready.Classes }

// DeviceNs is the device-side duration the worker reported for the last request (0: none).
func (b *Backend) DeviceNs() int64 { return b.devNs }

// Run sends one request and waits for its reply: the round trip is the measured latency. It
// allocates nothing; a failure of any kind is reported with the worker's stderr tail.
func (b *Backend) Run(class int) error {
	if b.seq++; b.seq == 0 {
		b.seq = 1
	}
	putRequest(&b.req, class, b.seq)
	b.inflight.Store(uint64(b.seq))
	if err := writeFull(b.reqW, b.req[:]); err != nil {
		return b.fault(fmt.Errorf("sending request %d: %w", b.seq, err))
	}
	if err := readFull(b.repR, b.rep[:]); err != nil {
		return b.fault(fmt.Errorf("reading the reply to request %d: %w", b.seq, err))
	}
	b.inflight.Store(0)
	r := parseReply(&b.rep)
	if r.op != opOK || r.class != class || r.seq != b.seq || r.deviceNs < 0 {
		return b.badReply(r, class)
	}
	b.devNs = r.deviceNs
	return nil
}

// badReply explains a reply that is not a plain success: the worker's error, or garbage.
//
//go:noinline
func (b *Backend) badReply(r reply, class int) error {
	if err := r.check(class, b.seq, &b.rep); err != nil {
		return b.fault(fmt.Errorf("request %d: %w", b.seq, err))
	}
	msg := make([]byte, r.deviceNs)
	b.inflight.Store(uint64(b.seq))
	if err := readFull(b.repR, msg); err != nil {
		return b.fault(fmt.Errorf("reading the error message of request %d: %w", b.seq, err))
	}
	b.inflight.Store(0)
	return b.fault(fmt.Errorf("the worker failed request %d: %s", b.seq, msg))
}

// fault completes err with what happened to the worker (hung and killed, exited) and its
// stderr tail. It waits briefly for a dying worker so its exit status and last words count.
//
//go:noinline
func (b *Backend) fault(err error) error {
	b.inflight.Store(0)
	if b.timedOut.Load() {
		err = fmt.Errorf("%w: no reply within %s, the worker was killed", err, time.Duration(b.killedAfter.Load()))
	}
	select {
	case <-b.exited:
		if !b.timedOut.Load() {
			err = fmt.Errorf("%w (worker exited: %v)", err, exitText(b.waitErr))
		}
	case <-time.After(200 * time.Millisecond):
	}
	if t := b.stderr.String(); t != "" {
		err = fmt.Errorf("%w; worker stderr ends:\n%s", err, t)
	}
	return err
}

func exitText(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}

// watch kills the worker when a request (or the handshake) has been waited for longer than
// its limit. It checks at a quarter of the request timeout, off the measured thread.
func (b *Backend) watch() {
	tick := time.NewTicker(min(max(b.o.RequestTimeout/4, 5*time.Millisecond), time.Second))
	defer tick.Stop()
	var last uint64
	var since time.Time
	for {
		select {
		case <-b.stop:
			return
		case <-b.exited:
			return
		case now := <-tick.C:
			cur := b.inflight.Load()
			switch {
			case cur == 0:
				last = 0
			case cur != last:
				last, since = cur, now
			case now.Sub(since) > time.Duration(b.limit.Load()):
				b.killedAfter.Store(b.limit.Load())
				b.timedOut.Store(true)
				b.kill()
				return
			}
		}
	}
}

// kill ends the worker's whole process group.
func (b *Backend) kill() { _ = syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL) }

// Close ends the worker: its stdin closes (the protocol's "exit now"), and a worker still
// there after a grace period is killed. It reports a worker that had to be killed or exited
// with an error after a clean run.
func (b *Backend) Close() error {
	if b.closed {
		return nil
	}
	b.closed = true
	close(b.stop)
	if b.reqW >= 0 {
		unix.Close(b.reqW)
		b.reqW = -1
	}
	var err error
	select {
	case <-b.exited:
		if b.waitErr != nil && !b.timedOut.Load() {
			err = fmt.Errorf("worker exited: %v", b.waitErr)
		}
	case <-time.After(exitGrace):
		b.kill()
		<-b.exited
		err = fmt.Errorf("worker did not exit within %s of its stdin closing; killed", exitGrace)
	}
	b.closeFds()
	if err != nil {
		if t := b.stderr.String(); t != "" {
			err = fmt.Errorf("%w; worker stderr ends:\n%s", err, t)
		}
	}
	return err
}

func (b *Backend) closeFds() {
	for _, fd := range []*int{&b.reqW, &b.repR} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
}

// readFull fills p from fd, retrying short reads and EINTR; a closed pipe is io.EOF.
func readFull(fd int, p []byte) error { return full(unix.Read, fd, p) }

// writeFull writes all of p to fd, retrying short writes and EINTR.
func writeFull(fd int, p []byte) error { return full(unix.Write, fd, p) }

// full moves all of p with op (unix.Read or unix.Write); a transfer of nothing is io.EOF.
func full(op func(int, []byte) (int, error), fd int, p []byte) error {
	for len(p) > 0 {
		n, err := op(fd, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return io.EOF
		}
		p = p[n:]
	}
	return nil
}

// tail keeps the last StderrTail bytes written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - StderrTail; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

// String is the kept tail, trimmed.
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.TrimSpace(t.buf))
}
