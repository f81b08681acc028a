package jitter_test

import (
	"errors"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/netsim"
	"github.com/hark-intercom/hark/jitter"
)

var t0 = time.Unix(1_700_000_000, 0)

type key struct {
	seq uint16
	ts  uint32
}

type simResult struct {
	decisions []jitter.Decision
	times     []time.Duration // tick time of each decision (since t0)
	played    map[int]int     // sent index -> times played
	playAt    map[int]time.Duration
	order     []int // sent indices in play order
	stats     jitter.Stats
	errs      map[error]int
}

// simulate drives b with tr on a fake clock: the consumer ticks every tick
// samples (starting at phase), pushing every arrival due by then and asking
// Next for audio until it has a tick's worth.
func simulate(t testing.TB, tr *netsim.Trace, b *jitter.Buffer, tick int, phase time.Duration, payload func(i int) []byte) simResult {
	t.Helper()
	return simulateObserved(t, tr, b, tick, phase, payload, nil)
}

// simulateObserved is simulate calling observe (if not nil) after every
// tick with its time.
func simulateObserved(t testing.TB, tr *netsim.Trace, b *jitter.Buffer, tick int, phase time.Duration, payload func(i int) []byte,
	observe func(now time.Duration)) simResult {
	t.Helper()
	idx := make(map[key]int, len(tr.Sent))
	for i, s := range tr.Sent {
		idx[key{s.Seq, s.Timestamp}] = i
	}
	res := simResult{played: map[int]int{}, playAt: map[int]time.Duration{}, errs: map[error]int{}}
	tickDur := time.Duration(tick) * time.Second / time.Duration(tr.ClockRate)
	var last time.Duration
	if n := len(tr.Arrivals); n > 0 {
		last = tr.Arrivals[n-1].Arrive
	}
	end := last + 3*time.Second
	ai := 0
	fifo := 0
	for now := phase; now < end; now += tickDur {
		for ; ai < len(tr.Arrivals) && tr.Arrivals[ai].Arrive <= now; ai++ {
			a := tr.Arrivals[ai]
			s := tr.Sent[a.Index]
			p := []byte{1, 2, 3}
			if payload != nil {
				p = payload(a.Index)
			}
			b.Push(jitter.Packet{Seq: s.Seq, Timestamp: s.Timestamp, Duration: s.Duration,
				Start: s.Start, End: s.End, Payload: p, Arrival: t0.Add(a.Arrive)})
		}
		for fifo < tick {
			d, err := b.Next(t0.Add(now), tick-fifo)
			if err != nil {
				res.errs[err]++
			}
			if d.Samples <= 0 {
				t.Fatalf("decision with %d samples: %+v", d.Samples, d)
			}
			res.decisions = append(res.decisions, d)
			res.times = append(res.times, now)
			fifo += d.Samples
			if d.Action == jitter.Play {
				i, ok := idx[key{d.Packet.Seq, d.Packet.Timestamp}]
				if !ok {
					t.Fatalf("played a packet that was never sent: %+v", d.Packet)
				}
				res.played[i]++
				res.playAt[i] = now
				res.order = append(res.order, i)
			}
		}
		fifo -= tick
		if observe != nil {
			observe(now)
		}
	}
	res.stats = b.Stats()
	return res
}

// checkOrder fails if a packet played twice or out of order.
func checkOrder(t *testing.T, r simResult) {
	t.Helper()
	for i, n := range r.played {
		if n > 1 {
			t.Errorf("packet %d played %d times", i, n)
		}
	}
	for k := 1; k < len(r.order); k++ {
		if r.order[k] <= r.order[k-1] {
			t.Errorf("packet %d played after packet %d", r.order[k], r.order[k-1])
			return
		}
	}
}

func count(r simResult, a jitter.Action) int {
	n := 0
	for _, d := range r.decisions {
		if d.Action == a {
			n++
		}
	}
	return n
}

func TestCleanNetworkPlaysEverythingInOrder(t *testing.T) {
	tr := netsim.Generate(netsim.Talker{Length: 5 * time.Second},
		netsim.NewLink(netsim.Config{Seed: 1, Delay: netsim.Constant{D: 5 * time.Millisecond}}))
	b := jitter.New()
	r := simulate(t, tr, b, 960, 3*time.Millisecond, nil)
	checkOrder(t, r)
	// Starting at the initial delay and shrinking to the learned target may
	// cost one dropped frame; nothing else may be lost.
	if len(r.played)+int(r.stats.Dropped) != len(tr.Sent) || r.stats.Dropped > 1 {
		t.Fatalf("played %d of %d packets, dropped %d", len(r.played), len(tr.Sent), r.stats.Dropped)
	}
	if c := count(r, jitter.Conceal) + count(r, jitter.FEC); c != 0 {
		t.Errorf("%d concealments on a clean network", c)
	}
	s := r.stats
	if s.Played != uint64(len(r.played)) || s.Late != 0 || s.Duplicate != 0 || s.Transmissions != 1 {
		t.Errorf("stats %+v", s)
	}
	if s.State != jitter.Idle || b.State().String() != "idle" {
		t.Errorf("state after the end = %v, want idle", s.State)
	}
	if r.errs[jitter.ErrEmpty] == 0 || r.errs[jitter.ErrNotStarted] == 0 {
		t.Errorf("expected ErrNotStarted before and ErrEmpty after the transmission, got %v", r.errs)
	}
}

