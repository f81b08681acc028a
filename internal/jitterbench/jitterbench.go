// Package jitterbench compares jitter buffers on netsim traces: Hark's
// adaptive buffer (package jitter), fixed buffers of N frames, and
// pion/interceptor's packet-count jitterbuffer, all driven with the same
// arrivals on a fake clock, plus the offline oracle.
//
// Delays are measured on the audio timeline: the buffering delay of a frame
// is when its first sample is played minus when that sample would have
// arrived over the fastest path seen in the trace if it could travel alone
// (capture time + minimum transit). A packet leaves the sender only once
// its last sample is captured, so no buffer can go below one frame. The
// oracle is the smallest fixed delay of that kind that keeps the frames
// arriving after their playout time at ≤ 1% of those sent, computed
// offline (continuous time, no tick rounding).
//
// Late-loss means the same for every buffer and for the oracle: frames that
// arrived but were not played from their own packet (too late, or dropped
// to shrink the delay), in % of frames sent. A late packet whose audio
// Hark's buffer already recovered from the next packet's FEC data still
// counts as lost, so FEC earns it nothing in that column (it shows in FEC %).
package jitterbench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/hark-intercom/hark/internal/netsim"
	"github.com/hark-intercom/hark/jitter"
	"github.com/pion/interceptor/pkg/jitterbuffer"
	"github.com/pion/rtp"
)

var epoch = time.Unix(1_700_000_000, 0)

// Result is one buffer's figures on one trace.
type Result struct {
	Buffer     string
	Sent       int
	LatePct    float64 // arrived but not played (late or dropped to shrink), % of sent
	ConcealPct float64 // audio produced by concealment, % of sent audio
	FECPct     float64 // losses recovered with FEC, % of sent packets
	Mean, P95  time.Duration
	Stats      jitter.Stats  // the adaptive buffer's own counters (RunHark only)
	Recovery   time.Duration // after a spike: time until the delay is back to its level before the spike (-1 = n/a)
	// The measures of issue 12 (see Ideal): frames that arrived but were
	// not played from their own packet in % of frames received; mean delay
	// from send time to when the frame's first sample is played; the
	// longest time after a trace's Events until the delay is back (see
	// recoveryAfterEvents; -1 = no events, time.Hour = never).
	LateRecvPct  float64
	MeanSend     time.Duration
	EventRecover time.Duration
	delays       []time.Duration
	playedAt     map[int]time.Duration
}

// Trace is a named trace with the extra facts the report needs.
type Trace struct {
	Name     string
	T        *netsim.Trace
	SpikeEnd time.Duration // 0 = no spike
	// Events are the ends of outages or stalls (sender time) after which
	// the delay must come back (netsim.Kind.Events).
	Events []time.Duration
}

// KindTraces are the kinds of network of issue 12 (netsim.Kinds: its six
// and its bursty sender, 60 s of one talker each) for a seed.
func KindTraces(seed uint64) []Trace {
	var out []Trace
	for _, k := range netsim.Kinds {
		out = append(out, Trace{Name: k.Name, T: k.Trace(seed), Events: k.Events})
	}
	return out
}

// Ideal is issue 12's ideal fixed delay: the smallest fixed delay after
// send time with at most 1 % of the received frames arriving after it
// (their first copy). It is a lower bound no real buffer reaches: it
// plays each frame exactly that long after it was sent, which with a
// drifting sender clock or mixed frame sizes is not even a continuous
// stream.
func Ideal(tr *netsim.Trace) time.Duration {
	var transit []time.Duration
	for i, at := range firstArrivals(tr) {
		transit = append(transit, at-tr.Sent[i].Send)
	}
	if len(transit) == 0 {
		return 0
	}
	slices.Sort(transit)
	slices.Reverse(transit)
	return transit[len(transit)/100]
}

