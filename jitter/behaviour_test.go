package jitter_test

import (
	"sync"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/netsim"
	"github.com/hark-intercom/hark/jitter"
)

func TestClockDrift(t *testing.T) {
	for _, ppm := range []float64{-1000, 1000} {
		cfg, _ := netsim.Preset("lan", 7)
		tr := netsim.Generate(netsim.Talker{Length: 60 * time.Second, DriftPPM: ppm}, netsim.NewLink(cfg))
		b := jitter.New()
		r := simulate(t, tr, b, 480, 0, nil)
		checkOrder(t, r)
		accountFor(t, tr, r)
		s := r.stats
		// 0.1% of 60 s is 60 ms: the buffer must absorb it by stretching
		// (slow sender) or dropping (fast sender) a handful of frames, not
		// by drifting away or losing much.
		if lost := float64(s.Late+s.Dropped) / float64(len(tr.Sent)); lost > 0.01 {
			t.Errorf("drift %+.0f ppm: %.2f%% late or dropped", ppm, 100*lost)
		}
		if c := float64(s.ConcealedSamples) / float64(tr.SentSamples()); c > 0.01 {
			t.Errorf("drift %+.0f ppm: %.2f%% concealed", ppm, 100*c)
		}
		if s.MeanDelay > s.TargetDelay+40*time.Millisecond {
			t.Errorf("drift %+.0f ppm: mean delay %v drifted away from target %v", ppm, s.MeanDelay, s.TargetDelay)
		}
	}
}

func TestAdaptsToJitterAndRecoversFromSpike(t *testing.T) {
	for _, name := range []string{"wifi", "spike"} {
		cfg, _ := netsim.Preset(name, 11)
		tr := netsim.Generate(netsim.Talker{Length: 60 * time.Second}, netsim.NewLink(cfg))
		b := jitter.New()
		r := simulate(t, tr, b, 480, 0, nil)
		checkOrder(t, r)
		accountFor(t, tr, r)
		s := r.stats
		if lost := float64(s.Late+s.Dropped) / float64(len(tr.Sent)); lost > 0.01 {
			t.Errorf("%s: %.2f%% late or dropped", name, 100*lost)
		}
		if name != "spike" {
			continue
		}
		// Delay (play time − send time) of frames sent 2.5 s after the spike
		// must be back within a frame of the delay before it.
		delay := func(from, to time.Duration) (maxd time.Duration) {
			for i, at := range r.playAt {
				if s := tr.Sent[i].Send; s >= from && s < to {
					maxd = max(maxd, at-s)
				}
			}
			return maxd
		}
		before := delay(5*time.Second, 10*time.Second)
		after := delay(12500*time.Millisecond, 20*time.Second)
		if after > before+20*time.Millisecond {
			t.Errorf("spike: delay %v two seconds after the spike, %v before", after, before)
		}
		// The stall (300 ms) outlasts concealment (100 ms): the stuck
		// packets are late rather than resumed from, so no latency is added
		// and nothing has to be dropped afterwards.
		if s.Resumed != 0 || s.Dropped > 1 {
			t.Errorf("spike: resumed %d times, dropped %d after the stall, want 0 and at most 1 (stats %+v)", s.Resumed, s.Dropped, s)
		}
	}
}

// TestLatePacketCountedAndRecovered: one packet is held back 200 ms; its
// successor's FEC stands in for it and it is dropped as late on arrival.
func TestLatePacketCountedAndRecovered(t *testing.T) {
	tr := netsim.Generate(netsim.Talker{Length: 2 * time.Second},
		netsim.NewLink(netsim.Config{Seed: 1, Delay: netsim.Constant{D: 5 * time.Millisecond}}))
	for k := range tr.Arrivals {
		if tr.Arrivals[k].Index == 50 {
			tr.Arrivals[k].Arrive += 200 * time.Millisecond
		}
	}
	sortArrivals(tr)
	b := jitter.New(jitter.WithMinDelay(40 * time.Millisecond))
	r := simulate(t, tr, b, 960, 0, nil)
	checkOrder(t, r)
	if r.stats.Late != 1 || r.stats.FECRecovered != 1 || r.played[50] != 0 {
		t.Fatalf("late %d, FEC %d, played %d times; want 1, 1, 0", r.stats.Late, r.stats.FECRecovered, r.played[50])
	}
}

