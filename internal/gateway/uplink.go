package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/client/voicefile"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/resample"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/internal/webm"
)

// Uplink (browser to relay) state. Everything here is owned by the session's
// loop goroutine.

const (
	upFrame = 960 // 20 ms: the frame the gateway encodes
	// maxHeldSamples bounds audio kept while the floor request is pending (2 s).
	maxHeldSamples = 2 * codec.SampleRate
	// floorWait is how long a transmission waits for the relay's answer.
	floorWait = 5 * time.Second
	// endWait bounds the end of a transmission (flushing its frames).
	endWait = 2 * time.Second
)

type txState int

const (
	txWaiting txState = iota // floor requested
	txGranted                // on the air
	txDenied                 // refused: audio is discarded
)

// heldFrame is an encoded frame waiting for the floor.
type heldFrame struct {
	opus    []byte
	samples int
}

// transmission is one press of the talk button (or one WAV clip).
type transmission struct {
	format  string // "pcm", "opus", "webm", "ogg", "mp4", "clip"
	page    bool   // to every channel (page role)
	state   txState
	started time.Time
	rtx     RelayTx // set on the grant
	ended   bool    // the browser released; finish after the grant
	held    []heldFrame
	heldLen int

	rate     int              // PCM input rate
	rs       *resample.Stream // nil at 48 kHz
	pcm      []int16          // 48 kHz samples not yet a whole frame
	demux    webm.Demuxer
	clip     []int16         // remaining clip samples (format "clip")
	clipPace voicefile.Pacer // zero until the first tick after the grant
	clipSent int             // frames of the clip sent
	clipD    time.Duration

	pace     pacer          // media packets waiting for their time (formats "webm", "ogg", "mp4")
	dropped  int            // samples the demuxer found missing so far (MP4)
	dec      *codec.Decoder // for frames too large to forward, made on first use
	rePCM    []int16        // re-encoded samples not yet a whole frame
	lossTold bool           // the page was told that audio was lost
}

// encoder returns the session's Opus encoder, creating it on first use.
func (s *session) encoder() (*codec.Encoder, error) {
	if s.enc == nil {
		enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: upFrame, FEC: true})
		if err != nil {
			return nil, err
		}
		s.enc = enc
	}
	return s.enc, nil
}

// startTx opens a transmission and asks the relay for the floor.
func (s *session) startTx(format string, rate int, page, echo bool, to string) error {
	if s.tx != nil {
		s.finishTx()
	}
	s.stopReplay("You are talking.")
	if s.channel.Name == "" {
		return errors.New("join a channel before talking")
	}
	tx := &transmission{format: format, started: time.Now(), rate: rate, page: page}
	switch format {
	case "pcm":
		if rate == 0 {
			tx.rate = codec.SampleRate
		}
		if tx.rate < 8000 || tx.rate > 192000 {
			return fmt.Errorf("a sample rate of %d Hz is not supported (8000 to 192000)", rate)
		}
		if tx.rate != codec.SampleRate {
			rs, err := resample.New(tx.rate, codec.SampleRate)
			if err != nil {
				return err
			}
			tx.rs = rs
		}
	case "webm", "ogg", "mp4":
		// The demuxer recognises the container from its first bytes; MP4 is
		// Safari's (fragmented, Opus; AAC is refused, see webm.MP4).
		tx.demux = webm.New(webm.Config{MaxElementSize: 64 << 10})
	case "clip", "opus":
	default:
		return fmt.Errorf("unknown audio format %q (want pcm, opus, webm, ogg or mp4)", format)
	}
	s.tx = tx
	s.transmitting.Store(true)
	s.do(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, floorWait)
		var rtx RelayTx
		var err error
		if echo {
			rtx, err = s.echoTx(ctx)
		} else if to != "" {
			rtx, err = s.callTx(ctx, to)
		} else if page {
			rtx, err = s.relay.Page(ctx)
		} else {
			rtx, err = s.relay.Talk(ctx)
		}
		cancel()
		s.post(func() { s.talkAnswer(tx, rtx, err) })
	})
	return nil
}

