package jitter_test

import (
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/netsim"
	"github.com/hark-intercom/hark/jitter"
)

// kindRun plays seed 1 of a netsim.Kind through b, recording the target
// after every 10 ms tick.
func kindRun(t *testing.T, name string, b *jitter.Buffer) (*netsim.Trace, simResult, []time.Duration) {
	t.Helper()
	k, err := netsim.KindByName(name)
	if err != nil {
		t.Fatal(err)
	}
	tr := k.Trace(1)
	var targets []time.Duration
	r := simulateObserved(t, tr, b, 480, 0, nil, func(time.Duration) { targets = append(targets, b.Stats().TargetDelay) })
	checkOrder(t, r)
	return tr, r, targets
}

// TestTargetPerPacketDuration: a talker switching between 60 ms packets
// (5 s) and 20 ms ones (5 s). The jitter is the same throughout, so the
// target for a 20 ms packet is 40 ms below that for a 60 ms one (it was
// the same: the history held each packet's duration plus its jitter, so
// 20 ms packets were played as late as 60 ms ones).
func TestTargetPerPacketDuration(t *testing.T) {
	_, r, targets := kindRun(t, "mixed-frames", jitter.New())
	// 60 ms packets in [10 s, 15 s), 20 ms ones in [15 s, 20 s); the target
	// follows the packet played, a network delay (~30 ms) later.
	t60 := maxTarget(targets, 11*time.Second, 15*time.Second)
	t20 := maxTarget(targets, 16*time.Second, 20*time.Second)
	t.Logf("target with 60 ms packets %v, with 20 ms packets %v; late %d, dropped %d", t60, t20, r.stats.Late, r.stats.Dropped)
	if t60-t20 < 35*time.Millisecond {
		t.Errorf("target %v for 20 ms packets, %v for 60 ms ones: want 40 ms less", t20, t60)
	}
}

// TestBufferbloatRamp: the delay ramps up by 40 ms/s to 350 ms and
// collapses, every 13.75 s. The ramp's lag behind the baseline is not
// learned as jitter: between ramps the target is back where the calm
// network puts it (it stayed 16 ms higher, for the 20 s memory of the
// histogram, before the baseline extrapolated ramps).
func TestBufferbloatRamp(t *testing.T) {
	_, r, targets := kindRun(t, "bufferbloat", jitter.New())
	calm := maxTarget(targets, 2*time.Second, 5*time.Second)
	after := maxTarget(targets, 16*time.Second, 18800*time.Millisecond)
	t.Logf("target %v in the first calm stretch, %v in the second; late %d, dropped %d", calm, after, r.stats.Late, r.stats.Dropped)
	if after > calm+5*time.Millisecond {
		t.Errorf("target %v between ramps, %v before the first: the ramp was learned as jitter", after, calm)
	}
}

// TestTimeStretchFollowsDriftAndCollapse: with WithTimeStretch the buffer
// follows a sender clock 0.3 % fast, a bufferbloat collapse and a switch
// from 60 to 20 ms packets by asking the consumer to shorten audio,
// without dropping a frame (here the consumer does exactly what is
// asked). At a collapse the packets still queued on the old path when the
// first fast one arrives are played, not convicted of being late by the
// baseline it pulled down 330 ms (7 were, before the buffer told them
// apart).
func TestTimeStretchFollowsDriftAndCollapse(t *testing.T) {
	for _, name := range []string{"drift", "bufferbloat", "mixed-frames"} {
		k, _ := netsim.KindByName(name)
		tr := k.Trace(1)
		b := jitter.New(jitter.WithTimeStretch(true))
		r := simulateStretch(t, tr, b)
		s := r.stats
		concealed := float64(s.ConcealedSamples) / float64(tr.SentSamples())
		t.Logf("%s: late %d, dropped %d, %d stretch requests totalling %d samples, mean delay %v, target %v, %.2f%% concealed",
			name, s.Late, s.Dropped, s.TimeStretched, s.TimeStretchSamples, s.MeanDelay, s.TargetDelay, 100*concealed)
		if concealed > 0.01 {
			// On a ramp the buffer stretches ahead of the falling delay
			// (3.2 % concealed, a late packet resumed from every 0.3 s,
			// when it stretched only after it).
			t.Errorf("%s: %.2f%% of the audio concealed", name, 100*concealed)
		}
		if s.Dropped != 0 || s.Late > 3 {
			t.Errorf("%s: %d dropped, %d late", name, s.Dropped, s.Late)
		}
		if s.TimeStretchSamples >= 0 {
			t.Errorf("%s: stretch requests sum to %d samples, want shortening", name, s.TimeStretchSamples)
		}
		if s.MeanDelay > s.TargetDelay+15*time.Millisecond && name == "drift" {
			t.Errorf("%s: mean delay %v, target %v", name, s.MeanDelay, s.TargetDelay)
		}
	}
}

// simulateStretch is simulate with a consumer that carries out every
// Decision.Stretch exactly.
func simulateStretch(t *testing.T, tr *netsim.Trace, b *jitter.Buffer) simResult {
	t.Helper()
	res := simResult{played: map[int]int{}, playAt: map[int]time.Duration{}}
	tickDur := 10 * time.Millisecond
	end := tr.Arrivals[len(tr.Arrivals)-1].Arrive + 3*time.Second
	ai, fifo := 0, 0
	for now := time.Duration(0); now < end; now += tickDur {
		for ; ai < len(tr.Arrivals) && tr.Arrivals[ai].Arrive <= now; ai++ {
			a := tr.Arrivals[ai]
			s := tr.Sent[a.Index]
			b.Push(jitter.Packet{Seq: s.Seq, Timestamp: s.Timestamp, Duration: s.Duration,
				Start: s.Start, End: s.End, Payload: []byte{1}, Arrival: t0.Add(a.Arrive)})
		}
		for fifo < 480 {
			d, _ := b.Next(t0.Add(now), 480-fifo)
			if d.Stretch != 0 && (d.Action != jitter.Play || -d.Stretch > d.Samples/4 || d.Stretch > d.Samples/4) {
				t.Fatalf("stretch %d on %v of %d samples", d.Stretch, d.Action, d.Samples)
			}
			fifo += d.Samples + d.Stretch
		}
		fifo -= 480
	}
	res.stats = b.Stats()
	return res
}