func TestPushToTalkStartAndDrain(t *testing.T) {
	// Two transmissions of 1 s with a 1 s pause, 10 ms jitter.
	tr := netsim.Generate(netsim.Talker{Length: 3 * time.Second, TalkSpurt: time.Second, Pause: time.Second},
		netsim.NewLink(netsim.Config{Seed: 2, Delay: netsim.Uniform{Min: 5 * time.Millisecond, Max: 15 * time.Millisecond}}))
	initial := 30 * time.Millisecond
	b := jitter.New(jitter.WithInitialDelay(initial))
	r := simulate(t, tr, b, 480, 0, nil)
	checkOrder(t, r)
	if r.stats.Transmissions != 2 {
		t.Fatalf("transmissions = %d, want 2", r.stats.Transmissions)
	}
	// The first packet plays after the initial delay (plus at most a tick),
	// not after a warm-up of many packets.
	first := tr.Arrivals[0]
	wait := r.playAt[first.Index] - first.Arrive
	if wait < initial-time.Millisecond || wait > initial+15*time.Millisecond {
		t.Errorf("first packet waited %v, want about %v", wait, initial)
	}
	// After each End, the buffer goes silent without concealing.
	for k, d := range r.decisions {
		if d.Action == jitter.Play && d.Packet.End {
			for _, n := range r.decisions[k+1:] {
				if n.Action == jitter.Play {
					break
				}
				if n.Action != jitter.Silence {
					t.Fatalf("after the end of a transmission got %v, want silence", n.Action)
				}
			}
		}
	}
	if c := count(r, jitter.Conceal); c != 0 {
		t.Errorf("%d concealments", c)
	}
}

func TestLossConcealedOrRecoveredWithFEC(t *testing.T) {
	for _, fec := range []bool{true, false} {
		tr := netsim.Generate(netsim.Talker{Length: 10 * time.Second},
			netsim.NewLink(netsim.Config{Seed: 3, Delay: netsim.Constant{D: 10 * time.Millisecond}, Loss: netsim.Bernoulli{P: 0.05}}))
		lost := len(tr.Sent) - len(tr.Arrivals)
		if lost < 10 {
			t.Fatalf("only %d lost", lost)
		}
		// A floor of two frames keeps the next packet at hand for FEC.
		b := jitter.New(jitter.WithFEC(fec), jitter.WithMinDelay(40*time.Millisecond))
		r := simulate(t, tr, b, 960, time.Millisecond, nil)
		checkOrder(t, r)
		var covered int
		for _, d := range r.decisions {
			if d.Action == jitter.Conceal || d.Action == jitter.FEC {
				covered += d.Samples
			}
		}
		if covered != lost*960 {
			t.Errorf("fec=%v: %d samples concealed or recovered, want %d (%d lost packets)", fec, covered, lost*960, lost)
		}
		nfec := count(r, jitter.FEC)
		if fec && nfec == 0 || !fec && nfec != 0 {
			t.Errorf("fec=%v: %d FEC decisions", fec, nfec)
		}
		if r.stats.Late != 0 {
			t.Errorf("fec=%v: %d late", fec, r.stats.Late)
		}
		// A FEC decision is followed by the same packet played.
		for k, d := range r.decisions {
			if d.Action == jitter.FEC {
				if k+1 >= len(r.decisions) || r.decisions[k+1].Action != jitter.Play || r.decisions[k+1].Packet.Seq != d.Packet.Seq {
					t.Fatalf("FEC decision not followed by playing its packet")
				}
			}
		}
	}
}

func TestReorderingAndDuplicates(t *testing.T) {
	tr := netsim.Generate(netsim.Talker{Length: 10 * time.Second},
		netsim.NewLink(netsim.Config{Seed: 4, Delay: netsim.Constant{D: 10 * time.Millisecond},
			ReorderProb: 0.05, ReorderDelay: 30 * time.Millisecond,
			DuplicateProb: 0.05, DuplicateSpread: 50 * time.Millisecond}))
	dups := 0
	for _, a := range tr.Arrivals {
		if a.Copy {
			dups++
		}
	}
	b := jitter.New()
	r := simulate(t, tr, b, 960, 0, nil)
	checkOrder(t, r)
	if r.stats.Duplicate+r.stats.Late < uint64(dups)-uint64(r.stats.Late) || r.stats.Duplicate == 0 {
		t.Errorf("duplicates: stats %d, sent %d", r.stats.Duplicate, dups)
	}
	missing := len(tr.Sent) - len(r.played)
	if float64(missing) > 0.01*float64(len(tr.Sent)) {
		t.Errorf("%d of %d packets not played (late %d, dropped %d)", missing, len(tr.Sent), r.stats.Late, r.stats.Dropped)
	}
}