func sortArrivals(tr *netsim.Trace) {
	a := tr.Arrivals
	for i := 1; i < len(a); i++ {
		for j := i; j > 0 && a[j].Arrive < a[j-1].Arrive; j-- {
			a[j], a[j-1] = a[j-1], a[j]
		}
	}
}

// TestPauseInsideTransmission: the sender stops sending for 500 ms (Opus
// DTX) without a sequence gap. Until the next packet comes the buffer cannot
// tell a pause from loss, so it conceals for at most MaxConceal (100 ms),
// then plays silence; nothing is lost or dropped.
func TestPauseInsideTransmission(t *testing.T) {
	tr := netsim.Generate(netsim.Talker{Length: 2 * time.Second},
		netsim.NewLink(netsim.Config{Seed: 1, Delay: netsim.Constant{D: 5 * time.Millisecond}}))
	// Drop packets 40..64 and renumber the rest so the sequence stays
	// contiguous while the timestamps jump.
	var sent []netsim.Sent
	var arr []netsim.Arrival
	for i, s := range tr.Sent {
		if i >= 40 && i < 65 {
			continue
		}
		if i >= 65 {
			s.Seq -= 25
		}
		sent = append(sent, s)
		arr = append(arr, netsim.Arrival{Index: len(sent) - 1, Arrive: s.Send + 5*time.Millisecond})
	}
	tr.Sent, tr.Arrivals = sent, arr
	b := jitter.New()
	r := simulate(t, tr, b, 480, 0, nil)
	checkOrder(t, r)
	if len(r.played) != len(sent) || r.stats.ConcealedSamples > 100*48 || r.stats.Late+r.stats.Dropped != 0 {
		t.Fatalf("played %d of %d, concealed %d samples, stats %+v", len(r.played), len(sent), r.stats.ConcealedSamples, r.stats)
	}
	if count(r, jitter.Silence) < 40 {
		t.Fatalf("only %d silence decisions in a 500 ms pause", count(r, jitter.Silence))
	}
}

// TestLostEndGoesIdle: the End packet never arrives; the buffer conceals
// briefly, then plays silence, then goes idle.
func TestLostEndGoesIdle(t *testing.T) {
	tr := netsim.Generate(netsim.Talker{Length: time.Second},
		netsim.NewLink(netsim.Config{Seed: 1, Delay: netsim.Constant{D: 5 * time.Millisecond}}))
	tr.Arrivals = tr.Arrivals[:len(tr.Arrivals)-1]
	b := jitter.New(jitter.WithMaxConceal(60*time.Millisecond), jitter.WithMaxDelay(300*time.Millisecond))
	r := simulate(t, tr, b, 480, 0, nil)
	var concealed int
	for _, d := range r.decisions {
		if d.Action == jitter.Conceal {
			concealed += d.Samples
		}
	}
	if concealed > 60*48+480 {
		t.Errorf("concealed %d samples after the sender vanished, want at most about 60 ms", concealed)
	}
	if r.stats.State != jitter.Idle {
		t.Errorf("state %v, want idle", r.stats.State)
	}
}

func TestSenderRestartStartsNewTransmission(t *testing.T) {
	b := jitter.New()
	now := t0
	push := func(seq uint16, ts uint32, start bool) {
		b.Push(jitter.Packet{Seq: seq, Timestamp: ts, Duration: 960, Start: start, Payload: []byte{1}, Arrival: now})
	}
	push(100, 1000, true)
	push(101, 1960, false)
	for i := 0; i < 20; i++ {
		b.Next(now, 960)
		now = now.Add(20 * time.Millisecond)
	}
	push(40000, 5, true) // a restarted sender: new numbering
	var played []uint16
	for i := 0; i < 20; i++ {
		d, _ := b.Next(now, 960)
		if d.Action == jitter.Play {
			played = append(played, d.Packet.Seq)
		}
		now = now.Add(20 * time.Millisecond)
	}
	if len(played) != 1 || played[0] != 40000 {
		t.Fatalf("after restart played %v, want [40000]", played)
	}
	if s := b.Stats(); s.Transmissions != 2 {
		t.Fatalf("transmissions %d", s.Transmissions)
	}
}

