package netsim

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// A Kind is a kind of real network that the four presets do not cover,
// as a generator of seeded 60 s traces of one talker: the six of issue 12
// and its bursty sender,
// whose recorded arrival times broke the jitter buffer's goals. Each
// combines a one-way base delay (to a relay across the internet) with the
// impairment that makes the kind.
type Kind struct {
	Name string
	// Talker is what the sender transmits (frames, drift, length).
	Talker Talker
	// Link returns the path for a seed.
	Link func(seed uint64) Config
	// Events are the ends (sender time) of the outages or stalls after
	// which a buffer should come back to the network's delay; the same for
	// every seed.
	Events []time.Duration
}

// Trace generates the kind's trace for a seed.
func (k Kind) Trace(seed uint64) *Trace {
	return Generate(k.Talker, NewLink(k.Link(seed)))
}

// KindLength is the length of every Kind's trace.
const KindLength = 60 * time.Second

// Kinds are the six kinds of network of issue 12 and its bursty sender:
//
//	wifi-beacon  Wi-Fi: 25 ms + 0–10 ms heavy-tailed jitter, 0.5 % loss;
//	             every 2.048 s (20 beacon intervals) the link stalls for
//	             40–100 ms (power save, background scan) and releases
//	             what it held at once
//	handover     mobile: 45 ms + 15 ms heavy-tailed jitter, 1 % loss; a
//	             handover at 20 s: a 450 ms outage whose packets are
//	             released in a burst when it ends
//	bufferbloat  20 ms + 0–8 ms; for 5 s, then the queue fills: the delay
//	             ramps up by 40 ms per second to 350 ms and collapses back
//	             at once (packets sent after the collapse overtake those
//	             still queued), over and over
//	drift        the sender's clock runs 0.3 % fast; 30 ms + 0–15 ms
//	             heavy-tailed jitter
//	mixed-frames one talker whose packets switch between 60 ms (5 s) and
//	             20 ms (5 s), as when a browser changes encoder; 30 ms +
//	             0–15 ms heavy-tailed jitter
//	reorder      30 ms + 0–10 ms; 3 % of packets held back 30 ms (later
//	             ones overtake them), 2 % delivered twice up to 40 ms
//	             apart
//	bursty-sender a browser's MediaRecorder with a 280 ms timeslice: the
//	             sender hands over what it recorded every 280 ms, so
//	             packets leave in bursts of 14, the first held 280 ms;
//	             20 ms + 0–8 ms on the way
var Kinds = []Kind{
	{
		Name:   "wifi-beacon",
		Talker: Talker{Length: KindLength},
		Link: func(seed uint64) Config {
			return Config{Seed: seed, Loss: Bernoulli{P: 0.005}, Delay: &PeriodicStalls{
				Base:   &Jitter{Base: 25 * time.Millisecond, Sigma: 5 * time.Millisecond, TailProb: 0.02, Alpha: 2.5},
				Period: 2048 * time.Millisecond, Phase: 700 * time.Millisecond,
				MinHeight: 40 * time.Millisecond, MaxHeight: 100 * time.Millisecond,
			}}
		},
	},
	{
		Name:   "handover",
		Talker: Talker{Length: KindLength},
		Link: func(seed uint64) Config {
			return Config{Seed: seed, Loss: Bernoulli{P: 0.01}, Delay: Spikes{
				Base:   &Jitter{Base: 45 * time.Millisecond, Sigma: 15 * time.Millisecond, TailProb: 0.02, Alpha: 2.5, Correlation: 0.3},
				At:     []time.Duration{20 * time.Second},
				Height: 450 * time.Millisecond,
			}}
		},
		Events: []time.Duration{20*time.Second + 450*time.Millisecond},
	},
	{
		Name:   "bufferbloat",
		Talker: Talker{Length: KindLength},
		Link: func(seed uint64) Config {
			return Config{Seed: seed, Delay: Bufferbloat{
				Base: Uniform{Min: 20 * time.Millisecond, Max: 28 * time.Millisecond},
				Calm: 5 * time.Second, Rate: 0.040, Max: 350 * time.Millisecond,
			}}
		},
	},
	{
		Name:   "drift",
		Talker: Talker{Length: KindLength, DriftPPM: 3000},
		Link: func(seed uint64) Config {
			return Config{Seed: seed, Delay: &Jitter{Base: 30 * time.Millisecond, Sigma: 8 * time.Millisecond, TailProb: 0.02, Alpha: 2.5, Correlation: 0.3}}
		},
	},
	{
		Name:   "mixed-frames",
		Talker: Talker{Length: KindLength, Frames: mixedFrames()},
		Link: func(seed uint64) Config {
			return Config{Seed: seed, Delay: &Jitter{Base: 30 * time.Millisecond, Sigma: 8 * time.Millisecond, TailProb: 0.02, Alpha: 2.5, Correlation: 0.3}}
		},
	},
	{
		Name:   "reorder",
		Talker: Talker{Length: KindLength},
		Link: func(seed uint64) Config {
			return Config{Seed: seed, Delay: Uniform{Min: 30 * time.Millisecond, Max: 40 * time.Millisecond},
				ReorderProb: 0.03, ReorderDelay: 30 * time.Millisecond,
				DuplicateProb: 0.02, DuplicateSpread: 40 * time.Millisecond}
		},
	},
	burstySender(280 * time.Millisecond),
}