// StandardTraces are the four traces of issue 3 (60 s of 20 ms frames each)
// for a seed.
func StandardTraces(seed uint64) []Trace {
	var out []Trace
	for _, name := range []string{"lan", "wifi", "mobile", "spike"} {
		cfg, err := netsim.Preset(name, seed)
		if err != nil {
			panic(err)
		}
		tr := netsim.Generate(netsim.Talker{Length: 60 * time.Second}, netsim.NewLink(cfg))
		t := Trace{Name: name, T: tr}
		if name == "spike" {
			t.SpikeEnd = 10*time.Second + 300*time.Millisecond
		}
		out = append(out, t)
	}
	return out
}

// ExtraTraces are two more conditions: push-to-talk on Wi-Fi (3 s talk,
// 1 s pause) and Wi-Fi with 60 ms packets (a browser's MediaRecorder).
func ExtraTraces(seed uint64) []Trace {
	wifi := func() netsim.Config { c, _ := netsim.Preset("wifi", seed); return c }
	return []Trace{
		{Name: "wifi, push-to-talk 3 s/1 s", T: netsim.Generate(netsim.Talker{Length: 60 * time.Second, TalkSpurt: 3 * time.Second, Pause: time.Second}, netsim.NewLink(wifi()))},
		{Name: "wifi, 60 ms packets", T: netsim.Generate(netsim.Talker{Length: 60 * time.Second, Frames: []int{2880}}, netsim.NewLink(wifi()))},
	}
}

// captureBase returns, per sent index, when its first sample would arrive
// at the minimum transit.
func captureBase(tr *netsim.Trace) []time.Duration {
	mt := tr.MinTransit()
	base := make([]time.Duration, len(tr.Sent))
	for i, s := range tr.Sent {
		base[i] = s.Send - time.Duration(s.Duration)*time.Second/time.Duration(tr.ClockRate) + mt
	}
	return base
}

// firstArrivals maps sent index -> first arrival time.
func firstArrivals(tr *netsim.Trace) map[int]time.Duration {
	m := make(map[int]time.Duration, len(tr.Sent))
	for _, a := range tr.Arrivals {
		if _, ok := m[a.Index]; !ok {
			m[a.Index] = a.Arrive
		}
	}
	return m
}

// Oracle is the smallest fixed delay (audio timeline) with ≤ 1% of sent
// frames arriving late.
func Oracle(tr *netsim.Trace) time.Duration {
	base := captureBase(tr)
	var need []time.Duration
	for i, at := range firstArrivals(tr) {
		need = append(need, at-base[i])
	}
	slices.Sort(need)
	slices.Reverse(need)
	k := len(tr.Sent) / 100
	if k >= len(need) {
		return 0
	}
	return need[k]
}

// OracleOnTicks is the oracle for a consumer that can only start frames on
// its tick grid (every tick samples from time 0): the smallest fixed
// schedule on that grid with ≤ 1% of sent frames late, as the mean delay it
// gives.
func OracleOnTicks(tr *netsim.Trace, tick int) time.Duration {
	base := captureBase(tr)
	rate := time.Duration(tr.ClockRate)
	tickDur := time.Duration(tick) * time.Second / rate
	ts0 := tr.Sent[0].Timestamp
	offset := func(i int) time.Duration {
		return time.Duration(int32(tr.Sent[i].Timestamp-ts0)) * time.Second / rate
	}
	var need []time.Duration
	for i, at := range firstArrivals(tr) {
		need = append(need, at-offset(i))
	}
	slices.Sort(need)
	slices.Reverse(need)
	k := len(tr.Sent) / 100
	if k >= len(need) {
		return 0
	}
	p0 := (need[k] + tickDur - 1) / tickDur * tickDur
	var sum time.Duration
	for i := range tr.Sent {
		sum += p0 + offset(i) - base[i]
	}
	return sum / time.Duration(len(tr.Sent))
}

