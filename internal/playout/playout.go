// Package playout turns talkers' voice packets into PCM: one jitter buffer
// and one decoder per talker, a PCM FIFO per talker so packet durations
// (10, 20, 60 ms) need not match the playout tick, time-scale
// modification of each talker's decoded audio where its jitter buffer
// asks for it (a pitch period removed or repeated at a time, WSOLA: see
// stretch.go), and a mixer that sums talkers with soft clipping.
//
// Two ways to use it:
//
//   - Tick mixes everyone into one frame (talk record, the device player).
//   - TickTalkers returns each talker's own PCM for the tick, decoded once,
//     so a fan-out (the gateway) can send the same frames to many listeners
//     or mix per listener with Mix (for example leaving out the listener's
//     own voice).
//
// Concurrency: Push may be called from any goroutine (typically the network
// reader) concurrently with the ticking goroutine. Tick and TickTalkers must
// be called from one goroutine at a time (the audio clock). Stats is safe
// from anywhere.
package playout

import (
	"cmp"
	"log/slog"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/jitter"
)

// Config configures New.
type Config struct {
	// FrameSamples is the number of 48 kHz samples per tick (480 = 10 ms,
	// 960 = 20 ms). Required.
	FrameSamples int
	// NewDecoder makes one decoder per talker; nil means codec.NewDecoder.
	NewDecoder func() (codec.FrameDecoder, error)
	// JitterOptions are passed to every talker's jitter.New, after the
	// mixer's own defaults, which read packet durations with
	// codec.PacketSamples and tell from codec.HasFEC whether a packet
	// carries in-band FEC data (so a loss before a packet without it is
	// concealed and counted as such, not as FEC-recovered).
	// jitter.WithFECProbe(nil) assumes every packet does. The mixer honours
	// Decision.Skip (it drops the quiet lead of what may be skipped), and
	// gives jitter.WithQuietDrops(true): a packet dropped in a pause is
	// decoded, and a sound starting in it is kept. jitter.WithPartialSkip(true)
	// may be given; it is not on by default:
	// with a sound card whose callbacks come in bursts (miniaudio's null
	// backend) it took away the slack that hid them, and hundreds of
	// packets a minute came due before they arrived, because the buffer's
	// target learns network delay, not the consumer's lateness.
	JitterOptions []jitter.Option
	// IdleTimeout: a talker that has sent nothing for this long and whose
	// buffer is idle is forgotten (decoder freed). 0 means 30 s.
	IdleTimeout time.Duration
	// Logger; nil discards.
	Logger *slog.Logger
	// NoTimeStretch turns off time-scale modification: by default every
	// talker's jitter buffer is given jitter.WithTimeStretch(true) and the
	// mixer lengthens or shortens the decoded audio by a pitch period at a
	// time where it asks (see stretch.go), so the delay follows the
	// buffer's target in small steps during speech; without it the
	// buffer drops or conceals whole frames.
	NoTimeStretch bool
	// NoPauseHints turns off the pause hints the mixer gives each jitter
	// buffer (jitter.Buffer.SetQuiet, from the level of every decoded
	// packet): without them the buffers change their delay mid-speech too.
	NoPauseHints bool
}

// TalkerFrame is one talker's audio for one tick.
type TalkerFrame struct {
	Talker uint32
	// PCM has Config.FrameSamples samples. It belongs to the mixer and is
	// valid until the next Tick or TickTalkers call.
	PCM []int16
	// Active is true when any of the tick's audio came from the talker's
	// packets or their concealment (false for pure silence).
	Active bool
	// Idle is true when the talker has nothing more to play after this
	// tick: its jitter buffer is idle (no transmission, or the last one
	// has played out after its end packet or been given up after a
	// stall) and none of its decoded audio is waiting. A consumer that
	// forwards each talker as a stream of its own (the gateway) ends the
	// stream at the first Idle frame, and may stop ticking while every
	// talker is Idle, as long as it ticks again after the next Push.
	Idle bool
}