func TestStrings(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{jitter.Idle.String(), "idle"}, {jitter.Buffering.String(), "buffering"},
		{jitter.Playing.String(), "playing"}, {jitter.Draining.String(), "draining"},
		{jitter.Play.String(), "play"}, {jitter.Conceal.String(), "conceal"},
		{jitter.FEC.String(), "fec"}, {jitter.Silence.String(), "silence"},
		{jitter.State(9).String(), "State(9)"}, {jitter.Action(9).String(), "Action(9)"},
	} {
		if c.got != c.want {
			t.Errorf("got %q want %q", c.got, c.want)
		}
	}
}

// TestConcurrentProducerConsumer runs Push and Next on two goroutines (run
// with -race). The consumer's clock is driven by the packets it has seen,
// so the test has no sleeps and a bounded amount of work.
func TestConcurrentProducerConsumer(t *testing.T) {
	b := jitter.New()
	const n = 3000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			b.Push(jitter.Packet{Seq: uint16(i), Timestamp: uint32(i * 960), Duration: 960, Start: i == 0, End: i == n-1,
				Payload: []byte{1}, Arrival: t0.Add(time.Duration(i) * 20 * time.Millisecond)})
		}
	}()
	now := t0
	for i := 0; i < 2*n; i++ {
		d, _ := b.Next(now, 960)
		if d.Samples <= 0 {
			t.Fatal("empty decision")
		}
		_ = b.Stats()
		now = now.Add(20 * time.Millisecond)
	}
	wg.Wait()
	s := b.Stats()
	if s.Received != n {
		t.Fatalf("received %d", s.Received)
	}
}

// TestShrinksInPause: a 200 ms stall (the buffer resumes after it, since
// concealment is allowed to last that long) inflates the delay; a pause in
// the talker's audio soon after it (no sequence gap) takes the rest of the
// excess away, so fewer frames are dropped than without the pause.
func TestShrinksInPause(t *testing.T) {
	run := func(pause bool) (before, after time.Duration, dropped uint64) {
		link := netsim.NewLink(netsim.Config{Seed: 1, Delay: netsim.Spike{Base: netsim.Constant{D: 3 * time.Millisecond},
			At: 3 * time.Second, Height: 200 * time.Millisecond}})
		tr := netsim.Generate(netsim.Talker{Length: 6 * time.Second}, link)
		if pause {
			// Cut packets sent in [3.22 s, 4 s) and renumber: a DTX-like pause.
			var sent []netsim.Sent
			var arr []netsim.Arrival
			keep := map[int]int{}
			for i, s := range tr.Sent {
				if s.Send >= 3220*time.Millisecond && s.Send < 4*time.Second {
					continue
				}
				s.Seq = uint16(len(sent))
				keep[i] = len(sent)
				sent = append(sent, s)
			}
			for _, a := range tr.Arrivals {
				if k, ok := keep[a.Index]; ok {
					a.Index = k
					arr = append(arr, a)
				}
			}
			tr.Sent, tr.Arrivals = sent, arr
		}
		r := simulate(t, tr, jitter.New(jitter.WithMaxConceal(300*time.Millisecond)), 480, 0, nil)
		checkOrder(t, r)
		if r.stats.Resumed == 0 {
			t.Fatalf("pause=%v: the buffer did not resume after the stall: %+v", pause, r.stats)
		}
		delay := func(from, to time.Duration) (maxd time.Duration) {
			for i, at := range r.playAt {
				if s := tr.Sent[i].Send; s >= from && s < to {
					maxd = max(maxd, at-s)
				}
			}
			return maxd
		}
		return delay(2*time.Second, 3*time.Second), delay(4*time.Second, 6*time.Second), r.stats.Dropped
	}
	before, after, withPause := run(true)
	if after > before+20*time.Millisecond {
		t.Errorf("delay %v after the pause, %v before the stall", after, before)
	}
	_, _, noPause := run(false)
	if withPause >= noPause {
		t.Errorf("dropped %d frames with a pause after the stall, %d without", withPause, noPause)
	}
}

