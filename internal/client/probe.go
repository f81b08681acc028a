package client

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/hark-intercom/hark/proto"
)

// ProbeConfig says how to probe the path to the relay ([Client.Probe]).
type ProbeConfig struct {
	// Count probes are sent, one every Interval (defaults 500 and 20 ms:
	// 10 s at the rate of 20 ms voice frames).
	Count    int
	Interval time.Duration
	// Size is each probe's datagram size in bytes (default 100, about a
	// voice frame).
	Size int
	// Wait is how long after the last probe replies are still awaited
	// (default 1 s); Probe returns early once every probe has its reply.
	Wait time.Duration
	// OnReply, if set, is called for each reply (from the datagram reader:
	// it must not block).
	OnReply func(seq int, rtt time.Duration)
}

// PathStats is what a probe run measured: the datagram path to the relay
// and back, the way voice travels.
type PathStats struct {
	Sent, Received int
	// Late counts replies that came after Wait; they are not in the
	// figures below. Duplicates counts replies seen twice.
	Late, Duplicates int
	// Round trips of the replies.
	RTTMin, RTTMedian, RTTP95, RTTMax time.Duration
	// Jitter is the mean absolute difference between the round trips of
	// consecutive probes (RFC 3550's interarrival jitter, on round trips).
	Jitter time.Duration
}

// Loss is the fraction of probes that got no reply.
func (p PathStats) Loss() float64 {
	if p.Sent == 0 {
		return 0
	}
	return float64(p.Sent-p.Received) / float64(p.Sent)
}

// MouthToEar estimates the delay from a talker's mouth to a listener's ear
// when both are on a path like this one and talk in frames of frame
// duration: capture and encoding (one frame plus Opus's 6.5 ms look-ahead),
// the path to the relay and on to the listener (half the median round trip
// each way: the two legs), the listener's jitter buffer (it holds about the
// spread of the path, p95 minus median round trip, plus a frame), and the
// sound cards' buffers (about 20 ms for both). It is an estimate for
// planning, not a measurement.
func (p PathStats) MouthToEar(frame time.Duration) time.Duration {
	if p.Received == 0 {
		return 0
	}
	const lookahead = 6500 * time.Microsecond
	const devices = 20 * time.Millisecond
	path := p.RTTMedian // two half round trips: talker → relay → listener
	buffer := frame + (p.RTTP95 - p.RTTMedian)
	return frame + lookahead + path + buffer + devices
}

// ErrProbeUnsupported: the relay does not echo probes (an older relay);
// only the control stream's round trip ([Client.Ping]) can be measured.
var ErrProbeUnsupported = errors.New("the relay does not answer path probes (it is older than this program): only the round trip over the control stream can be measured")

// probeRun collects the replies of one Probe call.
type probeRun struct {
	start   time.Time
	onReply func(int, time.Duration)

	all chan struct{} // closed when every probe has its reply

	mu       sync.Mutex // guards the fields below
	got      int
	sentAt   []time.Time
	rtt      []time.Duration // per seq; -1 = no reply yet
	late     int
	dups     int
	deadline time.Time // replies after it are late (zero while sending)
}

