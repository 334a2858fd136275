package harness

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"runtime/debug"
	"slices"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness/sched"
)

// Defaults of an interleaved A/B run (and the flags that set them).
const (
	// MinAutoRound is the shortest round the automatic choice makes (ABOptions.Round zero).
	// Shorter rounds pair better, because the noise a machine makes (a neighbour's burst, a
	// frequency step) is then more often shared by both arms of a round, and they give the
	// analysis more rounds; on this project's 2-core test machine 250-ms rounds gave paired
	// intervals a third as wide as 1-s rounds (docs/comparison.md).
	MinAutoRound = 250 * time.Millisecond
	// SwitchBudget bounds what switching costs: the automatic round is long enough that the
	// inferences discarded after a switch take at most 1/SwitchBudget of it.
	SwitchBudget = 50
	// AutoProbe is how many untimed inferences of each arm, timed one by one, estimate its
	// latency (their median) for the automatic round.
	AutoProbe = 11
	// DefaultSwitchDiscard is how many inferences after a switch of arm are run untimed: the
	// first inferences of a session that has been idle for a round pay for its cold caches,
	// which is the switch's cost, not the arm's.
	DefaultSwitchDiscard = 5
	// MinRounds is the fewest rounds an A/B run may have: the paired analysis rests on the
	// per-round differences, and fewer than this leaves too few degrees of freedom.
	MinRounds = 8
)

// ABOptions configures an interleaved A/B run. Zero values take the defaults noted.
type ABOptions struct {
	// Rounds is K, the number of rounds; each runs both arms for Round, in a random order.
	// With Round zero and Rounds zero, K is Duration split into automatic rounds.
	Rounds int
	// Round is r, how long each arm runs per round; zero chooses it from the arms' latency
	// once they are warm (AutoSchedule).
	Round time.Duration
	// Duration is each arm's timed time when Rounds is zero and the round automatic.
	Duration time.Duration
	// Discard is w, the inferences run untimed after each switch of arm (negative: none;
	// zero: DefaultSwitchDiscard).
	Discard int
	// Seed seeds the order of the arms in each round.
	Seed int64
	// Warmup runs each arm, untimed, for this long before the first round (both arms warm).
	Warmup time.Duration
	// CPUs, Sched and Mlock are the timing thread's placement, the same for both arms.
	CPUs  []int
	Sched sched.Policy
	Mlock bool
	// Calibration: see Options.Calibration.
	Calibration time.Duration
	// YieldEvery: see Options.YieldEvery.
	YieldEvery time.Duration
	// Sink receives, after each round, arm A's and arm B's histogram of the round in the order
	// they ran, tagged with their names, result.ArmNames.
	Sink Sink
	// OnRound, if set, is called after each round is written.
	OnRound func(RoundStats)
	// Stop ends the run at the end of the current round's arm when set.
	Stop *atomic.Bool
}

// RoundStats summarises one finished round for progress and telemetry.
type RoundStats struct {
	Index int
	// Rounds and Round are the schedule in effect (an automatic round is known once the arms
	// are warm).
	Rounds  int
	Round   time.Duration
	Order   string // "AB" or "BA"
	Samples [2]int64
	P50     [2]int64
	// Start and End span both arms' timed parts of the round; Thread holds the timing
	// thread's counters over the round (deltas), both arms and the switch between them.
	Start, End time.Time
	Thread     ThreadStats
	Tid        int
}

// Interval is the round as one interval of a single run, as telemetry samples it: its index,
// span, samples of both arms and thread counters.
func (st RoundStats) Interval() IntervalStats {
	return IntervalStats{Index: st.Index, Start: st.Start, End: st.End, Samples: st.Samples[0] + st.Samples[1],
		Thread: st.Thread, Tid: st.Tid}
}

// ABReport is what an interleaved A/B run measured. Arrays are indexed 0 for A, 1 for B.
type ABReport struct {
	Start, End time.Time
	// Round is the round length used, and Planned the rounds scheduled (automatic or as given).
	Round   time.Duration
	Planned int
	// Rounds is the number of rounds written (a round is written only when both arms ran it).
	Rounds int
	// Order holds the arm that ran first in each round written, e.g. "ABBA…".
	Order       string
	Samples     [2]int64
	Warmup      [2]int64
	Discarded   [2]int64
	Overflow    [2]int64
	Stopped     bool
	Calibration Calibration
	Tid         int
}

// ArmError is an arm's failure: which arm and what went wrong.
type ArmError struct {
	Arm string
	Err error
}

func (e *ArmError) Error() string { return "arm " + e.Arm + ": " + e.Err.Error() }
func (e *ArmError) Unwrap() error { return e.Err }