// TestStallShrinksSmoothly: after a stall shorter than the ceiling, either
// the buffer resumes from the stuck packets (the stall was short enough to
// conceal) and then sheds the extra delay smoothly — never two dropped
// frames close together, the "drop every other frame" of a naive buffer —
// or (the stall outlasted concealment) it leaves the stuck packets as late
// and carries on at its old delay at once.
func TestStallShrinksSmoothly(t *testing.T) {
	for _, c := range []struct {
		name       string
		maxConceal time.Duration
		resume     bool
	}{
		{"stall within concealment", 400 * time.Millisecond, true},
		{"stall beyond concealment", 100 * time.Millisecond, false},
	} {
		link := netsim.NewLink(netsim.Config{Seed: 1, Delay: netsim.Spike{Base: netsim.Constant{D: 3 * time.Millisecond},
			At: 3 * time.Second, Height: 300 * time.Millisecond}})
		tr := netsim.Generate(netsim.Talker{Length: 8 * time.Second}, link)
		r := simulate(t, tr, jitter.New(jitter.WithMaxConceal(c.maxConceal)), 480, 0, nil)
		checkOrder(t, r)
		accountFor(t, tr, r)
		if got := r.stats.Resumed > 0; got != c.resume {
			t.Errorf("%s: resumed %d times, want resume=%v", c.name, r.stats.Resumed, c.resume)
		}
		// Frames not played after the stall, by sent index: late or dropped.
		var skipped []int
		for k := 1; k < len(r.order); k++ {
			for i := r.order[k-1] + 1; i < r.order[k]; i++ {
				if tr.Sent[i].Send > 3*time.Second {
					skipped = append(skipped, i)
				}
			}
		}
		if c.resume {
			if len(skipped) == 0 {
				t.Errorf("%s: nothing dropped to shed 300 ms of delay", c.name)
			}
			for k := 1; k < len(skipped); k++ {
				if skipped[k]-skipped[k-1] < 4 {
					t.Errorf("%s: frames %d and %d both dropped (at most one in 4)", c.name, skipped[k-1], skipped[k])
				}
			}
		} else if r.stats.Dropped > 1 || r.stats.Late < 14 || r.stats.Late > 16 {
			t.Errorf("%s: late %d dropped %d, want the 15 stuck frames late and nothing dropped", c.name, r.stats.Late, r.stats.Dropped)
		}
		delay := func(from, to time.Duration) (maxd time.Duration) {
			for i, at := range r.playAt {
				if s := tr.Sent[i].Send; s >= from && s < to {
					maxd = max(maxd, at-s)
				}
			}
			return maxd
		}
		before := delay(2*time.Second, 3*time.Second)
		back := 5300 * time.Millisecond // within 2 s after the stall
		if !c.resume {
			back = 3350 * time.Millisecond // at once
		}
		if after := delay(back, 8*time.Second); after > before+20*time.Millisecond {
			t.Errorf("%s: delay %v from %v on, %v before the stall", c.name, after, back, before)
		}
	}
}

// TestBurstReleasedOutOfOrder: packet 50 is held back far beyond its
// deadline and 51 a little (it arrives after 52 but before its own
// deadline). Only 50 may be lost: 51 must not be given up for FEC data just
// because a later packet is already at hand.
func TestBurstReleasedOutOfOrder(t *testing.T) {
	tr := netsim.Generate(netsim.Talker{Length: 2 * time.Second},
		netsim.NewLink(netsim.Config{Seed: 1, Delay: netsim.Constant{D: 5 * time.Millisecond}}))
	for k := range tr.Arrivals {
		switch tr.Arrivals[k].Index {
		case 50:
			tr.Arrivals[k].Arrive += 300 * time.Millisecond
		case 51:
			tr.Arrivals[k].Arrive += 30 * time.Millisecond
		}
	}
	sortArrivals(tr)
	r := simulate(t, tr, jitter.New(jitter.WithMinDelay(60*time.Millisecond)), 480, 0, nil)
	checkOrder(t, r)
	if r.played[51] != 1 || r.played[50] != 0 || r.stats.Late != 1 {
		t.Fatalf("played #50 %d times, #51 %d times, late %d; want 0, 1, 1", r.played[50], r.played[51], r.stats.Late)
	}
}