// talkAnswer handles the relay's answer to a floor request (on the loop).
func (s *session) talkAnswer(tx *transmission, rtx RelayTx, err error) {
	if s.tx != tx || tx.state != txWaiting {
		// Given up meanwhile: give the floor back at once.
		if rtx != nil {
			s.endRelayTx(rtx)
		}
		return
	}
	if err != nil {
		var busy *client.BusyError
		if errors.As(err, &busy) {
			s.floorDenied(busy.Holder, busy.Reason)
			return
		}
		s.tx = nil
		s.transmitting.Store(false)
		if code, text, ok := callRefused(err); ok {
			s.sendError(code, text)
		} else if errors.Is(err, context.DeadlineExceeded) {
			s.sendError("floor", "The intercom did not answer the request to talk. Try again.")
		} else {
			s.sendError("floor", "You cannot talk right now: "+err.Error())
		}
		s.sendJSON(map[string]any{"t": "floor", "granted": false})
		return
	}
	s.floorGranted(rtx)
}

// pcmIn takes PCM samples from the browser.
func (s *session) pcmIn(samples []int16) {
	tx := s.tx
	if tx == nil || tx.format != "pcm" || tx.ended {
		s.srv.m.voiceDropped.WithLabelValues("not_talking").Inc()
		return
	}
	if tx.state == txDenied {
		return
	}
	if tx.rs != nil {
		tx.pcm = tx.rs.ProcessInt16(tx.pcm, samples)
	} else {
		tx.pcm = append(tx.pcm, samples...)
	}
	s.encodeFrames(tx, false)
}

// encodeFrames encodes whole 20 ms frames of tx.pcm; with final, pads the
// rest with silence.
func (s *session) encodeFrames(tx *transmission, final bool) {
	enc, err := s.encoder()
	if err != nil {
		s.log.Error("cannot create an Opus encoder", "err", err)
		return
	}
	var out [codec.MaxPacketBytes]byte
	for len(tx.pcm) >= upFrame || (final && len(tx.pcm) > 0) {
		if len(tx.pcm) < upFrame {
			tx.pcm = append(tx.pcm, make([]int16, upFrame-len(tx.pcm))...)
		}
		pkt, err := enc.Encode(tx.pcm[:upFrame], out[:0])
		tx.pcm = tx.pcm[upFrame:]
		if err != nil {
			s.srv.m.voiceDropped.WithLabelValues("encode").Inc()
			continue
		}
		s.voiceOut(tx, pkt, upFrame)
	}
	if len(tx.pcm) == 0 {
		tx.pcm = nil // let a long transmission's buffer go
	}
}

// opusIn takes one Opus packet encoded by the browser (WebCodecs) and
// forwards it untouched.
func (s *session) opusIn(pkt []byte) error {
	tx := s.tx
	if tx == nil || tx.format != "opus" || tx.ended {
		s.srv.m.voiceDropped.WithLabelValues("not_talking").Inc()
		return nil
	}
	if tx.state == txDenied {
		return nil
	}
	n := webm.OpusSamples(pkt)
	if n == 0 || n%120 != 0 || n > 2880 {
		s.srv.m.voiceDropped.WithLabelValues("bad_opus").Inc()
		return errors.New("an audio message was not a valid Opus packet of up to 60 ms")
	}
	// WebCodecs hands packets over as they are made: no pacing.
	s.fitOpus(tx, pkt, n, 0, func(p []byte, samples int, _ int64) { s.voiceOut(tx, p, samples) })
	return nil
}