// IdealOnTicks is Ideal for a consumer that starts frames only on its tick
// grid (every tick samples from time 0): each received frame played at the
// first tick at or after its send time plus Ideal, as the mean delay after
// send time that gives. This is what a perfect fixed buffer driven every
// 10 ms achieves; the goals of issue 12 are measured against it (as the
// standard traces' are against OracleOnTicks), Ideal shown beside it.
func IdealOnTicks(tr *netsim.Trace, tick int) time.Duration {
	d := Ideal(tr)
	td := time.Duration(tick) * time.Second / time.Duration(tr.ClockRate)
	first := firstArrivals(tr)
	if len(first) == 0 {
		return d
	}
	var sum time.Duration
	for i := range first {
		s := tr.Sent[i].Send
		sum += (s+d+td-1)/td*td - s
	}
	return sum / time.Duration(len(first))
}

func (r *Result) finish(tr Trace, base []time.Duration) {
	r.Sent = len(tr.T.Sent)
	for i, at := range r.playedAt {
		r.delays = append(r.delays, at-base[i])
	}
	d := slices.Clone(r.delays)
	slices.Sort(d)
	if len(d) > 0 {
		var sum time.Duration
		for _, x := range d {
			sum += x
		}
		r.Mean = sum / time.Duration(len(d))
		r.P95 = d[len(d)*95/100]
	}
	r.Recovery = -1
	if tr.SpikeEnd > 0 {
		r.Recovery = recovery(tr, r.playedAt, base)
	}
	first := firstArrivals(tr.T)
	late := 0
	for i := range first {
		if _, ok := r.playedAt[i]; !ok {
			late++
		}
	}
	if len(first) > 0 {
		r.LateRecvPct = 100 * float64(late) / float64(len(first))
	}
	var sum time.Duration
	for i, at := range r.playedAt {
		sum += at - tr.T.Sent[i].Send
	}
	if len(r.playedAt) > 0 {
		r.MeanSend = sum / time.Duration(len(r.playedAt))
	}
	r.EventRecover = recoveryAfterEvents(tr, r.playedAt, Ideal(tr.T))
}

// recoveryAfterEvents is, over the trace's events, the longest time from
// an event's end until the delay after send time is back: the mean over
// the frames played in the next second is at most 1.1 × ideal, or at most
// what it was in the 5 s before the event. -1 without events, time.Hour
// if it never comes back.
func recoveryAfterEvents(tr Trace, playedAt map[int]time.Duration, ideal time.Duration) time.Duration {
	if len(tr.Events) == 0 {
		return -1
	}
	type pd struct{ at, d time.Duration }
	var all []pd
	for i, at := range playedAt {
		all = append(all, pd{at, at - tr.T.Sent[i].Send})
	}
	slices.SortFunc(all, func(a, b pd) int { return int(a.at - b.at) })
	worst := time.Duration(0)
	for _, end := range tr.Events {
		var pre []time.Duration
		for _, p := range all {
			if p.at < end-time.Second && p.at >= end-6*time.Second {
				pre = append(pre, p.d)
			}
		}
		limit := ideal + ideal/10
		if len(pre) > 0 {
			slices.Sort(pre)
			limit = max(limit, pre[len(pre)/2])
		}
		back := time.Hour
		for k, p := range all {
			if p.at < end {
				continue
			}
			var sum time.Duration
			n := 0
			for _, q := range all[k:] {
				if q.at >= p.at+time.Second {
					break
				}
				sum += q.d
				n++
			}
			if n > 0 && sum/time.Duration(n) <= limit {
				back = p.at - end
				break
			}
		}
		worst = max(worst, back)
	}
	return worst
}