// AutoSchedule chooses the round for arms whose slower inference takes lat, with w inferences
// discarded per switch: the shortest round, at least MinAutoRound, in which those inferences
// take at most 1/SwitchBudget of it. Given k rounds, it keeps them; otherwise it splits d into
// rounds of that length, and when fewer than 2·MinRounds fit (a slow model) into that many
// shorter rounds, down to MinAutoRound, since the analysis needs rounds more than a small
// switching cost. The rounds fill d exactly.
func AutoSchedule(d time.Duration, k int, lat time.Duration, w int) (time.Duration, int) {
	r := max(MinAutoRound, time.Duration(SwitchBudget*max(w, 1))*lat)
	if k > 0 {
		return r, k
	}
	k = int(d / r)
	if k < 2*MinRounds {
		k = min(2*MinRounds, int(d/MinAutoRound))
	}
	return d / time.Duration(k), k
}

// RoundOrder returns the order of the arms in each of k rounds for seed: true when B runs
// first. It is what RunAB follows, so a schedule can be recorded and replayed.
func RoundOrder(k int, seed int64) []bool {
	r := rand.New(rand.NewPCG(uint64(seed), 0x61622d6f72646572)) // "ab-order"
	out := make([]bool, k)
	for i := range out {
		out[i] = r.IntN(2) == 1
	}
	return out
}

// RunAB times two backends interleaved on one timing thread: both are warmed up, then in each
// of o.Rounds rounds each arm runs for o.Round in the seeded random order, the first o.Discard
// inferences after each switch untimed, and each arm's histogram of the round goes to o.Sink
// tagged with its arm. Both arms share the thread, its CPU and scheduling class, and the Go
// runtime state (GC off throughout), so what differs between them is the arm.
//
// Rounds are written between rounds, on the timing thread but outside any timed section (the
// discarded inferences after the switch absorb what the write disturbed). A round is written
// only when both arms completed it, so the log always holds whole pairs. It returns what was
// measured even with an error (an *ArmError when an arm failed).
func RunAB(a, b Backend, o ABOptions) (*ABReport, error) {
	arms := [2]Backend{a, b}
	for i, be := range arms {
		if be == nil || len(be.Classes()) == 0 {
			return nil, &ArmError{Arm: result.ArmNames[i], Err: errors.New("backend has no input classes")}
		}
	}
	if o.Sink == nil {
		return nil, errors.New("harness: no interval sink")
	}
	switch {
	case o.Round < 0:
		return nil, fmt.Errorf("harness: round %s is negative", o.Round)
	case o.Round == 0 && o.Rounds == 0 && o.Duration < MinRounds*MinAutoRound:
		return nil, fmt.Errorf("harness: %s per arm cannot hold %d automatic rounds of at least %s", o.Duration, MinRounds, MinAutoRound)
	case o.Rounds < MinRounds && (o.Round > 0 || o.Rounds != 0):
		return nil, fmt.Errorf("harness: %d rounds: an A/B run needs at least %d", o.Rounds, MinRounds)
	}
	switch {
	case o.Discard == 0:
		o.Discard = DefaultSwitchDiscard
	case o.Discard < 0:
		o.Discard = 0
	}
	if o.Calibration == 0 {
		o.Calibration = DefaultCalibration
	}
	if o.YieldEvery == 0 {
		o.YieldEvery = DefaultYieldEvery
	}
	stop := o.Stop
	if stop == nil {
		stop = new(atomic.Bool)
	}
	rep := &ABReport{}
	var loops [2]*loop
	for i, be := range arms {
		loops[i] = &loop{b: be, nclass: len(be.Classes()), stop: stop, highest: result.HighestNs,
			intervalNs: math.MaxInt64, nextSwap: math.MaxInt64, cur: newBuffer(len(be.Classes()))}
		if o.YieldEvery > 0 {
			loops[i].yieldNs = int64(o.YieldEvery)
		}
	}
	if o.Mlock {
		if err := sched.Mlock(); err != nil {
			return nil, err
		}
		defer sched.Munlock()
	}
	done := make(chan error, 1)
	go func() {
		// Never unlocked: the thread's affinity and policy are changed for good.
		runtime.LockOSThread()
		rep.Tid = sched.Tid()
		if err := sched.Pin(o.CPUs); err != nil {
			done <- err
			return
		}
		if err := sched.Apply(o.Sched); err != nil {
			done <- err
			return
		}
		done <- timedAB(loops, o, rep)
	}()
	err := <-done
	if rep.Start.IsZero() {
		return nil, err
	}
	return rep, err
}