// mediaIn takes WebM/Ogg bytes from the browser.
func (s *session) mediaIn(b []byte) error {
	tx := s.tx
	if tx == nil || tx.demux == nil || tx.ended {
		s.srv.m.voiceDropped.WithLabelValues("not_talking").Inc()
		return nil
	}
	pkts, err := tx.demux.Push(b)
	if d, ok := tx.demux.(interface{ Dropped() int }); ok {
		for ; tx.dropped < d.Dropped(); tx.dropped++ {
			s.lostAudio(tx, "media_missing", "the recording announced audio it did not contain")
		}
	}
	for _, p := range pkts {
		if tx.state == txDenied {
			break
		}
		if p.Samples == 0 || p.Samples%120 != 0 {
			s.lostAudio(tx, "bad_opus", "a packet of the recording was not valid Opus")
			continue
		}
		// Paced by the packets' own timestamps (see pacer).
		s.fitOpus(tx, p.Data, p.Samples, p.Timestamp, func(p []byte, samples int, ts int64) { s.pace(tx, p, samples, ts) })
	}
	if err != nil {
		s.srv.m.badInput.WithLabelValues("media").Inc()
		tx.demux = nil
		return fmt.Errorf("the recording could not be read, so the rest of this transmission is dropped: %v", err)
	}
	return nil
}

// clipIn decodes a WAV clip and starts sending it.
func (s *session) clipIn(b []byte) error {
	if s.tx != nil && !s.tx.ended {
		return errors.New("release the talk button before sending a clip")
	}
	a, err := wav.DecodeLimit(bytes.NewReader(b), s.srv.cfg.MaxClipBytes)
	if err != nil {
		return fmt.Errorf("the clip is not a WAV file the gateway can read: %v", err)
	}
	pcm, err := wav.ToMono48k(a)
	if err != nil {
		return fmt.Errorf("the clip could not be converted: %v", err)
	}
	if len(pcm) == 0 {
		return errors.New("the clip holds no audio")
	}
	if err := s.startTx("clip", codec.SampleRate, false, false, ""); err != nil {
		return err
	}
	s.tx.clip = pcm
	s.tx.clipD = time.Duration(len(pcm)) * time.Second / codec.SampleRate
	return nil
}

// clipTick sends the clip frames that are due (voicefile.Pacer, as talk
// send paces a file), 60 ms ahead of real time.
func (s *session) clipTick(now time.Time) {
	tx := s.tx
	if tx == nil || tx.format != "clip" || tx.state != txGranted {
		return
	}
	if tx.clipPace.Start.IsZero() {
		// talk send's pacing, 60 ms ahead: a clip is a file, not a microphone.
		tx.clipPace = voicefile.Pacer{Start: now, Period: upFrame * time.Second / codec.SampleRate, Lead: 60 * time.Millisecond}
	}
	for due := tx.clipPace.Due(now); tx.clipSent < due && len(tx.clip) > 0; tx.clipSent++ {
		n := min(upFrame, len(tx.clip))
		tx.pcm = append(tx.pcm, tx.clip[:n]...)
		tx.clip = tx.clip[n:]
		s.encodeFrames(tx, len(tx.clip) == 0)
	}
	if len(tx.clip) == 0 {
		s.sendJSON(map[string]any{"t": "clip", "text": fmt.Sprintf("Sent your clip (%.1f s).", tx.clipD.Seconds())})
		s.finishTx()
	}
}

// voiceOut sends (or holds, before the grant) one encoded frame. pkt is copied.
func (s *session) voiceOut(tx *transmission, pkt []byte, samples int) {
	switch tx.state {
	case txDenied:
		return
	case txWaiting:
		if tx.heldLen+samples > maxHeldSamples {
			s.srv.m.voiceDropped.WithLabelValues("floor_wait").Inc()
			tx.heldLen -= tx.held[0].samples
			tx.held = tx.held[1:]
		}
		tx.held = append(tx.held, heldFrame{opus: append([]byte(nil), pkt...), samples: samples})
		tx.heldLen += samples
		return
	}
	if err := tx.rtx.Send(pkt, samples); err != nil {
		s.srv.m.voiceDropped.WithLabelValues("relay").Inc()
		var rerr *client.RelayError
		if errors.Is(err, client.ErrConnectionLost) || errors.As(err, &rerr) {
			s.sendError("talk", "Your transmission was cut: "+err.Error())
			s.finishTx()
		}
		return
	}
	s.srv.m.voiceSent.WithLabelValues(pathLabel(tx.format)).Inc()
}