// TestBacklogNotLearned: packets that a stalled receiver read late from its
// backlog play as usual (its catch-up ticks come after the burst), but
// their late arrival stamps are not taken for network jitter.
func TestBacklogNotLearned(t *testing.T) {
	run := func(backlog bool) jitter.Stats {
		b := jitter.New()
		push := func(i int, at time.Time, bl bool) {
			b.Push(jitter.Packet{Seq: uint16(i), Timestamp: uint32(i * 960), Duration: 960, Start: i == 0,
				Payload: []byte{1}, Arrival: at, Backlog: bl})
		}
		// 200 frames: the burst's 3 late stamps are 1.5 % of the
		// history, above the quantile's tail, so unmarked they raise
		// the target.
		for i := 0; i < 200; i++ {
			// Frame i is complete at (i+1)×20 ms and arrives 2 ms later,
			// but the receiver stalls from frame 100 to 103 and then
			// reads the backlog in one burst, before its ticks for that
			// time.
			at := t0.Add(time.Duration(i+1)*20*time.Millisecond + 2*time.Millisecond)
			switch {
			case i >= 100 && i < 103:
				continue
			case i == 103:
				for k := 100; k <= 103; k++ {
					push(k, at, backlog && k < 103)
				}
			default:
				push(i, at, false)
			}
			if i >= 100 && i < 103 {
				continue
			}
			tick := t0.Add(time.Duration(i+1) * 20 * time.Millisecond)
			if i == 103 {
				tick = t0.Add(101 * 20 * time.Millisecond) // catch up from the stall
			}
			for ; !tick.After(t0.Add(time.Duration(i+1)*20*time.Millisecond + 3*time.Millisecond)); tick = tick.Add(20 * time.Millisecond) {
				b.Next(tick, 960)
			}
		}
		return b.Stats()
	}
	learned, notLearned := run(false), run(true)
	t.Logf("backlog unmarked: %+v", learned)
	t.Logf("backlog marked: %+v", notLearned)
	if n := notLearned.Played + notLearned.Dropped + uint64(notLearned.BufferedPackets); n != 200 || notLearned.ConcealedSamples != 0 || notLearned.Late != 0 {
		t.Errorf("marked backlog: played, dropped or still queued %d of 200, concealed %d samples, %d late", n, notLearned.ConcealedSamples, notLearned.Late)
	}
	if notLearned.TargetDelay > 25*time.Millisecond {
		t.Errorf("target %v after a marked backlog, want about one frame", notLearned.TargetDelay)
	}
	if learned.TargetDelay <= notLearned.TargetDelay {
		t.Errorf("the unmarked burst should look like jitter: target %v, marked %v", learned.TargetDelay, notLearned.TargetDelay)
	}
}

// TestPauseHintsShrinkOnlyInPauses: a buffer far above target (it started
// at a generous initial delay on a steady network) drops frames to come
// down. With pause hints it does so only while the talker is quiet; with
// no pause for WithPauseWait it falls back to dropping mid-speech.
func TestPauseHintsShrinkOnlyInPauses(t *testing.T) {
	type result struct{ loudDrops, quietDrops, dropped uint64 }
	run := func(hints bool, quiet func(i int) bool, opts ...jitter.Option) result {
		b := jitter.New(append([]jitter.Option{jitter.WithInitialDelay(200 * time.Millisecond)}, opts...)...)
		var r result
		next := 0
		for i := 0; i < 500; i++ {
			at := t0.Add(time.Duration(i+1)*20*time.Millisecond + 2*time.Millisecond)
			b.Push(jitter.Packet{Seq: uint16(i), Timestamp: uint32(i * 960), Duration: 960, Start: i == 0, Payload: []byte{1}, Arrival: at})
			before := b.Stats().Dropped
			d, _ := b.Next(at.Add(time.Millisecond), 960)
			if n := b.Stats().Dropped - before; n > 0 {
				// The drop happened while the audio last played was
				// quiet or loud.
				if next > 0 && quiet(next-1) {
					r.quietDrops += n
				} else if next > 0 {
					r.loudDrops += n
				}
			}
			if d.Action == jitter.Play {
				next = int(d.Packet.Seq) + 1
				if hints {
					b.SetQuiet(quiet(int(d.Packet.Seq)))
				}
			}
		}
		r.dropped = b.Stats().Dropped
		return r
	}
	// Speech: 1.2 s of words, 0.4 s pauses.
	speech := func(i int) bool { return i%80 >= 60 }
	plain := run(false, speech)
	hinted := run(true, speech)
	never := run(true, func(int) bool { return false }, jitter.WithPauseWait(time.Second))
	t.Logf("no hints %+v; hints %+v; hints but no pause %+v", plain, hinted, never)
	if plain.loudDrops == 0 {
		t.Fatalf("without hints the buffer should shrink mid-speech too: %+v", plain)
	}
	if hinted.loudDrops != 0 || hinted.quietDrops < 5 {
		t.Errorf("with hints: %d drops mid-speech (want 0), %d in pauses (want the excess gone, at least 5)", hinted.loudDrops, hinted.quietDrops)
	}
	if never.dropped == 0 {
		t.Errorf("with no pause for longer than WithPauseWait the buffer must fall back to shrinking mid-speech")
	}
}

