// Package voicefile sends audio from memory (a WAV file's samples) as a
// real-time transmission, and records what a client hears into a WAV file in
// real time. `talk send`, `talk page` and `talk record` are thin wrappers
// around it.
//
// Both sides log the wall-clock time of their sample 0, so that a click's
// position in the sent and recorded files gives the mouth-to-ear delay:
//
//	delay = (click in recording + recording's sample-0 time)
//	      − (click in sent file + sender's sample-0 time)
//
// The sender's sample 0 is "spoken" one frame period before its first frame
// is sent (as a microphone's frame is complete only then), and the
// recorder's sample 0 is played at its first tick, so the figure counts
// frame fill, encoding, the network and relay, the jitter buffer and the
// playout tick.
package voicefile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/playout"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/jitter"
	"github.com/hark-intercom/hark/proto"
)

// Sink takes encoded frames; *client.Transmission implements it.
type Sink interface {
	Send(opus []byte, samples int) error
}

// SendConfig configures Send.
type SendConfig struct {
	// FrameSamples per frame at 48 kHz: 960 (20 ms, default) or 480 (10 ms).
	FrameSamples int
	// FEC turns on Opus in-band FEC (recommended); LossPerc is the loss it
	// plans for (0: codec default). Bitrate 0: codec default.
	FEC      bool
	LossPerc int
	Bitrate  int
	// OnStart is called once with the wall time of sample 0 (see package doc).
	OnStart func(sample0 time.Time)
}

// Pacer paces audio from a file as a live microphone would send it: frame
// n (counting from 0) is due when its audio would have been captured, Lead
// earlier. talk send and the gateway's WAV clips use it. The zero Lead
// sends each frame once its whole period has passed. A Pacer is a value:
// safe to copy, not to share while its owner changes it.
type Pacer struct {
	Start  time.Time     // when sample 0 was "captured"
	Period time.Duration // one frame
	Lead   time.Duration // how far ahead of real time frames may go
}

// Due returns how many frames are due at now (0 before Start-Lead+Period).
// A sender sends frames until it has sent Due: a late tick catches up, so
// the pace stays true over the whole file.
func (p Pacer) Due(now time.Time) int {
	if p.Period <= 0 {
		return 0
	}
	return max(0, int((now.Sub(p.Start)+p.Lead)/p.Period))
}

// Send encodes pcm (48 kHz mono) frame by frame and hands each frame to
// sink in real time, paced by a ticker: frame n goes out at sample0 +
// (n+1) frame periods, as from a live microphone. The last partial frame is
// padded with silence. It does not end the transmission. It returns the
// number of frames sent, and early with ctx's error or sink's.
func Send(ctx context.Context, sink Sink, pcm []int16, cfg SendConfig) (int, error) {
	if cfg.FrameSamples == 0 {
		cfg.FrameSamples = 960
	}
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: cfg.FrameSamples, FEC: cfg.FEC, LossPerc: cfg.LossPerc, Bitrate: cfg.Bitrate})
	if err != nil {
		return 0, err
	}
	n := cfg.FrameSamples
	frames := (len(pcm) + n - 1) / n
	period := time.Duration(n) * time.Second / codec.SampleRate
	frame := make([]int16, n)
	pkt := make([]byte, 0, codec.MaxPacketBytes)

	start := time.Now()
	if cfg.OnStart != nil {
		cfg.OnStart(start)
	}
	pace := Pacer{Start: start, Period: period}
	t := time.NewTicker(period)
	defer t.Stop()
	sent := 0
	for sent < frames {
		select {
		case <-ctx.Done():
			return sent, ctx.Err()
		case now := <-t.C:
			// A late tick (the ticker drops ticks for a slow receiver)
			// sends every frame that is due, so the pace stays true.
			due := min(frames, pace.Due(now))
			for ; sent < due; sent++ {
				clear(frame)
				copy(frame, pcm[sent*n:min(len(pcm), (sent+1)*n)])
				pkt, err = enc.Encode(frame, pkt[:0])
				if err != nil {
					return sent, err
				}
				if err := sink.Send(pkt, n); err != nil {
					return sent, err
				}
			}
		}
	}
	return sent, nil
}

// RecordConfig configures a Recorder.
type RecordConfig struct {
	// FrameSamples per playout tick at 48 kHz: 960 (20 ms, default) or 480.
	FrameSamples int
	// FlushEvery is how often the WAV header is brought up to date, so an
	// interrupted recording stays valid; 0 means 250 ms.
	FlushEvery time.Duration
	// JitterOptions are passed to each talker's jitter buffer.
	JitterOptions []jitter.Option
	// OnStart is called once with the wall time of sample 0 (the first tick).
	OnStart func(sample0 time.Time)
	// OnActive, if set, is called from Run's goroutine whenever the set of
	// audible talkers changes (session ids, sorted; empty when silent).
	OnActive func(talkers []uint32)
	Logger   *slog.Logger
}

// Recorder mixes received voice through playout and writes it to a WAV
// file at 48 kHz mono, one tick per frame period, silence included.
// OnVoice may be called from any goroutine concurrently with Run.
//
// The file is written on an audio clock (tick k plays at sample0 + k
// periods), not in the wall-clock time a tick happens to run. When the
// recorder's process stalls (a loaded machine), the ticks it missed are made
// late, all at once; the packets that reached the machine meanwhile are
// read late too, in a burst. Run lets that burst in before it makes the
// missed ticks (it waits until the network reader has been quiet for a few
// milliseconds, at most a few frames), so the jitter buffer finds the
// packets in time instead of concealing their slots and then dropping or
// resuming from them; and OnVoice marks packets read while the recorder is
// behind its audio clock as a backlog, so the buffer does not take the
// stall for network jitter.
type Recorder struct {
	cfg    RecordConfig
	mix    *playout.Mixer
	w      *wav.Writer
	period time.Duration

	// Shared by OnVoice and Run:
	nextTick atomic.Int64  // wall time (ns) the next tick is due on the audio clock; 0 before Run
	voice    chan struct{} // one-slot signal: OnVoice pushed a packet
}