func TestSequenceAndTimestampWrap(t *testing.T) {
	tr := netsim.Generate(netsim.Talker{Length: 4 * time.Second, StartSeq: 65500, StartTimestamp: 1<<32 - 960*30},
		netsim.NewLink(netsim.Config{Seed: 5, Delay: netsim.Uniform{Min: 5 * time.Millisecond, Max: 25 * time.Millisecond}, Loss: netsim.Bernoulli{P: 0.02}}))
	b := jitter.New()
	r := simulate(t, tr, b, 960, 0, nil)
	checkOrder(t, r)
	if r.stats.Transmissions != 1 || r.stats.Invalid != 0 {
		t.Fatalf("stats %+v", r.stats)
	}
	if got, want := len(r.played), len(tr.Arrivals); got < want-2 {
		t.Errorf("played %d of %d arrived packets across the wrap", got, want)
	}
}

func TestMixed60And20msFrames(t *testing.T) {
	tr := netsim.Generate(netsim.Talker{Length: 6 * time.Second, Frames: []int{2880, 960, 960, 960, 2880, 480, 480}},
		netsim.NewLink(netsim.Config{Seed: 6, Delay: netsim.Uniform{Min: 5 * time.Millisecond, Max: 30 * time.Millisecond}, Loss: netsim.Bernoulli{P: 0.03}}))
	for _, known := range []bool{true, false} {
		var opts []jitter.Option
		trc := *tr
		if !known {
			// Durations unknown: the buffer asks the payload (here the
			// payload's first two bytes carry the duration).
			trc.Sent = append([]netsim.Sent(nil), tr.Sent...)
			for i := range trc.Sent {
				trc.Sent[i].Duration = 0
			}
			opts = append(opts, jitter.WithDurationFunc(func(p []byte) (int, error) {
				return int(p[0]) | int(p[1])<<8, nil
			}))
		}
		b := jitter.New(opts...)
		r := simulate(t, &trc, b, 960, 7*time.Millisecond, func(i int) []byte {
			d := tr.Sent[i].Duration
			return []byte{byte(d), byte(d >> 8)}
		})
		checkOrder(t, r)
		for k, d := range r.decisions {
			if d.Action == jitter.Play {
				want := tr.Sent[indexOf(tr, d.Packet)].Duration
				if uint32(d.Samples) != want {
					t.Fatalf("decision %d: play %d samples, packet is %d", k, d.Samples, want)
				}
			}
		}
		accountFor(t, tr, r)
	}
}

func indexOf(tr *netsim.Trace, p jitter.Packet) int {
	for i, s := range tr.Sent {
		if s.Seq == p.Seq && s.Timestamp == p.Timestamp {
			return i
		}
	}
	return -1
}

func TestBadInputCounted(t *testing.T) {
	b := jitter.New()
	b.Push(jitter.Packet{Seq: 1, Payload: nil, Arrival: t0})
	if s := b.Stats(); s.Invalid != 1 || s.State != jitter.Idle {
		t.Fatalf("stats %+v", s)
	}
	if _, err := b.Next(t0, 0); !errors.Is(err, jitter.ErrBadRequest) {
		t.Fatalf("Next(0) err = %v", err)
	}
	d, err := b.Next(t0, 480)
	if !errors.Is(err, jitter.ErrEmpty) || d.Action != jitter.Silence || d.Samples != 480 {
		t.Fatalf("idle Next = %+v, %v", d, err)
	}
}

// accountFor checks that every sent packet was played, counted as late or
// dropped, or lost in the network, and that the played audio is contiguous
// (each decision continues where the previous one ended, except when the
// buffer resumes, skips a pause or starts a transmission).
func accountFor(t *testing.T, tr *netsim.Trace, r simResult) {
	t.Helper()
	arrived := map[int]bool{}
	for _, a := range tr.Arrivals {
		arrived[a.Index] = true
	}
	neverArrived := len(tr.Sent) - len(arrived)
	s := r.stats
	if got := len(r.played) + int(s.Late) + int(s.Dropped) + neverArrived; got != len(tr.Sent) {
		t.Errorf("played %d + late %d + dropped %d + lost %d = %d, sent %d", len(r.played), s.Late, s.Dropped, neverArrived, got, len(tr.Sent))
	}
}