// TestPauseHintsNoResumeMidSpeech: with hints, a packet that comes after
// its slot was concealed is dropped as late rather than resumed from, so
// the rest of the speech keeps its timing.
func TestPauseHintsNoResumeMidSpeech(t *testing.T) {
	run := func(hints bool) jitter.Stats {
		b := jitter.New(jitter.WithPauseWait(10 * time.Second))
		arrive := func(i int) time.Time {
			at := t0.Add(time.Duration(i+1)*20*time.Millisecond + 2*time.Millisecond)
			if i >= 150 && i < 153 {
				// A 60 ms stall on the way: three packets come
				// together, the first 60 ms late.
				at = t0.Add(153*20*time.Millisecond + 2*time.Millisecond)
			}
			return at
		}
		for k := 0; k < 320; k++ {
			tick := t0.Add(time.Duration(k+1)*20*time.Millisecond + 3*time.Millisecond)
			for i := 0; i < 300; i++ {
				if a := arrive(i); !a.After(tick) && a.After(tick.Add(-20*time.Millisecond)) {
					b.Push(jitter.Packet{Seq: uint16(i), Timestamp: uint32(i * 960), Duration: 960, Start: i == 0, Payload: []byte{1}, Arrival: a})
				}
			}
			d, _ := b.Next(tick, 960)
			if d.Action == jitter.Play && hints {
				b.SetQuiet(false)
			}
		}
		return b.Stats()
	}
	plain, hinted := run(false), run(true)
	t.Logf("no hints: %+v", plain)
	t.Logf("hints, all speech: %+v", hinted)
	if plain.Resumed == 0 {
		t.Fatalf("without hints the buffer should resume from the late packet: %+v", plain)
	}
	if hinted.Resumed != 0 || hinted.Late == 0 || hinted.Stretched != 0 || hinted.SkippedSamples != 0 || hinted.Dropped != 0 {
		t.Errorf("with hints mid-speech: resumed %d (want 0), late %d (want >0), stretched %d, skipped %d samples, dropped %d (want 0)",
			hinted.Resumed, hinted.Late, hinted.Stretched, hinted.SkippedSamples, hinted.Dropped)
	}
}