// Stats aggregates every talker's jitter buffer plus the mixer's own
// counters.
type Stats struct {
	Talkers        int    // talkers currently known
	TalkersAdded   uint64 // talkers ever created
	TalkersRemoved uint64 // talkers forgotten after IdleTimeout
	DecodeErrors   uint64 // packets that failed to decode (concealed instead)
	DecoderErrors  uint64 // failures to create a decoder (packets dropped)
	// Time-scale modification carried out (see Config.NoTimeStretch):
	// pitch periods removed or inserted, and the samples they came to
	// (> 0: inserted, the delay grew).
	TimeStretchOps     uint64
	TimeStretchSamples int64
	// Jitter sums the counters of all talkers' buffers, current and
	// removed. Its delay fields are the mean over current talkers.
	Jitter jitter.Stats
}

// Mixer decodes and mixes several talkers. Create it with New.
type Mixer struct {
	cfg Config
	log *slog.Logger

	mu sync.Mutex
	// Guarded by mu:
	talkers map[uint32]*talker
	stats   Stats
	retired jitter.Stats // counters of removed talkers

	// Used only by the ticking goroutine:
	order     []*talker
	frames    []TalkerFrame
	scratch   []int16
	activeIDs []uint32
}

type talker struct {
	id  uint32
	buf *jitter.Buffer

	mu       sync.Mutex // guards lastPush
	lastPush time.Time

	// Used only by the ticking goroutine:
	dec       codec.FrameDecoder
	level     float64 // recent speech level (RMS, full scale 1), for pause hints
	decay     float64 // how much level keeps over decayLen samples
	decayLen  int
	tsm       stretcher
	fifo      []int16
	rd        int // read offset in fifo
	audioLeft int // samples at the end of fifo that are talker audio (not silence)
	out       []int16
}

