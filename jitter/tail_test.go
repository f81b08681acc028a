package jitter

import "testing"

// TestYoungHistoryTail: in a history of 100 samples (2 s of 20 ms
// packets) spread over 20-118 ms with one of 600 ms, the 0.99 quantile
// is not the lone outlier (it was: 360 ms, halfway to it, which held the
// target at 300-600 ms for the first seconds of mobile seed 202).
func TestYoungHistoryTail(t *testing.T) {
	e := newEstimator(2e9, 0.99, 0.999)
	for i := range 99 {
		e.addSample(int64(20+i) * 1e6)
	}
	e.addSample(600e6)
	if q := e.quantile(); q > 130e6 {
		t.Errorf("quantile %d ms of 99 samples within 20-118 ms and one of 600 ms: the outlier alone set it", q/1e6)
	}
	// A tail of several is covered.
	for range 3 {
		e.addSample(600e6)
	}
	if q := e.quantile(); q < 500e6 {
		t.Errorf("quantile %d ms with four samples of 600 ms in 103: the tail is not covered", q/1e6)
	}
}

// TestJitterIsNoRamp: block minima rising 3 ms a block, three blocks in a
// row, under a jitter of 0-120 ms are chance, not a queue filling: no
// ramp (which would take back what the history learned; mobile seed 216
// lost 10 packets late in its third second so). A rise of 20 ms a block
// after 3 s of 0-8 ms is a ramp.
func TestJitterIsNoRamp(t *testing.T) {
	run := func(calmNs, risePerBlockNs, jitterNs int64) bool {
		e := newEstimator(2e9, 0.99, 0.999)
		ramp := false
		for i := int64(0); i < 400; i++ { // 8 s of 20 ms packets
			arr := i * 20e6
			transit := 50e6 + max(arr-calmNs, 0)/500e6*risePerBlockNs + (i*37)%(jitterNs/1e6)*1e6
			e.add(transit, arr+transit, 20e6)
			ramp = ramp || e.ramp
		}
		return ramp
	}
	if run(0, 3e6, 120e6) {
		t.Error("minima rising 3 ms a block under 120 ms of jitter were taken for a ramp")
	}
	if !run(3e9, 20e6, 8e6) {
		t.Error("minima rising 20 ms a block after 3 s of 8 ms of jitter were not taken for a ramp")
	}
}