// TestPartialSkipSettlesNearTarget: 20 ms packets played on 10 ms ticks,
// speech with pauses, starting 200 ms above target. Dropping only whole
// packets leaves the delay anywhere up to a packet above target; with
// WithPartialSkip (the consumer drops Decision.Skip samples of a quiet
// packet) it settles within a few milliseconds of it, and never by
// skipping speech.
func TestPartialSkipSettlesNearTarget(t *testing.T) {
	speech := func(i int) bool { return i%80 < 60 } // 1.2 s of words, 0.4 s pauses
	run := func(phase time.Duration, opts ...jitter.Option) (excess time.Duration, loudSkips int, st jitter.Stats) {
		b := jitter.New(append([]jitter.Option{jitter.WithInitialDelay(200 * time.Millisecond)}, opts...)...)
		have, pushed := 0, 0
		var sum time.Duration
		var n int
		for k := 0; k < 1500; k++ { // 15 s of 10 ms ticks
			now := t0.Add(time.Duration(k)*10*time.Millisecond + phase)
			pushed = pushSteady(b, pushed, now)
			for have < 480 {
				d, _ := b.Next(now, 480-have)
				if d.Action == jitter.Play {
					if d.Skip > 0 && speech(int(d.Packet.Seq)) && speech(int(d.Packet.Seq)-1) {
						loudSkips++
					}
					b.SetQuiet(!speech(int(d.Packet.Seq)))
				}
				have += d.Samples
			}
			have -= 480
			if k >= 1000 { // the last 5 s
				s := b.Stats()
				sum += s.CurrentDelay - s.TargetDelay
				n++
			}
		}
		return sum / time.Duration(n), loudSkips, b.Stats()
	}
	var worstOff time.Duration
	var skipped uint64
	for _, phase := range []time.Duration{0, 3 * time.Millisecond, 7 * time.Millisecond} {
		off, _, _ := run(phase)
		on, loud, st := run(phase, jitter.WithPartialSkip(true))
		t.Logf("phase %v: mean delay above target %v with whole drops only, %v with partial skips (%d samples skipped)",
			phase, off, on, st.SkippedSamples)
		worstOff = max(worstOff, off)
		// Within the margin left alone (5 ms) plus one 2.5 ms step.
		if on > 7500*time.Microsecond || on < -time.Millisecond {
			t.Errorf("phase %v: with partial skips the delay is %v above target, want 0–7.5 ms", phase, on)
		}
		if loud != 0 {
			t.Errorf("phase %v: %d skips inside speech", phase, loud)
		}
		skipped += st.SkippedSamples
		if st.Late != 0 || st.Concealed != 0 {
			t.Errorf("phase %v: %d late, %d concealed: a skip made the next packet due before it came", phase, st.Late, st.Concealed)
		}
	}
	if skipped == 0 {
		t.Error("nothing was skipped at any phase")
	}
	if worstOff <= 10*time.Millisecond {
		t.Errorf("whole drops alone got within %v of target at every phase: the test no longer shows the difference", worstOff)
	}
}

// TestConsumerAheadRecovers: with pause hints, the consumer's clock jumps
// 30 ms ahead of the arrivals (a sound card catching up after a stall).
// The buffer must wait for the next packet rather than conceal past it:
// concealing past it makes it late, and the one after, for as long as the
// consumer stays ahead, which with hints (no resuming from late packets)
// was for good.
func TestConsumerAheadRecovers(t *testing.T) {
	b := jitter.New()
	have, pushed := 0, 0
	var late0 uint64
	for k := 0; k < 1000; k++ { // 10 s of 10 ms ticks
		now := t0.Add(time.Duration(k) * 10 * time.Millisecond)
		pushed = pushSteady(b, pushed, now)
		if k == 300 {
			// The consumer runs 30 ms ahead from here on: it asks for
			// three extra ticks of audio at once.
			late0 = b.Stats().Late
			have -= 3 * 480
		}
		for have < 480 {
			d, _ := b.Next(now, 480-have)
			if d.Action == jitter.Play {
				b.SetQuiet(true)
			}
			have += d.Samples
		}
		have -= 480
	}
	st := b.Stats()
	t.Logf("%+v", st)
	if late := st.Late - late0; late > 3 {
		t.Errorf("%d packets late after the consumer jumped ahead, want at most the 3 it skipped over", late)
	}
}

// pushSteady pushes the packets of a steady 20 ms talker (each arriving 2 ms
// after its last sample) from number pushed on that have arrived by now,
// and returns the next number.
func pushSteady(b *jitter.Buffer, pushed int, now time.Time) int {
	for ; ; pushed++ {
		at := t0.Add(time.Duration(pushed+1)*20*time.Millisecond + 2*time.Millisecond)
		if at.After(now) {
			return pushed
		}
		b.Push(jitter.Packet{Seq: uint16(pushed), Timestamp: uint32(pushed * 960), Duration: 960,
			Start: pushed == 0, Payload: []byte{1}, Arrival: at})
	}
}