// Probe measures the datagram path to the relay: it sends cfg.Count probes
// through the same queue as voice, which the relay echoes through its own
// voice queue, and returns round trips, loss and jitter. It returns
// ErrProbeUnsupported for a relay that does not echo probes. Only one
// Probe runs at a time per client; a second returns an error.
func (c *Client) Probe(ctx context.Context, cfg ProbeConfig) (PathStats, error) {
	if cfg.Count <= 0 {
		cfg.Count = 500
	}
	if cfg.Interval <= 0 {
		cfg.Interval = 20 * time.Millisecond
	}
	if cfg.Size == 0 {
		cfg.Size = 100
	}
	if cfg.Wait <= 0 {
		cfg.Wait = time.Second
	}
	cn, err := c.current()
	if err != nil {
		return PathStats{}, err
	}
	if cn.features&proto.FeatureProbe == 0 {
		return PathStats{}, ErrProbeUnsupported
	}
	run := &probeRun{start: time.Now(), onReply: cfg.OnReply, all: make(chan struct{}),
		sentAt: make([]time.Time, cfg.Count), rtt: make([]time.Duration, cfg.Count)}
	for i := range run.rtt {
		run.rtt[i] = -1
	}
	if !c.probe.CompareAndSwap(nil, run) {
		return PathStats{}, errors.New("a path probe is already running")
	}
	defer c.probe.Store(nil)

	tick := time.NewTicker(cfg.Interval)
	defer tick.Stop()
	for seq := 0; seq < cfg.Count; seq++ {
		if seq > 0 {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return PathStats{}, ctx.Err()
			case <-cn.done:
				return PathStats{}, ErrConnectionLost
			}
		}
		now := time.Now()
		bp := bufPool.Get().(*[]byte)
		*bp, err = proto.AppendProbe((*bp)[:0], proto.ProbeHeader{Seq: uint32(seq), Sent: now.Sub(run.start).Nanoseconds()}, cfg.Size)
		if err != nil {
			bufPool.Put(bp)
			return PathStats{}, err
		}
		run.mu.Lock()
		run.sentAt[seq] = now
		run.mu.Unlock()
		cn.enqueue(c, bp)
	}
	run.mu.Lock()
	run.deadline = time.Now().Add(cfg.Wait)
	run.mu.Unlock()
	wait := time.NewTimer(cfg.Wait)
	defer wait.Stop()
	select {
	case <-wait.C:
	case <-run.all:
	case <-ctx.Done():
		return PathStats{}, ctx.Err()
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	return run.stats(), nil
}

// probeReply takes a probe datagram from the relay.
func (c *Client) probeReply(b []byte, at time.Time) {
	h, err := proto.ParseProbe(b)
	if err != nil || h.Flags&proto.ProbeReply == 0 {
		c.voiceBad.Add(1)
		return
	}
	run := c.probe.Load()
	if run == nil {
		return // a reply after its run ended
	}
	run.mu.Lock()
	seq := int(h.Seq)
	if seq >= len(run.rtt) || run.sentAt[seq].IsZero() {
		run.mu.Unlock()
		c.voiceBad.Add(1)
		return
	}
	if !run.deadline.IsZero() && at.After(run.deadline) {
		run.late++
		run.mu.Unlock()
		return
	}
	if run.rtt[seq] >= 0 {
		run.dups++
		run.mu.Unlock()
		return
	}
	rtt := at.Sub(run.start.Add(time.Duration(h.Sent)))
	run.rtt[seq] = rtt
	run.got++
	if run.got == len(run.rtt) {
		close(run.all)
	}
	on := run.onReply
	run.mu.Unlock()
	if on != nil {
		on(seq, rtt)
	}
}

// stats sums a run up. Called with run.mu held.
func (run *probeRun) stats() PathStats {
	p := PathStats{Late: run.late, Duplicates: run.dups}
	var got []time.Duration
	var jsum time.Duration
	var jn int
	prev := time.Duration(-1)
	for i, r := range run.rtt {
		if run.sentAt[i].IsZero() {
			continue
		}
		p.Sent++
		if r < 0 {
			prev = -1
			continue
		}
		got = append(got, r)
		if prev >= 0 {
			d := r - prev
			if d < 0 {
				d = -d
			}
			jsum += d
			jn++
		}
		prev = r
	}
	p.Received = len(got)
	if len(got) == 0 {
		return p
	}
	slices.Sort(got)
	p.RTTMin, p.RTTMax = got[0], got[len(got)-1]
	p.RTTMedian = got[len(got)/2]
	p.RTTP95 = got[(len(got)*95)/100]
	if jn > 0 {
		p.Jitter = jsum / time.Duration(jn)
	}
	return p
}