// recovery: the delay level before the spike is the median delay of frames
// sent in the 5 s before it; recovery is how long after the spike ended the
// first frame is played after which every frame's delay is within one frame
// (the granularity of shrinking by dropping a frame) of that level.
func recovery(tr Trace, playedAt map[int]time.Duration, base []time.Duration) time.Duration {
	spikeStart := tr.SpikeEnd - 300*time.Millisecond
	var pre []time.Duration
	type pd struct{ at, d time.Duration }
	var post []pd
	for i, at := range playedAt {
		s := tr.T.Sent[i].Send
		switch {
		case s > spikeStart-5*time.Second && s < spikeStart:
			pre = append(pre, at-base[i])
		case s >= spikeStart:
			post = append(post, pd{at, at - base[i]})
		}
	}
	if len(pre) == 0 || len(post) == 0 {
		return -1
	}
	slices.Sort(pre)
	level := pre[len(pre)/2]
	frame := time.Duration(tr.T.Sent[0].Duration) * time.Second / time.Duration(tr.T.ClockRate)
	slices.SortFunc(post, func(a, b pd) int { return int(a.at - b.at) })
	last := -1
	for k, p := range post {
		if p.d > level+frame {
			last = k
		}
	}
	if last < 0 {
		return 0
	}
	if last+1 >= len(post) {
		return time.Hour
	}
	return max(0, post[last+1].at-tr.SpikeEnd)
}

// RunHark drives the adaptive buffer with ticks of tick samples.
func RunHark(name string, tr Trace, tick int, opts ...jitter.Option) Result {
	return runHark(name, tr, tick, false, nil, opts...)
}

// StretchPeriod is the pitch period RunHarkStretch's consumer removes or
// inserts at a time (5 ms, a 200 Hz voice).
const StretchPeriod = 240

// RunHarkStretch drives the adaptive buffer with time-stretching
// (jitter.WithTimeStretch) and a consumer that honours Decision.Stretch the
// way internal/playout does: it adds the requests up and, once they come
// to a pitch period (StretchPeriod), removes or inserts one from the audio
// just decoded, at most one per tick. Speech always has a period to work
// with here, which real audio does not always offer (playout waits for a
// well-correlated or quiet stretch), so this is its best case.
func RunHarkStretch(name string, tr Trace, tick int, opts ...jitter.Option) Result {
	return runHark(name, tr, tick, true, nil, append([]jitter.Option{jitter.WithTimeStretch(true)}, opts...)...)
}

// runHark runs the buffer on tr; observe, if not nil, is called after
// every tick with the time and the buffer's stats.
func runHark(name string, tr Trace, tick int, stretch bool, observe func(now time.Duration, st jitter.Stats), opts ...jitter.Option) Result {
	b := jitter.New(opts...)
	t := tr.T
	r := Result{Buffer: name, playedAt: map[int]time.Duration{}}
	idx := make(map[[2]uint32]int, len(t.Sent))
	for i, s := range t.Sent {
		idx[[2]uint32{uint32(s.Seq), s.Timestamp}] = i
	}
	tickDur := time.Duration(tick) * time.Second / time.Duration(t.ClockRate)
	end := t.Arrivals[len(t.Arrivals)-1].Arrive + 2*time.Second
	payload := []byte{1}
	ai, fifo, debt := 0, 0, 0
	for now := time.Duration(0); now < end; now += tickDur {
		stretched := false
		for ; ai < len(t.Arrivals) && t.Arrivals[ai].Arrive <= now; ai++ {
			a := t.Arrivals[ai]
			s := t.Sent[a.Index]
			b.Push(jitter.Packet{Seq: s.Seq, Timestamp: s.Timestamp, Duration: s.Duration, Start: s.Start, End: s.End,
				Payload: payload, Arrival: epoch.Add(a.Arrive)})
		}
		for fifo < tick {
			d, _ := b.Next(epoch.Add(now), tick-fifo)
			// The decision's audio starts playing once the FIFO ahead of it
			// has drained.
			startAt := now + time.Duration(fifo)*time.Second/time.Duration(t.ClockRate)
			if d.Action == jitter.Play {
				r.playedAt[idx[[2]uint32{uint32(d.Packet.Seq), d.Packet.Timestamp}]] = startAt
			}
			fifo += d.Samples
			if stretch && d.Action == jitter.Play {
				debt = min(max(debt+d.Stretch, -2*StretchPeriod), 2*StretchPeriod)
				switch {
				case stretched:
				case debt >= StretchPeriod:
					fifo += StretchPeriod
					debt -= StretchPeriod
					stretched = true
				case debt <= -StretchPeriod && d.Samples >= 2*StretchPeriod:
					fifo -= StretchPeriod
					debt += StretchPeriod
					stretched = true
				}
			}
		}
		fifo -= tick
		if observe != nil {
			observe(now, b.Stats())
		}
	}
	st := b.Stats()
	r.Stats = st
	r.LatePct = 100 * float64(st.Late+st.Dropped) / float64(len(t.Sent))
	r.ConcealPct = 100 * float64(st.ConcealedSamples) / float64(t.SentSamples())
	r.FECPct = 100 * float64(st.FECRecovered) / float64(len(t.Sent))
	r.finish(tr, captureBase(t))
	return r
}

