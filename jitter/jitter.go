// Package jitter is an adaptive, time-based, push-to-talk-aware jitter
// buffer for one talker's voice packets (Opus over datagrams).
//
// Packets are pushed as they arrive (Push) in any order, possibly twice or
// too late. The consumer — an audio device callback or a playout tick —
// calls Next once per tick and gets one Decision: play a packet, conceal a
// lost stretch (decoder packet-loss concealment), recover lost audio from
// the next packet's in-band FEC, or output silence. The buffer chooses FEC
// only when the next packet carries FEC data, as far as it can tell: give
// it WithFECProbe (codec.HasFEC for Opus) so that a packet without it leads
// to concealment, and the counters say which of the two really happened.
//
// Everything is measured in time, not in packets: timestamps are in samples
// of the clock rate (48 kHz by default), so 10, 20 and 60 ms packets can mix
// in one stream. Delays are measured on the audio timeline: from when a
// sample would have arrived over the fastest path seen recently (a sliding
// minimum of transit times, which also follows a sender clock running up to
// a few tenths of a percent fast or slow) to when it is played. A packet
// leaves its sender only after its last sample, so the delay is never below
// one frame: that is the floor (WithMinDelay raises it); WithMaxDelay is the
// ceiling.
//
// The buffer keeps a histogram, with exponential forgetting, of each
// packet's jitter and targets a high percentile of it (with a margin that
// follows the late-loss the buffer sees, see WithPercentile) plus the duration of
// the packet being played (a packet leaves its sender only after its last
// sample): a stream that mixes 20 and 60 ms packets plays the 20 ms ones
// 40 ms sooner. A network whose delay ramps up (a filling queue) moves
// the baseline instead of teaching the histogram the ramp's lag; when such
// a delay collapses, the packets still coming over the slow path are
// played before the buffer shrinks. Delay spikes — several packets far above target
// together, such as a stalled Wi-Fi link, or a stalled sender or relay
// process on a busy machine, releasing a burst — are kept out of the
// histogram, also in the first second of a transmission, so a stall costs
// its own audio but does not raise the target. Spikes that keep coming
// (four in 10 s) are covered while they do: the target rises to their
// height and falls back to the network's two intervals after the last
// one. When a packet is missing at its deadline the buffer
// conceals (or recovers it from the next packet's FEC data once that one
// is due too: packets of a burst released out of order still play in
// time); if the missing packet then arrives while the buffer is still
// concealing with nothing else to play, it resumes from it (the delay grows
// instead of audio being lost). After a longer stall (beyond WithMaxConceal)
// it does not resume: the stuck packets are late and playout continues at
// the delay it had, so a stall costs its own audio but no latency. A stall
// at the start of a transmission, before any of its speech was heard
// (less than 200 ms of it played, or with pause hints nothing but quiet),
// is resumed from however long it was, up to WithMaxDelay: the start of
// the speech is played late rather than lost, and the delay that adds is
// shed afterwards.
//
// Below target it inserts concealment before a packet (stretch). Above
// target it shrinks for free where it can: in pauses (timestamp gaps
// without a sequence gap, e.g. Opus DTX, and between transmissions) and in
// lost stretches (the missing audio is skipped rather than concealed, down
// to 2.5 ms steps). Only when that is not enough does it drop a frame: at
// most one every few packets when far above target, rarely when close to
// it, never two in a row.
//
// A consumer that can time-stretch decoded audio (WithTimeStretch, as
// internal/playout does) is asked to lengthen or shorten played packets
// by small amounts (Decision.Stretch) instead: the delay follows the
// target in small steps during speech, including a sender clock that
// drifts, and frames are dropped only in pauses.
//
// A consumer that decodes the audio can tell the buffer where the pauses
// are (Buffer.SetQuiet after each played packet). The buffer then changes
// its delay — drops, skips, stretches — only in pauses and at the start of
// a transmission, and does not resume from a late packet, so speech keeps
// its timing; without a pause for WithPauseWait it falls back to the rules
// above.
//
// Push-to-talk: a packet flagged Start begins a transmission, which starts
// playing after a short delay (the learned target, or the initial delay when
// nothing has been learned yet) with no warm-up; a packet flagged End lets
// the buffer drain to idle without concealing after it.
//
// Concurrency: a Buffer is safe for one goroutine calling Push (the network
// reader) and another calling Next (the audio clock) at the same time, and
// for Stats and State from anywhere. All methods take one internal mutex;
// none calls out while holding it: the functions given WithDurationFunc and
// WithFECProbe run in Push before it takes the mutex.
package jitter

