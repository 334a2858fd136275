// Package workertest turns a test binary into the workers the exec backend's tests drive: the
// echo worker and stand-ins for every fault of docs/worker-protocol.md (a worker that exits at
// once, stays silent, says hello wrongly, replies garbage, dies, hangs or fails a request).
package workertest

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tailgate-ci/tailgate/harness/execbackend"
)

// Env names the worker a test binary plays when started with it set; so does the argument
// Command passes.
const Env = "TAILGATE_TEST_WORKER"

const arg = "-tailgate.test.worker="

// FaultAt is the request at which the faulty stand-ins fail, unless the mode says otherwise
// (die@1000).
const FaultAt = 3

// Command is the argv that starts this test binary as the worker mode names: echo, exit,
// silent, badhello, errhello, device (replies with device times), garbage, die, hang or fail,
// the last four optionally @N, the request they fail at.
func Command(mode string) []string { return []string{os.Args[0], arg + mode} }

// Main plays the worker Env or Command names and exits, when one does; otherwise it returns
// at once. A test package calls it first thing in TestMain.
func Main() {
	mode := os.Getenv(Env)
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], arg) {
		mode = strings.TrimPrefix(os.Args[1], arg)
	}
	if mode != "" {
		os.Exit(play(mode))
	}
}

func play(mode string) int {
	at := FaultAt
	if m, n, ok := strings.Cut(mode, "@"); ok {
		mode = m
		at, _ = strconv.Atoi(n)
	}
	switch mode {
	case "echo":
		if err := execbackend.Echo(0, 1); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	case "exit":
		fmt.Fprintln(os.Stderr, "cannot open /dev/hailo0: no such device")
		return 3
	case "silent":
		time.Sleep(time.Hour)
	case "badhello", "errhello":
		fmt.Println(map[string]string{"badhello": "hello, I am a worker", "errhello": `{"worker":1,"error":"model.hef: file not found"}`}[mode])
		_, _ = io.Copy(io.Discard, os.Stdin) // until tailgate closes it
		return 0
	}
	var c [1]byte
	for c[0] != '\n' {
		if _, err := os.Stdin.Read(c[:]); err != nil {
			return 1
		}
	}
	// The device names the GITHUB_TOKEN the worker sees, so tests can check it sees none.
	b, _ := json.Marshal(execbackend.Ready{Worker: 1, Runtime: "fake", Version: "1.2.3", Device: "env:" + os.Getenv("GITHUB_TOKEN"), Classes: []string{"small", "large"}})
	os.Stdout.Write(append(b, '\n'))
	var req [execbackend.RequestSize]byte
	var rep [execbackend.ReplySize]byte
	for n := 1; ; n++ {
		if _, err := io.ReadFull(os.Stdin, req[:]); err != nil {
			return 0
		}
		rep[0] = 'A'
		copy(rep[1:8], req[1:8])
		binary.LittleEndian.PutUint64(rep[8:], uint64(1000*n))
		switch {
		case mode == "garbage" && n == at:
			copy(rep[:], "HTTP/1.1 200 OK\r\n")
		case mode == "die" && n == at:
			fmt.Fprintln(os.Stderr, "segfault in npu driver")
			return 139
		case mode == "hang" && n == at:
			fmt.Fprintln(os.Stderr, "waiting for the NPU")
			time.Sleep(time.Hour)
		case mode == "fail" && n == at:
			msg := "input tensor has the wrong shape"
			rep[0] = 'E'
			binary.LittleEndian.PutUint64(rep[8:], uint64(len(msg)))
			os.Stdout.Write(append(rep[:], msg...))
			continue
		}
		os.Stdout.Write(rep[:])
	}
}
