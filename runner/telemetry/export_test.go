package telemetry

import (
	"github.com/tailgate-ci/tailgate/baseline/result"
	"github.com/tailgate-ci/tailgate/harness"
)

// Step runs one interval through the sampling goroutine's path without the goroutine.
func Step(s *Sampler, st harness.IntervalStats) { s.step(st) }

// Sample is (*Sampler).Sample, for symmetry in tests that use Step.
func Sample(s *Sampler, st harness.IntervalStats) result.Telemetry { return s.Sample(st) }