// NewRecorder returns a recorder writing to w (48 kHz, mono, 16-bit).
func NewRecorder(w *wav.Writer, cfg RecordConfig) *Recorder {
	if cfg.FrameSamples == 0 {
		cfg.FrameSamples = 960
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = 250 * time.Millisecond
	}
	return &Recorder{
		cfg:    cfg,
		w:      w,
		mix:    playout.New(playout.Config{FrameSamples: cfg.FrameSamples, JitterOptions: cfg.JitterOptions, Logger: cfg.Logger}),
		period: time.Duration(cfg.FrameSamples) * time.Second / codec.SampleRate,
		voice:  make(chan struct{}, 1),
	}
}

// OnVoice takes a frame from client.Config.OnVoice. It copies opus and
// never blocks for long.
func (r *Recorder) OnVoice(h proto.VoiceHeader, opus []byte, arrival time.Time) {
	// A packet read more than a tick after the audio clock's next tick was
	// due comes out of a backlog: the recorder's process was stalled, and
	// the packet's real arrival is unknown (only that it was not later).
	next := r.nextTick.Load()
	backlog := next != 0 && arrival.UnixNano() > next+int64(r.period)
	r.mix.Push(h.Sender, jitter.Packet{
		Seq: h.Seq, Timestamp: h.Timestamp, Duration: uint32(h.Duration),
		Start: h.Flags&proto.FlagStart != 0, End: h.Flags&proto.FlagEnd != 0,
		Payload: append([]byte(nil), opus...), Arrival: arrival, Backlog: backlog,
	})
	select {
	case r.voice <- struct{}{}:
	default:
	}
}

// Catching up after a stall, Run first waits until no packet has come for
// settleQuiet (the burst read after the stall is in), at most settleMax.
const (
	settleQuiet = 3 * time.Millisecond
	settleMax   = 60 * time.Millisecond
)

// settle waits until OnVoice has been quiet for settleQuiet, at most
// settleMax or until ctx ends.
func (r *Recorder) settle(ctx context.Context) {
	quiet := time.NewTimer(settleQuiet)
	defer quiet.Stop()
	limit := time.NewTimer(settleMax)
	defer limit.Stop()
	for {
		select {
		case <-r.voice:
			quiet.Reset(settleQuiet)
		case <-quiet.C:
			return
		case <-limit.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// Stats returns the mixer's counters (jitter buffers and decoding).
func (r *Recorder) Stats() playout.Stats { return r.mix.Stats() }

// Run records until ctx ends or, if limit > 0, limit of audio is written.
// Ticks come from a ticker; when ticks are late, every tick that is due is
// made, so the file keeps real time. Tick k plays at sample0 + k periods. The WAV header is flushed every
// FlushEvery and at the end (the caller closes the writer). It returns the
// samples written; ctx ending is not an error.
func (r *Recorder) Run(ctx context.Context, limit time.Duration) (int64, error) {
	n := r.cfg.FrameSamples
	period := r.period
	maxTicks := int64(-1)
	if limit > 0 {
		maxTicks = (int64(limit/time.Microsecond)*codec.SampleRate/1e6 + int64(n) - 1) / int64(n)
	}
	out := make([]int16, n)
	var prev []uint32
	t := time.NewTicker(period)
	defer t.Stop()
	flush := time.NewTicker(r.cfg.FlushEvery)
	defer flush.Stop()

	start := time.Now()
	if r.cfg.OnStart != nil {
		r.cfg.OnStart(start)
	}
	var ticks int64
	defer r.nextTick.Store(0)
	tick := func(now time.Time) error {
		active := r.mix.Tick(now, out)
		if err := r.w.Write(out); err != nil {
			return fmt.Errorf("writing the recording: %w", err)
		}
		ticks++
		r.nextTick.Store(start.Add(time.Duration(ticks) * period).UnixNano())
		if r.cfg.OnActive != nil && !equal(prev, active) {
			prev = append(prev[:0], active...)
			r.cfg.OnActive(append([]uint32(nil), active...))
		}
		return nil
	}
	if err := tick(start); err != nil {
		return 0, err
	}
	for maxTicks < 0 || ticks < maxTicks {
		select {
		case <-ctx.Done():
			return ticks * int64(n), r.w.Flush()
		case <-flush.C:
			if err := r.w.Flush(); err != nil {
				return ticks * int64(n), fmt.Errorf("writing the recording: %w", err)
			}
		case <-t.C:
			// The ticker's own time may be stale after a stall: ask the
			// clock.
			due := int64(time.Since(start)/period) + 1
			if due > ticks+1 {
				// Behind the audio clock: the process was stalled. Let
				// the packets that queued up meanwhile in first.
				r.settle(ctx)
				due = int64(time.Since(start)/period) + 1
			}
			if maxTicks >= 0 {
				due = min(due, maxTicks)
			}
			for ticks < due {
				// Each tick is stamped with its place on the audio
				// clock (sample0 + ticks × period), as a sound card's
				// would be, not with the time it is made: ticks made
				// late after a stall must not look to the jitter
				// buffer as if the audio clock had jumped (it would
				// drop packets, then conceal to make up).
				if err := tick(start.Add(time.Duration(ticks) * period)); err != nil {
					return ticks * int64(n), err
				}
			}
		}
	}
	if err := r.w.Flush(); err != nil && !errors.Is(err, wav.ErrClosed) {
		return ticks * int64(n), err
	}
	return ticks * int64(n), nil
}

func equal(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