// RunFixed plays every frame at a fixed offset from the first packet's
// arrival: a buffer of n frames starts playing when the first packet has
// waited n-1 frames (n = 1 plays on arrival), on the tick grid.
func RunFixed(tr Trace, n int, tick int) Result {
	t := tr.T
	r := Result{Buffer: fmt.Sprintf("fixed %d frame", n), playedAt: map[int]time.Duration{}}
	if n > 1 {
		r.Buffer += "s"
	}
	first := firstArrivals(t)
	rate := time.Duration(t.ClockRate)
	tickDur := time.Duration(tick) * time.Second / rate
	a0 := t.Arrivals[0]
	s0 := t.Sent[a0.Index]
	frame := time.Duration(s0.Duration) * time.Second / rate
	start := a0.Arrive + time.Duration(n-1)*frame
	start = (start + tickDur - 1) / tickDur * tickDur
	var late, concealed int64
	for i, s := range t.Sent {
		at := start + time.Duration(int32(s.Timestamp-s0.Timestamp))*time.Second/rate
		arr, ok := first[i]
		switch {
		case !ok:
			concealed += int64(s.Duration)
		case arr > at:
			late++
			concealed += int64(s.Duration)
		default:
			r.playedAt[i] = at
		}
	}
	r.LatePct = 100 * float64(late) / float64(len(t.Sent))
	r.ConcealPct = 100 * float64(concealed) / float64(t.SentSamples())
	r.finish(tr, captureBase(t))
	return r
}

// RunPion drives pion/interceptor's jitterbuffer: push on arrival, one Pop
// per frame tick once it is emitting. When the packet at the playout head
// is missing but later packets are queued, the driver skips it (concealed);
// when the queue is empty it waits (concealed, the head stays). Packets
// behind the head are late.
func RunPion(tr Trace, minPackets uint16) Result {
	t := tr.T
	r := Result{Buffer: fmt.Sprintf("pion (min %d pkts)", minPackets), playedAt: map[int]time.Duration{}}
	jb := jitterbuffer.New(jitterbuffer.WithMinimumPacketCount(minPackets))
	idx := make(map[uint16]int, len(t.Sent))
	for i, s := range t.Sent {
		idx[s.Seq] = i
	}
	rate := time.Duration(t.ClockRate)
	frame := time.Duration(t.Sent[0].Duration) * time.Second / rate
	end := t.Arrivals[len(t.Arrivals)-1].Arrive + 2*time.Second
	ai := 0
	var concealed, played int64
	for now := time.Duration(0); now < end; now += frame {
		for ; ai < len(t.Arrivals) && t.Arrivals[ai].Arrive <= now; ai++ {
			s := t.Sent[t.Arrivals[ai].Index]
			jb.Push(&rtp.Packet{Header: rtp.Header{SequenceNumber: s.Seq, Timestamp: s.Timestamp}, Payload: []byte{1}})
		}
		p, err := jb.Pop()
		switch {
		case err == nil:
			i := idx[p.SequenceNumber]
			if _, dup := r.playedAt[i]; !dup {
				r.playedAt[i] = now
				played++
			}
		case err == jitterbuffer.ErrPopWhileBuffering:
		default:
			// Conceal only if the missing packet has been sent (not in a
			// push-to-talk pause).
			if i, ok := idx[jb.PlayoutHead()]; ok && t.Sent[i].Send <= now {
				concealed += int64(t.Sent[i].Duration)
			}
			if _, perr := jb.Peek(false); perr == nil {
				jb.SetPlayoutHead(jb.PlayoutHead() + 1)
			}
		}
		if int(played) >= len(t.Sent) {
			break
		}
	}
	first := firstArrivals(t)
	late := 0
	for i := range first {
		if _, ok := r.playedAt[i]; !ok {
			late++
		}
	}
	r.LatePct = 100 * float64(late) / float64(len(t.Sent))
	r.ConcealPct = 100 * float64(concealed) / float64(t.SentSamples())
	r.finish(tr, captureBase(t))
	return r
}

