// Package netsim is a deterministic, seeded simulator of a bad network for
// voice packets: one-way delay models (constant, uniform, heavy-tailed
// jitter, delay spikes), loss (independent or bursty Gilbert–Elliott),
// reordering, duplication and sender clock drift.
//
// The same Link drives offline traces (Generate: whole transmissions turned
// into arrival times, for unit tests and benchmarks, also readable from and
// writable to trace files) and the real-time impairment proxy
// (internal/impair calls Link.Deliver once per datagram).
//
// Everything is a pure function of the seed and the sequence of calls: no
// wall clock, no global random source. A Link is not safe for concurrent
// use.
package netsim

import (
	"math"
	"math/rand/v2"
	"time"
)

// DelayModel gives the one-way delay of a packet sent at time t (time since
// the start of the simulation).
type DelayModel interface {
	Delay(r *rand.Rand, t time.Duration) time.Duration
}

// LossModel decides whether the next packet is lost. Implementations may
// keep state (bursts), so one model value belongs to one Link.
type LossModel interface {
	Lost(r *rand.Rand) bool
}

// Constant delay.
type Constant struct{ D time.Duration }

// Delay implements DelayModel.
func (c Constant) Delay(*rand.Rand, time.Duration) time.Duration { return c.D }

// Uniform delay in [Min, Max].
type Uniform struct{ Min, Max time.Duration }

// Delay implements DelayModel.
func (u Uniform) Delay(r *rand.Rand, _ time.Duration) time.Duration {
	if u.Max <= u.Min {
		return u.Min
	}
	return u.Min + time.Duration(r.Int64N(int64(u.Max-u.Min)+1))
}

// Jitter is a base delay plus heavy-tailed jitter: a mixture of a
// half-normal body (most packets, scale Sigma) and a Pareto tail (a fraction
// TailProb of packets, scale Sigma, shape Alpha), capped at Max (0 = 10×
// Sigma + 1 s). It models Wi-Fi and mobile links, where most packets see a
// few ms and some see much more.
type Jitter struct {
	Base     time.Duration
	Sigma    time.Duration
	TailProb float64 // 0..1; 0 = 0.05
	Alpha    float64 // Pareto shape; 0 = 2
	Max      time.Duration
	// Correlation in [0,1): how much of the previous packet's jitter the next
	// one keeps (queues drain gradually). 0 = independent.
	Correlation float64

	prev float64 // state for Correlation (in units of Sigma)
}

// Delay implements DelayModel. Jitter keeps state when Correlation > 0, so
// use it through a pointer.
func (j *Jitter) Delay(r *rand.Rand, _ time.Duration) time.Duration {
	tp := j.TailProb
	if tp == 0 {
		tp = 0.05
	}
	alpha := j.Alpha
	if alpha == 0 {
		alpha = 2
	}
	var x float64 // in units of Sigma
	if r.Float64() < tp {
		// Pareto with minimum 1.
		x = math.Pow(1-r.Float64(), -1/alpha)
	} else {
		x = math.Abs(r.NormFloat64()) * 0.5
	}
	if j.Correlation > 0 {
		x = math.Max(x, j.prev*j.Correlation)
		j.prev = x
	}
	d := time.Duration(x * float64(j.Sigma))
	maxJ := j.Max
	if maxJ == 0 {
		maxJ = 10*j.Sigma + time.Second
	}
	return j.Base + min(d, maxJ)
}

// Spike is a delay spike: at time At the path stalls for Height (a Wi-Fi
// retransmission storm, a handover, a full queue) and then releases what it
// held at once. A packet sent at t in [At, At+Height) is delivered at
// At+Height+base, i.e. its delay is base + (At+Height−t). Outside the spike
// the delay is the Base model's.
type Spike struct {
	Base   DelayModel
	At     time.Duration
	Height time.Duration
}

// Delay implements DelayModel.
func (s Spike) Delay(r *rand.Rand, t time.Duration) time.Duration {
	d := s.Base.Delay(r, t)
	if t >= s.At && t < s.At+s.Height {
		d += s.At + s.Height - t
	}
	return d
}