func pathLabel(format string) string {
	switch format {
	case "webm", "ogg", "mp4":
		return "media"
	case "clip":
		return "clip"
	case "opus":
		return "opus"
	}
	return "pcm"
}

// floorGranted puts a waiting transmission on the air.
func (s *session) floorGranted(rtx RelayTx) {
	tx := s.tx
	tx.state = txGranted
	tx.rtx = rtx
	held := tx.held
	tx.held, tx.heldLen = nil, 0
	for _, f := range held {
		s.voiceOut(tx, f.opus, f.samples)
		if s.tx != tx {
			return
		}
	}
	if tx.ended {
		if len(tx.pace.q) == 0 {
			s.finishTx()
		} // else paceTick ends it after the last paced packet
		return
	}
	if tx.format != "clip" {
		s.sendJSON(map[string]any{"t": "floor", "granted": true})
	}
}

// floorDenied discards a transmission's audio and tells the browser who talks.
func (s *session) floorDenied(holder, reason string) {
	tx := s.tx
	if tx == nil {
		return
	}
	tx.state = txDenied
	tx.held, tx.heldLen = nil, 0
	text := "Someone else is talking. Wait until they finish."
	if holder != "" {
		text = holder + " is talking. Wait until they finish."
	} else if reason != "" {
		text = reason
	}
	s.sendJSON(map[string]any{"t": "busy", "holder": holder, "text": text})
	if tx.format == "clip" {
		s.sendJSON(map[string]any{"t": "clip", "text": "Your clip was not sent: " + text})
	}
	if tx.ended || tx.format == "clip" {
		s.tx = nil
		s.transmitting.Store(false)
	}
	// Otherwise keep the denied transmission until the browser releases, so
	// its audio is dropped quietly.
}

// talkOff is the browser releasing the talk button.
func (s *session) talkOff() {
	tx := s.tx
	if tx == nil || tx.format == "clip" {
		return
	}
	switch tx.state {
	case txWaiting:
		// Keep the rest; it goes out on the grant, then the transmission ends.
		if tx.format == "pcm" {
			s.encodeFrames(tx, true)
		}
		tx.ended = true
	case txGranted:
		if len(tx.pace.q) > 0 {
			tx.ended = true // paceTick ends it after the last paced packet
			return
		}
		s.finishTx()
	default:
		s.tx = nil
		s.transmitting.Store(false)
	}
}

// finishTx ends the current transmission whatever its state.
func (s *session) finishTx() {
	tx := s.tx
	if tx == nil {
		return
	}
	s.tx = nil
	s.transmitting.Store(false)
	if tx.state != txGranted {
		return // a pending answer is handled (and given back) by talkAnswer
	}
	// What still waits goes out now: paced packets, and the samples of a
	// PCM transmission or of re-encoded frames that are not a whole frame.
	tx.pace.flush(func(opus []byte, samples int) { s.voiceOut(tx, opus, samples) })
	tx.pcm = append(tx.pcm, tx.rePCM...)
	tx.rePCM = nil
	if len(tx.pcm) > 0 {
		s.encodeFrames(tx, true)
	}
	s.endRelayTx(tx.rtx)
}

func (s *session) endRelayTx(rtx RelayTx) {
	s.do(func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, endWait)
		defer cancel()
		if err := rtx.End(ctx); err != nil {
			s.log.Debug("ending a transmission", "err", err)
		}
	})
}