// TestTimeStretchResumesAfterOutage: a 450 ms handover outage releases
// what it held in a burst. With time-stretching (and no pause hints) the
// buffer resumes from the burst's last 200 ms rather than losing all of it
// (22 frames), and squeezes the delay it added back within 2 s.
func TestTimeStretchResumesAfterOutage(t *testing.T) {
	k, _ := netsim.KindByName("handover")
	tr := k.Trace(1)
	plain := simulateStretch(t, tr, jitter.New())
	r := simulateStretch(t, tr, jitter.New(jitter.WithTimeStretch(true)))
	t.Logf("late %d, resumed %d (without time-stretching: late %d, resumed %d); mean delay %v, target %v",
		r.stats.Late, r.stats.Resumed, plain.stats.Late, plain.stats.Resumed, r.stats.MeanDelay, r.stats.TargetDelay)
	if r.stats.Late+4 > plain.stats.Late {
		t.Errorf("late %d with time-stretching, %d without: the burst after the outage was not resumed from", r.stats.Late, plain.stats.Late)
	}
	if r.stats.MeanDelay > plain.stats.MeanDelay+10*time.Millisecond {
		t.Errorf("mean delay %v with time-stretching, %v without: the delay added was not squeezed back", r.stats.MeanDelay, plain.stats.MeanDelay)
	}
}

// TestTimeStretchShedsSmallExcessInPauses: with pause hints, an excess
// smaller than a packet (here from a start 20 ms above what a steady
// network needs; in the field, what resuming from a late packet adds) can
// be neither dropped (a drop would take the delay below target) nor
// squeezed mid-speech (that waits for 40 ms). In a pause the buffer asks
// the consumer to squeeze it, which is free there; before, it stayed for
// the whole transmission (talk record's mouth-to-ear was 20 ms longer).
func TestTimeStretchShedsSmallExcessInPauses(t *testing.T) {
	b := jitter.New(jitter.WithTimeStretch(true), jitter.WithInitialDelay(40*time.Millisecond))
	fifo := 0
	var first, last jitter.Stats
	for tick := 0; tick < 1000; tick++ { // 10 s of 10 ms ticks
		now := t0.Add(time.Duration(tick) * 10 * time.Millisecond)
		if tick%2 == 0 {
			i := tick / 2
			b.Push(jitter.Packet{Seq: uint16(i), Timestamp: uint32(i * 960), Duration: 960, Start: i == 0,
				Payload: []byte{1}, Arrival: now.Add(20 * time.Millisecond)})
		}
		for fifo < 480 {
			d, _ := b.Next(now, 480-fifo)
			fifo += d.Samples + d.Stretch
			if d.Action == jitter.Play {
				b.SetQuiet(true) // a long pause (or a quiet talker)
			}
		}
		fifo -= 480
		if st := b.Stats(); tick < 30 && st.CurrentDelay > first.CurrentDelay {
			first = st // the largest excess in the first 0.3 s
		}
	}
	last = b.Stats()
	t.Logf("at first: delay %v, target %v; after 10 s: delay %v, target %v, %d stretch requests (%d samples), %d dropped, %d concealed",
		first.CurrentDelay, first.TargetDelay, last.CurrentDelay, last.TargetDelay, last.TimeStretched, last.TimeStretchSamples, last.Dropped, last.Concealed)
	if first.CurrentDelay < first.TargetDelay+10*time.Millisecond {
		t.Fatalf("at first the delay is %v, target %v: the test starts no excess", first.CurrentDelay, first.TargetDelay)
	}
	if last.CurrentDelay > last.TargetDelay+5*time.Millisecond {
		t.Errorf("after 10 s of pause the delay is %v, target %v: the excess was not shed", last.CurrentDelay, last.TargetDelay)
	}
}

// TestBurstySenderCovered: a browser's MediaRecorder hands over what it
// recorded every 280 ms, so the packets come in bursts whose first one
// waited 280 ms (netsim's bursty-sender). Once the buffer has seen that
// the bursts keep coming (about a second), it covers them: no packet is
// late, and the audio is concealed only while it learns. With the
// late-loss margin taken below 0 on the level it had measured, every
// burst came 15-20 ms after its slot and was concealed and resumed from,
// 8 % of the audio.
func TestBurstySenderCovered(t *testing.T) {
	k, err := netsim.KindByName("bursty-sender")
	if err != nil {
		t.Fatal(err)
	}
	tr := k.Trace(1)
	r := simulateStretch(t, tr, jitter.New(jitter.WithTimeStretch(true)))
	s := r.stats
	concealed := time.Duration(s.ConcealedSamples) * time.Second / 48000
	t.Logf("late %d, dropped %d, resumed %d, concealed %v of %v, mean delay %v, target %v",
		s.Late, s.Dropped, s.Resumed, concealed, netsim.KindLength, s.MeanDelay, s.TargetDelay)
	if s.Late+s.Dropped > 0 {
		t.Errorf("%d packets late, %d dropped: want none", s.Late, s.Dropped)
	}
	if concealed > 800*time.Millisecond {
		t.Errorf("%v of the audio concealed (learning the bursts takes the first second)", concealed)
	}
}