// Spikes applies several spikes over a base model.
type Spikes struct {
	Base   DelayModel
	At     []time.Duration
	Height time.Duration
}

// Delay implements DelayModel.
func (s Spikes) Delay(r *rand.Rand, t time.Duration) time.Duration {
	d := s.Base.Delay(r, t)
	for _, at := range s.At {
		if t >= at && t < at+s.Height {
			d += at + s.Height - t
		}
	}
	return d
}

// NoLoss never loses a packet.
type NoLoss struct{}

// Lost implements LossModel.
func (NoLoss) Lost(*rand.Rand) bool { return false }

// Bernoulli loses each packet independently with probability P.
type Bernoulli struct{ P float64 }

// Lost implements LossModel.
func (b Bernoulli) Lost(r *rand.Rand) bool { return r.Float64() < b.P }

// GilbertElliott is bursty loss: a two-state Markov chain (good, bad) with a
// loss probability per state. Use it through a pointer (it keeps state).
type GilbertElliott struct {
	PGoodToBad, PBadToGood float64 // per packet transition probabilities
	LossGood, LossBad      float64 // loss probability in each state
	bad                    bool
}

// NewBurstyLoss returns a Gilbert–Elliott model with average loss rate
// meanLoss and mean burst length burst packets (loss 0 in the good state,
// 1 in the bad state).
func NewBurstyLoss(meanLoss, burst float64) *GilbertElliott {
	if burst < 1 {
		burst = 1
	}
	pbg := 1 / burst
	// Stationary P(bad) = pgb/(pgb+pbg) = meanLoss.
	pgb := meanLoss * pbg / (1 - meanLoss)
	return &GilbertElliott{PGoodToBad: pgb, PBadToGood: pbg, LossGood: 0, LossBad: 1}
}

// Lost implements LossModel.
func (g *GilbertElliott) Lost(r *rand.Rand) bool {
	if g.bad {
		if r.Float64() < g.PBadToGood {
			g.bad = false
		}
	} else if r.Float64() < g.PGoodToBad {
		g.bad = true
	}
	p := g.LossGood
	if g.bad {
		p = g.LossBad
	}
	return r.Float64() < p
}

// Config describes a simulated one-way path.
type Config struct {
	Seed  uint64
	Delay DelayModel // nil = no delay
	Loss  LossModel  // nil = no loss
	// DuplicateProb is the chance that a packet is delivered twice; the copy
	// gets its own delay from Delay plus up to DuplicateSpread.
	DuplicateProb   float64
	DuplicateSpread time.Duration
	// ReorderProb is the chance that a packet is held back an extra
	// ReorderDelay (so later packets overtake it).
	ReorderProb  float64
	ReorderDelay time.Duration
}

// Link is a simulated one-way path. Not safe for concurrent use.
type Link struct {
	cfg Config
	r   *rand.Rand
}

// NewLink returns a link in its initial state for cfg.Seed.
func NewLink(cfg Config) *Link {
	if cfg.Delay == nil {
		cfg.Delay = Constant{}
	}
	if cfg.Loss == nil {
		cfg.Loss = NoLoss{}
	}
	return &Link{cfg: cfg, r: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15))}
}

// Deliver decides the fate of one packet sent at time t (since the start of
// the simulation): it appends to dst the delays after which copies of the
// packet arrive — none if lost, two if duplicated — and returns dst.
func (l *Link) Deliver(t time.Duration, dst []time.Duration) []time.Duration {
	if l.cfg.Loss.Lost(l.r) {
		return dst
	}
	d := l.cfg.Delay.Delay(l.r, t)
	if l.cfg.ReorderProb > 0 && l.r.Float64() < l.cfg.ReorderProb {
		d += l.cfg.ReorderDelay
	}
	dst = append(dst, max(d, 0))
	if l.cfg.DuplicateProb > 0 && l.r.Float64() < l.cfg.DuplicateProb {
		d2 := l.cfg.Delay.Delay(l.r, t)
		if l.cfg.DuplicateSpread > 0 {
			d2 += time.Duration(l.r.Int64N(int64(l.cfg.DuplicateSpread) + 1))
		}
		dst = append(dst, max(d2, 0))
	}
	return dst
}