import (
	"errors"
	"fmt"
	"time"
)

// DefaultClockRate is the timestamp clock rate (Opus: always 48 kHz).
const DefaultClockRate = 48000

// Packet is one voice packet of a talker.
type Packet struct {
	// Seq is the sender's packet sequence number (wraps at 2^16).
	Seq uint16
	// Timestamp of the packet's first sample, in samples of the clock rate
	// (wraps at 2^32).
	Timestamp uint32
	// Duration in samples; 0 means unknown: the buffer then asks the
	// function given WithDurationFunc, or infers it from the next packet's
	// timestamp, or assumes the previous packet's duration.
	Duration uint32
	// Start marks the first packet of a transmission (push-to-talk press);
	// End marks the last one (release).
	Start, End bool
	// Payload is the encoded audio. The buffer keeps the slice (no copy)
	// until it returns it from Next or drops it: the caller must not modify
	// it after Push.
	Payload []byte
	// Arrival is when the packet was received, on the same clock as the
	// now passed to Next.
	Arrival time.Time
	// Backlog says the receiver read the packet late from a backlog (its
	// own process or thread was stalled), so Arrival is only an upper bound
	// of when it arrived. The buffer plays it as usual but does not learn
	// network delay from it, so a stalled receiver does not raise the
	// target delay. A consumer that runs the ticks it missed should push
	// the backlog first.
	Backlog bool
}

// Action is what the consumer should do for one tick.
type Action uint8

const (
	// Silence: output Decision.Samples samples of silence; nothing to
	// decode.
	Silence Action = iota
	// Play: decode Decision.Packet; it yields Decision.Samples samples.
	Play
	// Conceal: a stretch of audio is missing; run the decoder's loss
	// concealment for Decision.Samples samples.
	Conceal
	// FEC: the audio just before Decision.Packet was lost; recover
	// Decision.Samples samples from that packet's in-band FEC data (for a
	// stretch longer than the packet, libopus conceals the beginning). The
	// same packet is returned again by a later call with Play. Only chosen
	// for a packet the WithFECProbe function says carries FEC data (every
	// packet, without a probe).
	FEC
)

func (a Action) String() string {
	switch a {
	case Silence:
		return "silence"
	case Play:
		return "play"
	case Conceal:
		return "conceal"
	case FEC:
		return "fec"
	}
	return fmt.Sprintf("Action(%d)", uint8(a))
}

// Decision is the buffer's answer for one tick.
type Decision struct {
	Action Action
	// Packet is set for Play and FEC.
	Packet Packet
	// Samples is how much audio this decision covers (clock-rate samples).
	// For Play it is the packet's duration, which may be more than the
	// consumer asked for (a 60 ms packet on a 20 ms tick): the consumer keeps
	// the rest for its next ticks and asks again only when it needs more.
	// Conceal and FEC always cover a multiple of 2.5 ms. With Skip, Samples
	// is the packet's duration less Skip.
	Samples int
	// Skip, for Play and only with WithPartialSkip or WithQuietDrops, is
	// how many samples the consumer may discard from the start of the
	// decoded packet: the buffer shortens a pause by part of a frame, or
	// (WithQuietDrops) by a whole one. A consumer should discard only
	// the quiet lead of it, so that a sound starting in the packet is kept;
	// the buffer measures its delay from when the consumer asks next, so it
	// sees what was kept (SkippedSamples counts what it allowed).
	Skip int
	// Stretch, for Play and only with WithTimeStretch, asks the consumer
	// to lengthen (> 0) or shorten (< 0) the decoded packet's audio by
	// about this many samples with time-scale modification (pitch-period
	// overlap-add), as much as it can do inaudibly: the buffer follows its
	// target delay in small steps during speech rather than by dropping
	// or concealing frames. Samples does not include it; the buffer
	// measures its delay from when the consumer asks next, so it sees what
	// was done and asks again for what was not.
	Stretch int
	// Timestamp is the stream timestamp of the first sample covered
	// (meaningless for Silence while idle).
	Timestamp uint32
}