// New returns a mixer. It panics if cfg.FrameSamples is not positive (a
// programming error).
func New(cfg Config) *Mixer {
	if cfg.FrameSamples <= 0 {
		panic("playout: Config.FrameSamples must be positive")
	}
	if cfg.NewDecoder == nil {
		cfg.NewDecoder = func() (codec.FrameDecoder, error) { return codec.NewDecoder() }
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 30 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Mixer{
		cfg:     cfg,
		log:     log,
		talkers: make(map[uint32]*talker),
		scratch: make([]int16, codec.MaxPacketSamples),
	}
}

// Push hands a received packet of a talker to that talker's jitter buffer,
// creating the talker on first use. The mixer keeps p.Payload until it has
// been decoded: the caller must not modify it afterwards.
func (m *Mixer) Push(talkerID uint32, p jitter.Packet) {
	m.mu.Lock()
	t := m.talkers[talkerID]
	m.mu.Unlock()
	if t == nil {
		// Create outside the lock: NewDecoder is caller code.
		dec, err := m.cfg.NewDecoder()
		if err != nil {
			m.mu.Lock()
			m.stats.DecoderErrors++
			m.mu.Unlock()
			m.log.Error("cannot create an audio decoder for a talker; their voice is dropped", "talker", talkerID, "err", err)
			return
		}
		opts := []jitter.Option{jitter.WithDurationFunc(codec.PacketSamples), jitter.WithFECProbe(codec.HasFEC), jitter.WithQuietDrops(true)}
		if !m.cfg.NoTimeStretch {
			opts = append(opts, jitter.WithTimeStretch(true))
		}
		opts = append(opts, m.cfg.JitterOptions...)
		nt := &talker{id: talkerID, buf: jitter.New(opts...), dec: dec,
			fifo: make([]int16, 0, 2*codec.MaxPacketSamples+m.cfg.FrameSamples+2*tsmMaxLag),
			out:  make([]int16, m.cfg.FrameSamples)}
		m.mu.Lock()
		if t = m.talkers[talkerID]; t == nil {
			t = nt
			m.talkers[talkerID] = t
			m.stats.TalkersAdded++
		}
		m.mu.Unlock()
	}
	t.mu.Lock()
	if p.Arrival.After(t.lastPush) {
		t.lastPush = p.Arrival
	}
	t.mu.Unlock()
	t.buf.Push(p)
}

// Tick mixes one tick of audio (len(out) must be Config.FrameSamples) of
// every talker into out and returns the talkers that were audible in it,
// sorted. out is all zeros when nobody talks. The returned slice is reused
// by the next call.
func (m *Mixer) Tick(now time.Time, out []int16) (active []uint32) {
	return m.TickGains(now, out, nil)
}

// TickGains is Tick with a volume per talker (see [MixGains]). A talker
// at volume 0 is still reported active when it talks.
func (m *Mixer) TickGains(now time.Time, out []int16, gain func(talker uint32) float32) (active []uint32) {
	frames := m.TickTalkers(now)
	MixGains(out, frames, gain)
	active = m.activeIDs[:0]
	for _, f := range frames {
		if f.Active {
			active = append(active, f.Talker)
		}
	}
	m.activeIDs = active
	return active
}

// TickTalkers advances every talker by one tick and returns each talker's
// PCM for it (sorted by talker id). The slice and the PCM belong to the
// mixer and are valid until the next call.
func (m *Mixer) TickTalkers(now time.Time) []TalkerFrame {
	m.order = m.order[:0]
	m.mu.Lock()
	for _, t := range m.talkers {
		m.order = append(m.order, t)
	}
	m.mu.Unlock()
	slices.SortFunc(m.order, func(a, b *talker) int { return cmp.Compare(a.id, b.id) })

	m.frames = m.frames[:0]
	for _, t := range m.order {
		active := m.fill(t, now)
		idle := t.audioLeft == 0 && t.buf.State() == jitter.Idle
		m.frames = append(m.frames, TalkerFrame{Talker: t.id, PCM: t.out, Active: active, Idle: idle})
	}
	m.reap(now)
	return m.frames
}

// fill makes sure t's FIFO holds a tick of audio, then moves one tick into
// t.out. It reports whether any of it was talker audio.
func (m *Mixer) fill(t *talker, now time.Time) bool {
	n := m.cfg.FrameSamples
	active, stretched := false, false
	for guard := 0; len(t.fifo)-t.rd < n && guard < 64; guard++ {
		need := n - (len(t.fifo) - t.rd)
		d, _ := t.buf.Next(now, need)
		pcm, audio := m.decode(t, d)
		t.compact()
		t.fifo = append(t.fifo, pcm...)
		if audio {
			t.audioLeft = len(t.fifo) - t.rd
		}
		if d.Action == jitter.Play {
			t.tsm.request(d.Stretch)
		}
		if !stretched && t.tsm.pending() {
			// At most one pitch period per tick.
			var k int
			t.fifo, k = t.tsm.apply(t.fifo, t.rd, 32768*max(quietFloor, quietRatio*t.level))
			if k != 0 {
				stretched = true
				t.audioLeft = max(0, t.audioLeft+k)
				m.mu.Lock()
				m.stats.TimeStretchOps++
				m.stats.TimeStretchSamples += int64(k)
				m.mu.Unlock()
			}
		}
	}
	avail := len(t.fifo) - t.rd
	if avail < n { // defensive: never happens unless decisions are empty
		t.fifo = append(t.fifo, make([]int16, n-avail)...)
	}
	copy(t.out, t.fifo[t.rd:t.rd+n])
	t.rd += n
	if t.audioLeft > 0 {
		active = true
		t.audioLeft = max(0, t.audioLeft-n)
	}
	return active
}

func (t *talker) compact() {
	if t.rd > 0 && t.rd >= len(t.fifo)/2 {
		k := copy(t.fifo, t.fifo[t.rd:])
		t.fifo = t.fifo[:k]
		t.rd = 0
	}
}

// decode carries out one decision and returns its PCM (in m.scratch) and
// whether it is talker audio.
func (m *Mixer) decode(t *talker, d jitter.Decision) ([]int16, bool) {
	s := min(max(d.Samples, 0), len(m.scratch))
	pcm := m.scratch[:s]
	switch d.Action {
	case jitter.Play:
		got, err := t.dec.Decode(d.Packet.Payload, m.scratch)
		if err != nil {
			m.countDecodeError(t, err)
			if _, err := t.dec.DecodePLC(pcm); err != nil {
				clear(pcm)
			}
			return pcm, true
		}
		// The buffer may shorten a pause by the start of this packet
		// (d.Skip); drop only its quiet lead, so that a sound starting in
		// it is kept (the buffer sees what was kept by when we next ask).
		skip := t.quietLead(m.scratch[:min(d.Skip, got)])
		if !m.cfg.NoPauseHints {
			t.buf.SetQuiet(t.quiet(m.scratch[:got]))
		}
		return m.scratch[skip:got], true
	case jitter.FEC:
		if _, err := t.dec.DecodeFEC(d.Packet.Payload, pcm); err != nil {
			m.countDecodeError(t, err)
			clear(pcm)
		}
		return pcm, true
	case jitter.Conceal:
		if _, err := t.dec.DecodePLC(pcm); err != nil {
			clear(pcm)
		}
		return pcm, true
	default:
		clear(pcm)
		return pcm, false
	}
}

// Pause detection: a decoded packet is quiet when its RMS is below
// quietRatio of the talker's recent speech level (a peak that halves every
// levelHalfLife) or below quietFloor (-60 dBFS).
const (
	quietRatio    = 0.1 // -20 dB
	quietFloor    = 0.001
	levelHalfLife = 2 * time.Second
)

// quiet classifies a decoded packet's PCM (48 kHz) as a pause or speech and
// updates the talker's level.
func (t *talker) quiet(pcm []int16) bool {
	if len(pcm) == 0 {
		return true
	}
	rms := math.Sqrt(float64(dot16(pcm, pcm))/float64(len(pcm))) / 32768
	if len(pcm) != t.decayLen { // the same packet duration as last time, usually
		dur := time.Duration(len(pcm)) * time.Second / codec.SampleRate
		t.decay, t.decayLen = math.Exp2(-float64(dur)/float64(levelHalfLife)), len(pcm)
	}
	t.level = max(rms, t.level*t.decay)
	return rms < quietFloor || rms < quietRatio*t.level
}

// quietLead returns how many leading samples of pcm may be dropped: those
// before the first one above the pause threshold (see quiet), less 2.5 ms
// kept before it.
func (t *talker) quietLead(pcm []int16) int {
	thr := 32768 * max(quietFloor, quietRatio*t.level)
	for i, v := range pcm {
		if math.Abs(float64(v)) > thr {
			return max(0, i-codec.SampleRate/400)
		}
	}
	return len(pcm)
}

func (m *Mixer) countDecodeError(t *talker, err error) {
	m.mu.Lock()
	m.stats.DecodeErrors++
	first := m.stats.DecodeErrors == 1
	m.mu.Unlock()
	if first {
		m.log.Warn("a voice packet could not be decoded and was concealed", "talker", t.id, "err", err)
	}
}

// reap forgets talkers that have been silent longer than IdleTimeout.
func (m *Mixer) reap(now time.Time) {
	for _, t := range m.order {
		t.mu.Lock()
		last := t.lastPush
		t.mu.Unlock()
		if now.Sub(last) < m.cfg.IdleTimeout || t.buf.State() != jitter.Idle {
			continue
		}
		st := t.buf.Stats()
		m.mu.Lock()
		if m.talkers[t.id] == t {
			delete(m.talkers, t.id)
			m.stats.TalkersRemoved++
			addStats(&m.retired, st)
		}
		m.mu.Unlock()
	}
}

// Stats returns aggregated counters.
func (m *Mixer) Stats() Stats {
	m.mu.Lock()
	s := m.stats
	s.Talkers = len(m.talkers)
	s.Jitter = m.retired
	list := make([]*talker, 0, len(m.talkers))
	for _, t := range m.talkers {
		list = append(list, t)
	}
	m.mu.Unlock()
	var cur, mean, target time.Duration
	for _, t := range list {
		st := t.buf.Stats()
		addStats(&s.Jitter, st)
		cur += st.CurrentDelay
		mean += st.MeanDelay
		target += st.TargetDelay
		s.Jitter.BufferedPackets += st.BufferedPackets
	}
	if n := time.Duration(len(list)); n > 0 {
		s.Jitter.CurrentDelay, s.Jitter.MeanDelay, s.Jitter.TargetDelay = cur/n, mean/n, target/n
	}
	return s
}

// TalkerStats returns one talker's jitter buffer stats.
func (m *Mixer) TalkerStats(id uint32) (jitter.Stats, bool) {
	m.mu.Lock()
	t := m.talkers[id]
	m.mu.Unlock()
	if t == nil {
		return jitter.Stats{}, false
	}
	return t.buf.Stats(), true
}

func addStats(dst *jitter.Stats, s jitter.Stats) {
	dst.Received += s.Received
	dst.Played += s.Played
	dst.FECRecovered += s.FECRecovered
	dst.FECUnavailable += s.FECUnavailable
	dst.Concealed += s.Concealed
	dst.ConcealedSamples += s.ConcealedSamples
	dst.Late += s.Late
	dst.Duplicate += s.Duplicate
	dst.Dropped += s.Dropped
	dst.Overflow += s.Overflow
	dst.Invalid += s.Invalid
	dst.Resumed += s.Resumed
	dst.Stretched += s.Stretched
	dst.Transmissions += s.Transmissions
	dst.PlayedSamples += s.PlayedSamples
	dst.SkippedSamples += s.SkippedSamples
	dst.TimeStretched += s.TimeStretched
	dst.TimeStretchSamples += s.TimeStretchSamples
}

// Mix sums the PCM of frames into out (len(out) samples; frames shorter
// than out count as silence past their end), skipping talkers for which skip
// returns true (skip may be nil), with soft clipping. Frames that are not
// Active are still added (they are silence or fading concealment).
func Mix(out []int16, frames []TalkerFrame, skip func(talker uint32) bool) {
	var gain func(uint32) float32
	if skip != nil {
		gain = func(id uint32) float32 {
			if skip(id) {
				return 0
			}
			return 1
		}
	}
	MixGains(out, frames, gain)
}

// MixGains is [Mix] with a volume per talker: gain returns the factor for a
// talker's PCM (1 as received, 0 muted, up to [MaxGain]); gain may be nil
// (every talker at 1).
func MixGains(out []int16, frames []TalkerFrame, gain func(talker uint32) float32) {
	if len(frames) == 1 && (gain == nil || gain(frames[0].Talker) == 1) {
		k := copy(out, frames[0].PCM)
		clear(out[k:])
		return
	}
	var acc [1024]int32
	for off := 0; off < len(out); off += len(acc) {
		seg := out[off:min(off+len(acc), len(out))]
		a := acc[:len(seg)]
		clear(a)
		for _, f := range frames {
			g := float32(1)
			if gain != nil {
				g = min(max(gain(f.Talker), 0), MaxGain)
			}
			if g == 0 || off >= len(f.PCM) {
				continue
			}
			src := f.PCM[off:min(off+len(seg), len(f.PCM))]
			if g == 1 {
				for i, v := range src {
					a[i] += int32(v)
				}
				continue
			}
			gi := int32(g * 1024) // Q10: exact for 0.25 steps, fine for volume
			for i, v := range src {
				a[i] += int32(v) * gi >> 10
			}
		}
		for i, v := range a {
			seg[i] = softClip(v)
		}
	}
}

// MaxGain is the largest per-talker volume factor [MixGains] applies.
const MaxGain = 4

// softClip is linear up to ±24576 and bends smoothly toward ±32767 above.
func softClip(v int32) int16 {
	const knee = 24576
	const room = 32767 - knee
	switch {
	case v > knee:
		x := int64(v - knee)
		return int16(knee + x*room/(x+room))
	case v < -knee:
		x := int64(-v - knee)
		return int16(-(knee + x*room/(x+room)))
	}
	return int16(v)
}
