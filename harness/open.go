package harness

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Open-loop overrun policies: what happens to arrivals that come while an inference is still
// running.
const (
	OverrunQueue = "queue" // every arrival is served, late ones wait (latency includes the wait)
	OverrunDrop  = "drop"  // arrivals during a running inference are dropped, as a camera drops frames
)

// Arrival processes of the open loop.
const (
	ArrivalsFixed   = "fixed"   // one arrival every 1/rate
	ArrivalsPoisson = "poisson" // exponential gaps with mean 1/rate, seeded
)

// DefaultSpinBefore is how long before a scheduled arrival the open loop stops sleeping and
// spins, so that the sleep's wake-up latency does not delay the start of the inference.
const DefaultSpinBefore = 200 * time.Microsecond

// OpenLoop configures open-loop timing: arrivals at a fixed rate (or a Poisson process of that
// rate), latency measured from each arrival's scheduled time so that coordinated omission is
// corrected, deadline misses and dropped arrivals counted.
type OpenLoop struct {
	Rate     float64       // arrivals per second (> 0 enables the open loop)
	Arrivals string        // ArrivalsFixed (default) or ArrivalsPoisson
	Seed     int64         // of the Poisson gaps
	Deadline time.Duration // a sample above it is a miss (0: no deadline)
	Overrun  string        // OverrunQueue (default) or OverrunDrop
}

// Validate reports every problem with the settings.
func (o OpenLoop) Validate() error {
	var probs []string
	if o.Rate <= 0 || math.IsInf(o.Rate, 0) || math.IsNaN(o.Rate) {
		probs = append(probs, fmt.Sprintf("rate %g/s must be positive", o.Rate))
	} else if o.Rate > 1e7 {
		probs = append(probs, fmt.Sprintf("rate %g/s is above 10,000,000/s (a 100ns period is below what the loop can schedule)", o.Rate))
	}
	if a := o.Arrivals; a != "" && a != ArrivalsFixed && a != ArrivalsPoisson {
		probs = append(probs, fmt.Sprintf("arrivals %q: want fixed or poisson", a))
	}
	if v := o.Overrun; v != "" && v != OverrunQueue && v != OverrunDrop {
		probs = append(probs, fmt.Sprintf("overrun %q: want queue or drop", v))
	}
	if o.Deadline < 0 {
		probs = append(probs, fmt.Sprintf("deadline %s is negative", o.Deadline))
	}
	if len(probs) > 0 {
		return fmt.Errorf("open loop: %s", strings.Join(probs, "; "))
	}
	return nil
}

// gapRing is how many inter-arrival gaps are drawn before timing for a Poisson process.
const gapRing = 1 << 16

// openState is the open loop's part of the loop state.
type openState struct {
	period   int64
	gaps     []int64 // Poisson: precomputed gaps, cycled; nil for fixed arrivals
	gapAt    int
	deadline int64
	drop     bool
	spin     int64
	next     int64 // scheduled time of the next arrival
	missed   int64
	dropped  int64
}

func newOpenState(o OpenLoop) *openState {
	s := &openState{period: int64(float64(time.Second) / o.Rate), deadline: int64(o.Deadline),
		drop: o.Overrun == OverrunDrop, spin: int64(DefaultSpinBefore)}
	if s.period < 1 {
		s.period = 1
	}
	if o.Arrivals == ArrivalsPoisson {
		r := rand.New(rand.NewPCG(uint64(o.Seed), 0x6f70656e)) // "open"
		s.gaps = make([]int64, gapRing)
		for i := range s.gaps {
			s.gaps[i] = max(1, int64(r.ExpFloat64()*float64(s.period)))
		}
	}
	return s
}

func (s *openState) gap() int64 {
	if s.gaps == nil {
		return s.period
	}
	g := s.gaps[s.gapAt]
	if s.gapAt++; s.gapAt == len(s.gaps) {
		s.gapAt = 0
	}
	return g
}

// runOpen is the open-loop counterpart of run: wait for the next scheduled arrival (sleeping,
// then spinning), run, and record the latency from the scheduled arrival time. Like run it
// allocates nothing.
func (l *loop) runOpen(s *openState, n int64, endNs int64) error {
	for i := int64(0); i < n; i++ {
		now := nanotime()
		if wait := s.next - now; wait > 0 {
			if wait > s.spin {
				ts := unix.NsecToTimespec(wait - s.spin)
				_ = unix.Nanosleep(&ts, nil)
			}
			for nanotime() < s.next {
			}
		}
		t0 := s.next
		err := l.b.Run(l.class)
		t1 := nanotime()
		if err != nil {
			return l.runErr(err)
		}
		d := t1 - t0
		if s.deadline > 0 && d > s.deadline {
			s.missed++
		}
		if d > l.highest {
			d = l.highest
			l.overflow++
		} else if d < 1 {
			d = 1
		}
		_ = l.cur.hists[l.class].RecordValue(d)
		l.cur.count++
		l.samples++
		if l.class++; l.class == l.nclass {
			l.class = 0
		}
		s.next += s.gap()
		if s.drop {
			// Arrivals that came while this inference ran are lost; the next one served is the
			// first after it finished.
			for s.next < t1 {
				s.dropped++
				s.next += s.gap()
			}
		}
		if t1 >= endNs || l.stop.Load() {
			return nil
		}
		if t1 >= l.nextSwap {
			l.swap(t1)
		}
		if t1 >= l.breakAt {
			if l.takeBreak(t1) && s.next < nanotime() {
				// A pacing sleep is the harness's absence, not the workload's: arrivals
				// scheduled during it are not charged to the next samples.
				s.next = nanotime()
			}
		}
	}
	return nil
}