// Report runs every buffer on every trace and writes a markdown table.
func Report(w io.Writer, traces []Trace) {
	fmt.Fprintln(w, "| trace | buffer | late-loss % | concealed % | FEC % | mean delay | p95 delay | mean / tick oracle | after spike |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, tr := range traces {
		cont := Oracle(tr.T)
		oracle := OracleOnTicks(tr.T, 480)
		results := []Result{
			RunHark("hark jitter", tr, 480),
			RunHark("hark jitter, 2-frame floor", tr, 480, jitter.WithMinDelay(40*time.Millisecond)),
			RunFixed(tr, 1, 480),
			RunFixed(tr, 2, 480),
			RunFixed(tr, 4, 480),
			RunPion(tr, 2),
		}
		fmt.Fprintf(w, "| %s | oracle, continuous time | ≤ 1 | | | %s | | %.2f | |\n", tr.Name, ms(cont), float64(cont)/float64(oracle))
		fmt.Fprintf(w, "| %s | oracle on the 10 ms tick grid | ≤ 1 | | | %s | | 1.00 | |\n", tr.Name, ms(oracle))
		for _, r := range results {
			rec := ""
			if r.Recovery >= 0 {
				rec = ms(r.Recovery)
				if r.Recovery >= time.Hour {
					rec = "never"
				}
			}
			fmt.Fprintf(w, "| %s | %s | %.2f | %.2f | %.2f | %s | %s | %.2f | %s |\n", tr.Name, r.Buffer,
				r.LatePct, r.ConcealPct, r.FECPct, ms(r.Mean), ms(r.P95), float64(r.Mean)/float64(oracle), rec)
		}
	}
}

// ReportKinds runs every buffer on the kinds of network of issue 12
// and writes a markdown table with that measures: late-loss in %
// of frames received, mean delay after send time ÷ the ideal fixed delay
// (Ideal), and the time to come back after an outage (Events).
func ReportKinds(w io.Writer, traces []Trace) {
	fmt.Fprintln(w, "| network | buffer | late-loss % of received | concealed % | mean delay after send | ideal | mean ÷ ideal | ideal on 10 ms ticks | mean ÷ ideal on ticks | back after outage |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, tr := range traces {
		ideal := Ideal(tr.T)
		onTicks := IdealOnTicks(tr.T, 480)
		results := []Result{
			RunHark("hark jitter", tr, 480),
			RunHarkStretch("hark jitter, time-stretching", tr, 480),
			RunFixed(tr, 1, 480),
			RunFixed(tr, 2, 480),
			RunFixed(tr, 4, 480),
			RunPion(tr, 2),
		}
		for _, r := range results {
			rec := ""
			switch {
			case r.EventRecover >= time.Hour:
				rec = "never"
			case r.EventRecover >= 0:
				rec = ms(r.EventRecover)
			}
			fmt.Fprintf(w, "| %s | %s | %.2f | %.2f | %s | %s | %.2f | %s | %.2f | %s |\n", tr.Name, r.Buffer,
				r.LateRecvPct, r.ConcealPct, ms(r.MeanSend), ms(ideal), float64(r.MeanSend)/float64(ideal),
				ms(onTicks), float64(r.MeanSend)/float64(onTicks), rec)
		}
	}
}

func ms(d time.Duration) string {
	return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(d)/1e6), ".0") + " ms"
}