// State is where the buffer is in a transmission.
type State uint8

const (
	// Idle: no transmission; Next returns silence and ErrEmpty.
	Idle State = iota
	// Buffering: a transmission has begun but its start delay has not
	// passed; Next returns silence and ErrNotStarted.
	Buffering
	// Playing: packets are being played out.
	Playing
	// Draining: the last packet of the transmission (End) has arrived; the
	// rest plays out and then the buffer goes idle without concealing.
	Draining
)

func (s State) String() string {
	switch s {
	case Idle:
		return "idle"
	case Buffering:
		return "buffering"
	case Playing:
		return "playing"
	case Draining:
		return "draining"
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Sentinel errors from Next. With either of them the returned Decision is
// still valid (Silence for the requested samples), so a consumer may ignore
// the error and just output the decision.
var (
	// ErrEmpty: nothing to play, no transmission in progress.
	ErrEmpty = errors.New("jitter: buffer empty, nobody is talking")
	// ErrNotStarted: a transmission has arrived and is waiting out its start
	// delay.
	ErrNotStarted = errors.New("jitter: transmission buffering, not started yet")
	// ErrBadRequest: Next was asked for zero or negative samples.
	ErrBadRequest = errors.New("jitter: Next needs a positive number of samples")
)

// Stats are counters since New. Frame counts count packets; concealment is
// also given in samples because concealment runs in tick-sized pieces.
type Stats struct {
	Received           uint64 // packets pushed, including bad ones
	Played             uint64 // packets played
	FECRecovered       uint64 // FEC decisions (lost stretches recovered from the next packet's FEC data)
	FECUnavailable     uint64 // lost stretches concealed instead because the next packet had no FEC data (WithFECProbe)
	Concealed          uint64 // Conceal decisions
	ConcealedSamples   uint64 // samples produced by concealment
	Late               uint64 // packets that arrived after their playout time and were dropped
	Duplicate          uint64 // packets received twice
	Dropped            uint64 // packets dropped on purpose to shrink the delay
	Overflow           uint64 // packets dropped because the buffer was full
	Invalid            uint64 // packets rejected (empty payload, far out of sequence)
	Resumed            uint64 // times a late packet was played after concealment (delay grew)
	Stretched          uint64 // concealments inserted on purpose to grow the delay to target
	Transmissions      uint64 // transmissions started
	PlayedSamples      uint64 // samples produced by Play decisions
	SkippedSamples     uint64 // samples of lost audio skipped (neither played nor concealed), or of a quiet packet (Decision.Skip), to bring the delay down
	TimeStretched      uint64 // Play decisions with a Stretch (WithTimeStretch)
	TimeStretchSamples int64  // sum of their Stretch (> 0: asked to grow the delay, < 0: to shrink it)
	CurrentDelay       time.Duration
	MeanDelay          time.Duration // mean playout delay over played packets
	TargetDelay        time.Duration
	BufferedPackets    int
	State              State
}

// Option configures a Buffer.
type Option func(*config)

type config struct {
	clockRate    int
	minDelay     time.Duration
	maxDelay     time.Duration
	initialDelay time.Duration
	percentile   float64
	forget       float64
	fec          bool
	durFunc      func([]byte) (int, error)
	fecProbe     func([]byte) bool
	maxConceal   time.Duration
	maxPackets   int
	pauseWait    time.Duration
	partialSkip  bool
	quietDrops   bool
	timeStretch  bool
}

// WithPartialSkip says the consumer honours Decision.Skip (it decodes each
// played packet and drops that many samples from its start). With pause
// hints (SetQuiet), the buffer then shortens a pause by part of a packet
// when it is above target, in 2.5 ms steps, instead of only by whole
// packets: the delay settles within a few milliseconds of the target rather
// than anywhere up to a packet above it (20 ms with 20 ms packets).
func WithPartialSkip(on bool) Option { return func(c *config) { c.partialSkip = on } }

// WithQuietDrops says the consumer decodes every packet it is given with
// Play and honours Decision.Skip by discarding only the quiet lead of the
// skippable part (as internal/playout's mixer does). A packet the buffer
// drops in a pause (see Buffer.SetQuiet) to bring its delay down is then
// returned with Play and Skip covering all of it instead of being dropped
// unheard: a pause's hint is about the audio already played, and a drop
// can fall on the first sound after it (the first word of a transmission
// whose start backlog is being shed). The consumer keeps that sound and
// what follows, and the buffer measures what was kept the next time it is
// asked. Such packets count in Stats.Played and, as an upper bound, in
// SkippedSamples, not in Dropped.
func WithQuietDrops(on bool) Option { return func(c *config) { c.quietDrops = on } }

// WithTimeStretch says the consumer honours Decision.Stretch: it
// lengthens or shortens played audio by time-scale modification, as WebRTC
// NetEQ's accelerate and preemptive expand do. The buffer then follows its
// target during speech in small steps (a request proportional to the
// distance from the target, at most a quarter of a packet), instead of
// dropping frames (only in pauses, with pause hints) or inserting
// concealment (only when far below target); a sender clock that drifts is
// followed continuously. Lost audio and pauses are still skipped to shrink
// for free. With pause hints (Buffer.SetQuiet), an excess under 40 ms
// is squeezed only in pauses (quiet audio, where it is free; also an
// excess smaller than a packet, which a drop could not take), and a packet
// that comes after its slot began to be concealed is resumed from (the
// delay grows) rather than lost. Without
// pause hints, after an outage of up to 0.5 s the buffer resumes from the
// last 200 ms of the burst that ends it, and squeezes that delay back.
// A missing packet whose successor is queued is waited for up to 5 ms
// past its deadline before it is recovered from the successor's FEC data
// or concealed (a packet overtaken by its successor often comes just
// after it); the delay that adds is squeezed back.
func WithTimeStretch(on bool) Option { return func(c *config) { c.timeStretch = on } }

// WithClockRate sets the timestamp clock rate in Hz (default 48000).
func WithClockRate(hz int) Option { return func(c *config) { c.clockRate = hz } }

// WithMinDelay raises the floor of the target delay. Delays are measured on
// the audio timeline (from when a sample would arrive at the lowest transit
// if it could travel alone), so the floor is always at least one frame: a
// packet leaves the sender only after its last sample. A floor of two
// frames keeps the packet after a lost one at hand, so losses are recovered
// with FEC rather than concealed, at the cost of one frame of latency; with
// a floor set (and FEC on) the buffer also stops shortening lost stretches
// partly to bring its delay down, since that would leave too little for
// FEC.
func WithMinDelay(d time.Duration) Option { return func(c *config) { c.minDelay = d } }

// WithMaxDelay sets the ceiling of the target delay and the longest stall
// the buffer rides out before declaring a transmission over (default 1 s).
func WithMaxDelay(d time.Duration) Option { return func(c *config) { c.maxDelay = d } }

// WithInitialDelay sets how long the first packet of a transmission waits
// after its earliest possible arrival while no jitter has been measured yet
// (default 20 ms). Once the buffer has learned the network, transmissions
// start after the learned target delay instead. There is no warm-up: the
// first packet alone starts playout.
func WithInitialDelay(d time.Duration) Option { return func(c *config) { c.initialDelay = d } }

// WithPercentile sets which quantile of the jitter distribution the target
// covers, in (0,1) (default 0.990). The target's jitter is that quantile
// with a margin, from 0 to 50 % above it, that follows the packets
// the buffer loses late: each one raises it by 2 %, each packet played
// lowers it by 2 % of 0.8 %, so that over time 0.8 % of the packets come
// too late, whatever the shape of the network's tail. Packets of a stall
// the buffer does not cover (see the package documentation) and packets
// read late from the receiver's own backlog (Packet.Backlog) do not count.
func WithPercentile(q float64) Option { return func(c *config) { c.percentile = q } }

// WithForgetFactor sets how much old jitter samples keep of their weight
// per 20 ms of audio, in (0,1) (default 0.999, a memory of about 20 s).
func WithForgetFactor(f float64) Option { return func(c *config) { c.forget = f } }

// WithFEC says whether packets may carry in-band FEC (default true). When
// false the buffer never returns FEC decisions. When true, which packets do
// carry it is up to WithFECProbe.
func WithFEC(on bool) Option { return func(c *config) { c.fec = on } }

// WithFECProbe gives the buffer a way to tell from a payload whether the
// packet carries in-band FEC data for the audio just before it (e.g.
// codec.HasFEC for Opus). The buffer then returns an FEC decision only for
// such a packet and conceals a loss before any other (counted in
// Stats.FECUnavailable). Without a probe (or with nil) every packet is
// assumed to carry FEC data. The probe is called from Push, once per
// packet with a non-empty payload, before the buffer takes its lock, so it
// may call the buffer's methods; it must only read the payload, and should
// be quick (codec.HasFEC takes well under a microsecond).
// It is not called when WithFEC(false).
func WithFECProbe(f func(payload []byte) bool) Option {
	return func(c *config) { c.fecProbe = f }
}

// WithDurationFunc gives the buffer a way to read a packet's duration from
// its payload (e.g. codec.PacketSamples for Opus) when Packet.Duration is 0.
// It is called from Push, once per packet with a non-empty payload and no
// Duration, before the buffer takes its lock; it must only read the
// payload.
func WithDurationFunc(f func(payload []byte) (int, error)) Option {
	return func(c *config) { c.durFunc = f }
}

// WithMaxConceal sets how long concealment continues while no packets come
// before the buffer outputs silence instead (default 100 ms).
func WithMaxConceal(d time.Duration) Option { return func(c *config) { c.maxConceal = d } }

// WithPauseWait sets how long the buffer waits for a pause (see
// Buffer.SetQuiet) before it changes its delay mid-speech (default 3 s).
func WithPauseWait(d time.Duration) Option { return func(c *config) { c.pauseWait = d } }

// WithMaxPackets bounds the number of queued packets (default 512); the
// oldest is dropped when full.
func WithMaxPackets(n int) Option { return func(c *config) { c.maxPackets = n } }

func defaultConfig() config {
	return config{
		clockRate:    DefaultClockRate,
		maxDelay:     time.Second,
		initialDelay: 20 * time.Millisecond,
		percentile:   0.990,
		forget:       0.999,
		fec:          true,
		maxConceal:   100 * time.Millisecond,
		maxPackets:   512,
		pauseWait:    3 * time.Second,
	}
}

func (c *config) sanitize() {
	d := defaultConfig()
	if c.clockRate <= 0 {
		c.clockRate = d.clockRate
	}
	if c.maxDelay <= 0 {
		c.maxDelay = d.maxDelay
	}
	if c.minDelay < 0 {
		c.minDelay = 0
	}
	if c.minDelay > c.maxDelay {
		c.minDelay = c.maxDelay
	}
	if c.initialDelay < 0 {
		c.initialDelay = 0
	}
	if !(c.percentile > 0 && c.percentile < 1) {
		c.percentile = d.percentile
	}
	if !(c.forget > 0 && c.forget < 1) {
		c.forget = d.forget
	}
	if c.maxConceal < 0 {
		c.maxConceal = 0
	}
	if c.maxPackets < 2 {
		c.maxPackets = 2
	}
	if c.pauseWait < 0 {
		c.pauseWait = 0
	}
}
