package jitter_test

import (
	"slices"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/netsim"
	"github.com/hark-intercom/hark/jitter"
)

// Stalls: a sender or relay process on a busy machine stops for 100 ms to
// a second and then sends what it held back in one burst (netsim.Spikes:
// a datagram sent during a stall leaves when it ends), on a network with
// 0–30 ms of uniform jitter (the burst arrives reordered). The target must
// follow the network, not the stalls: a stall costs its own audio, and
// only stalls that keep coming are covered, while they do.

const stallNet = 30 * time.Millisecond

// stallRun plays a 20 ms talker through the 0–30 ms network with stalls of
// height h at the given times and returns the result and the target delay
// after every 10 ms tick (index = tick).
func stallRun(t *testing.T, length, h time.Duration, at ...time.Duration) (simResult, []time.Duration) {
	t.Helper()
	var delay netsim.DelayModel = netsim.Uniform{Max: stallNet}
	if len(at) > 0 {
		delay = netsim.Spikes{Base: delay, At: at, Height: h}
	}
	tr := netsim.Generate(netsim.Talker{Length: length}, netsim.NewLink(netsim.Config{Seed: 7, Delay: delay}))
	b := jitter.New()
	var targets []time.Duration
	r := simulateObserved(t, tr, b, 480, 0, nil, func(time.Duration) { targets = append(targets, b.Stats().TargetDelay) })
	checkOrder(t, r)
	accountFor(t, tr, r)
	return r, targets
}

// heldTarget is the highest target in [from, to) that held for at least
// hold (the lowest over hold from there on): the one the delay follows.
// The quantile moves with each new sample, so the first packet of a
// stall's burst, arriving before the one that shows it is a burst, lifts
// it for a few ticks until it is taken back (estimator.unlearnBefore).
func heldTarget(targets []time.Duration, from, to, hold time.Duration) (m time.Duration) {
	k := int(hold / (10 * time.Millisecond))
	for i := range targets {
		if at := time.Duration(i) * 10 * time.Millisecond; at < from || at >= to || i+k > len(targets) {
			continue
		}
		m = max(m, slices.Min(targets[i:i+k]))
	}
	return m
}

func maxTarget(targets []time.Duration, from, to time.Duration) (m time.Duration) {
	for i, d := range targets {
		if at := time.Duration(i) * 10 * time.Millisecond; at >= from && at < to {
			m = max(m, d)
		}
	}
	return m
}

// TestStallsDoNotRaiseTheTarget: stalls that do not recur — one in the
// first second of the transmission (the e2e failure: an 800 ms stall there
// set the target to 834 ms for the rest of the recording, 35 packets
// queued), short ones whose bursts have only two packets above the spike
// threshold, two of 300 ms — leave the target where the network puts it.
func TestStallsDoNotRaiseTheTarget(t *testing.T) {
	const length = 8 * time.Second
	calm, calmTargets := stallRun(t, length, 0)
	calmMax := heldTarget(calmTargets, time.Second, length, 100*time.Millisecond)
	t.Logf("no stall: target %v (at most %v for 100 ms after the first second), mean delay %v", calm.stats.TargetDelay, calmMax, calm.stats.MeanDelay)
	for _, c := range []struct {
		name string
		h    time.Duration
		at   []time.Duration
		// The stall outlasts concealment (100 ms): its packets are late
		// and the delay stays. A shorter one is resumed from, which
		// adds its length to the delay until it is shed in pauses.
		keepsDelay bool
	}{
		{"800 ms in the first second", 800 * time.Millisecond, []time.Duration{600 * time.Millisecond}, true},
		{"250 ms in the first second", 250 * time.Millisecond, []time.Duration{400 * time.Millisecond}, true},
		{"150 ms", 150 * time.Millisecond, []time.Duration{3 * time.Second}, true},
		{"120 ms (two packets above the spike threshold)", 120 * time.Millisecond, []time.Duration{3 * time.Second}, false},
		{"100 ms", 100 * time.Millisecond, []time.Duration{3 * time.Second}, false},
		{"300 ms twice", 300 * time.Millisecond, []time.Duration{2 * time.Second, 5 * time.Second}, true},
	} {
		r, targets := stallRun(t, length, c.h, c.at...)
		m := heldTarget(targets, time.Second, length, 100*time.Millisecond)
		t.Logf("%s: target at most %v for 100 ms after the first second, at the end %v; mean delay %v, late %d",
			c.name, m, r.stats.TargetDelay, r.stats.MeanDelay, r.stats.Late)
		if m > calmMax+10*time.Millisecond {
			t.Errorf("%s: the target rose to %v (%v without the stall): the stall was learned as network jitter", c.name, m, calmMax)
		}
		if c.keepsDelay && r.stats.MeanDelay > calm.stats.MeanDelay+10*time.Millisecond {
			t.Errorf("%s: mean delay %v, %v without the stall", c.name, r.stats.MeanDelay, calm.stats.MeanDelay)
		}
	}
}

// TestRecurringStallsCoveredWhileTheyLast: 300 ms stalls every second for
// five seconds. From the fourth on the buffer covers them (the fifth costs
// no audio), and two seconds after the last one the target is back where
// the network puts it.
func TestRecurringStallsCoveredWhileTheyLast(t *testing.T) {
	const length = 13 * time.Second
	_, calmTargets := stallRun(t, length, 0)
	calmMax := maxTarget(calmTargets, time.Second, length)
	stalls := []time.Duration{2 * time.Second, 3 * time.Second, 4 * time.Second, 5 * time.Second, 6 * time.Second}
	r, targets := stallRun(t, length, 300*time.Millisecond, stalls...)
	during := maxTarget(targets, 5500*time.Millisecond, 6*time.Second)
	after := maxTarget(targets, 9*time.Second, length)
	t.Logf("no stall: target at most %v; stalls every second: %v before the fifth, at most %v from 9 s on; late %d",
		calmMax, during, after, r.stats.Late)
	if during < 300*time.Millisecond {
		t.Errorf("target %v before the fifth 300 ms stall: recurring stalls not covered", during)
	}
	if after > calmMax+10*time.Millisecond {
		t.Errorf("target %v three seconds after the last stall, %v without stalls: it did not come back", after, calmMax)
	}
	// The packets stuck behind the fifth stall are played.
	notPlayed := 0
	for k := range int(length / (20 * time.Millisecond)) {
		send := time.Duration(k+1) * 20 * time.Millisecond // a packet leaves after its last sample
		if send >= stalls[4] && send < stalls[4]+300*time.Millisecond && r.played[k] == 0 {
			notPlayed++
		}
	}
	if notPlayed > 1 {
		t.Errorf("%d packets stuck behind the fifth stall were not played", notPlayed)
	}
}