// burstySender is a Kind's sender that hands its packets over every
// period (MediaRecorder's timeslice).
func burstySender(period time.Duration) Kind {
	return Kind{
		Name:   "bursty-sender",
		Talker: Talker{Length: KindLength},
		Link: func(seed uint64) Config {
			return Config{Seed: seed, Delay: &PeriodicStalls{
				Base:   Uniform{Min: 20 * time.Millisecond, Max: 28 * time.Millisecond},
				Period: period, MinHeight: period, MaxHeight: period,
			}}
		},
	}
}

// mixedFrames is 5 s of 60 ms packets, then 5 s of 20 ms ones.
func mixedFrames() []int {
	var f []int
	for range 84 {
		f = append(f, 2880)
	}
	for range 250 {
		f = append(f, 960)
	}
	return f
}

// KindByName returns the Kind called name.
func KindByName(name string) (Kind, error) {
	var names []string
	for _, k := range Kinds {
		if k.Name == name {
			return k, nil
		}
		names = append(names, k.Name)
	}
	return Kind{}, fmt.Errorf("netsim: unknown kind of network %q (known: %s)", name, strings.Join(names, ", "))
}

// PeriodicStalls is a Base delay plus a stall every Period from Phase on,
// each of a height drawn uniformly in [MinHeight, MaxHeight]: a packet sent
// during a stall leaves when it ends (as Spike). Use it through a pointer
// (it remembers the current stall's height); heights come from the link's
// random source, so they are a function of the seed.
type PeriodicStalls struct {
	Base                 DelayModel
	Period, Phase        time.Duration
	MinHeight, MaxHeight time.Duration

	k      int64 // index of the stall whose height is h (+1; 0 = none yet)
	height time.Duration
}

// Delay implements DelayModel.
func (p *PeriodicStalls) Delay(r *rand.Rand, t time.Duration) time.Duration {
	d := p.Base.Delay(r, t)
	if p.Period <= 0 || t < p.Phase {
		return d
	}
	k := int64((t - p.Phase) / p.Period)
	if k+1 != p.k {
		p.k = k + 1
		p.height = p.MinHeight
		if p.MaxHeight > p.MinHeight {
			p.height += time.Duration(r.Int64N(int64(p.MaxHeight-p.MinHeight) + 1))
		}
	}
	at := p.Phase + time.Duration(k)*p.Period
	if t < at+p.height {
		d += at + p.height - t
	}
	return d
}

// Bufferbloat is a queue that fills and empties: Base delay for Calm, then
// the delay ramps up by Rate (seconds of delay per second, 0.04 = 40 ms/s)
// to Max, then collapses back to Base at once; the cycle repeats. Packets
// sent just after a collapse overtake those still queued.
type Bufferbloat struct {
	Base DelayModel
	Calm time.Duration
	Rate float64
	Max  time.Duration
}

// Cycle is the length of one calm stretch and one ramp.
func (b Bufferbloat) Cycle() time.Duration {
	if b.Rate <= 0 {
		return b.Calm
	}
	return b.Calm + time.Duration(float64(b.Max)/b.Rate)
}

// Delay implements DelayModel.
func (b Bufferbloat) Delay(r *rand.Rand, t time.Duration) time.Duration {
	d := b.Base.Delay(r, t)
	c := b.Cycle()
	if c <= 0 || b.Rate <= 0 {
		return d
	}
	pos := t % c
	if pos < b.Calm {
		return d
	}
	return d + min(time.Duration(float64(pos-b.Calm)*b.Rate), b.Max)
}