// timedAB runs on the locked timing thread: calibration, warm-up of both arms, then the rounds.
func timedAB(loops [2]*loop, o ABOptions, rep *ABReport) error {
	rep.Calibration.ClockReadNs = ClockReadNs(200000)
	rep.Calibration.TimerResolutionNs = TimerResolutionNs()
	if o.Calibration > 0 {
		rep.Calibration.LoopRecordNs = calibrateLoop(o.Calibration, loops[0].yieldNs)
	}
	runtime.GC()
	oldGC := debug.SetGCPercent(-1)
	defer debug.SetGCPercent(oldGC)

	scratch := [2]*buffer{newBuffer(loops[0].nclass), newBuffer(loops[1].nclass)}
	// untimed runs arm i for n inferences or until d has passed, into a buffer thrown away.
	untimed := func(i int, n int64, d time.Duration) (int64, error) {
		l := loops[i]
		real := l.cur
		l.cur = scratch[i]
		defer func() { l.cur = real; scratch[i].reset() }()
		before, overflow := l.samples, l.overflow
		now := nanotime()
		end := int64(math.MaxInt64)
		if d > 0 {
			end = now + int64(d)
		}
		l.resetBreaks(now)
		err := l.run(n, end)
		ran := l.samples - before
		l.samples, l.overflow = before, overflow
		return ran, err
	}
	for i := range loops {
		if o.Warmup > 0 {
			n, err := untimed(i, math.MaxInt64, o.Warmup)
			rep.Warmup[i] = n
			if err != nil {
				return &ArmError{Arm: result.ArmNames[i], Err: fmt.Errorf("warm-up: %w", err)}
			}
		}
	}
	if o.Round == 0 {
		// The slower arm's latency sets the round: the median of a few untimed inferences of
		// each now that both are warm, so that one slow inference on a busy machine does not
		// double the round.
		var lat time.Duration
		for i := range loops {
			var each [AutoProbe]int64
			for j := range each {
				t := nanotime()
				if _, err := untimed(i, 1, 0); err != nil {
					return &ArmError{Arm: result.ArmNames[i], Err: fmt.Errorf("latency probe: %w", err)}
				}
				each[j] = nanotime() - t
			}
			slices.Sort(each[:])
			lat = max(lat, time.Duration(each[AutoProbe/2]))
		}
		o.Round, o.Rounds = AutoSchedule(o.Duration, o.Rounds, lat, o.Discard)
	}
	rep.Round, rep.Planned = o.Round, o.Rounds
	order := RoundOrder(o.Rounds, o.Seed)
	merged := [2]*hdrhistogram.Histogram{result.NewHistogram(), result.NewHistogram()}
	thr, _ := openThreadStats(rep.Tid) // nil without procfs: it reads zeros
	defer thr.Close()
	lastThr, _ := thr.read()
	var start, end [2]time.Time
	rep.Start = time.Now()
	t0, wall0 := nanotime(), rep.Start
	wall := func(ns int64) time.Time { return wall0.Add(time.Duration(ns - t0)) }
	for k := 0; k < o.Rounds; k++ {
		seq := [2]int{0, 1}
		if order[k] {
			seq = [2]int{1, 0}
		}
		for _, i := range seq {
			if o.Discard > 0 {
				n, err := untimed(i, int64(o.Discard), 0)
				rep.Discarded[i] += n
				if err != nil {
					return rep.fail(i, k, err, wall(nanotime()))
				}
			}
			l := loops[i]
			l.cur.reset()
			l.class = 0
			s := nanotime()
			l.resetBreaks(s)
			err := l.run(math.MaxInt64, s+int64(o.Round))
			e := nanotime()
			start[i], end[i] = wall(s), wall(e)
			if err != nil {
				return rep.fail(i, k, err, end[i])
			}
			if l.stop.Load() && e < s+int64(o.Round) {
				// A round cut short would pair unequal exposures: it is not written.
				rep.Stopped, rep.End = true, end[i]
				return nil
			}
		}
		for _, i := range seq {
			merged[i].Reset()
			for _, h := range loops[i].cur.hists {
				merged[i].Merge(h)
			}
			if err := o.Sink.WriteInterval(result.Interval{Tag: result.ArmNames[i], Start: start[i], End: end[i], Hist: merged[i]}); err != nil {
				rep.End = end[seq[1]]
				return fmt.Errorf("writing round %d, arm %s: %w", k, result.ArmNames[i], err)
			}
			rep.Samples[i] += merged[i].TotalCount()
			rep.Overflow[i] += loops[i].overflow
			loops[i].overflow = 0
		}
		rep.Rounds++
		rep.Order += result.ArmNames[seq[0]]
		rep.End = end[seq[1]]
		if o.OnRound != nil {
			cur, _ := thr.read()
			st := RoundStats{Index: k, Rounds: o.Rounds, Round: o.Round, Order: result.ArmNames[seq[0]] + result.ArmNames[seq[1]], Start: start[seq[0]], End: end[seq[1]], Tid: rep.Tid,
				Thread: cur.sub(lastThr)}
			lastThr = cur
			for i := range merged {
				st.Samples[i], st.P50[i] = merged[i].TotalCount(), merged[i].ValueAtQuantile(50)
			}
			o.OnRound(st)
		}
		if loops[0].stop.Load() {
			rep.Stopped = true
			return nil
		}
	}
	return nil
}

// fail records the end of a run that arm i broke in round k.
func (rep *ABReport) fail(i, k int, err error, at time.Time) error {
	rep.End = at
	return &ArmError{Arm: result.ArmNames[i], Err: fmt.Errorf("round %d: %w", k, err)}
}
