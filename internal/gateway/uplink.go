package gateway

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/client/voicefile"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/resample"
	"github.com/hark-intercom/hark/internal/wav"
	"github.com/hark-intercom/hark/internal/webm"
)

// Uplink (browser to relay). A press of the talk button (or a WAV clip)
// is a transmission: the browser's audio in one of several formats, turned
// into Opus frames here and handed to the session's push-to-talk floor,
// client.Floor, the machine talk's engine uses too. The floor holds what
// is said while the relay's answer is on its way and sends it on the
// grant, also after a release before the grant (a short press is heard);
// a refusal drops it (counted); a cut (a page, the maximum length, a lost
// link) ends the transmission. Its changes come back to the loop
// (floorChanged), which tells the browser. Everything here is owned by the
// session's loop goroutine.

const (
	upFrame = 960 // 20 ms: the frame the gateway encodes
	// maxHeld bounds audio kept while the floor request is pending.
	maxHeld = 2 * time.Second
	// floorWait is how long a transmission waits for the relay's answer.
	floorWait = 5 * time.Second
	// endWait bounds the end of a transmission (flushing its frames).
	endWait = 2 * time.Second
)

// transmission is one press of the talk button (or one WAV clip).
type transmission struct {
	format  string // "pcm", "opus", "webm", "ogg", "mp4", "clip"
	page    bool   // to every channel (page role)
	echo    bool   // a microphone test
	to      string // a call to one user
	started time.Time
	press   uint64 // the floor's press this transmission is (client.FloorChange.Press)
	ended   bool   // the browser released: no more input; the floor is released once the paced rest is out
	// released: the floor was released (or aborted) for this transmission
	released bool

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

// startTx opens a transmission and presses the floor.
func (s *session) startTx(format string, rate int, page, echo bool, to string) error {
	again := s.tx != nil && s.tx.ended && s.floor.State() == client.FloorReleasing &&
		s.tx.page == page && s.tx.echo == echo && s.tx.to == to && format != "clip" && s.tx.format != "clip"
	if s.tx != nil && !again {
		s.finishTx()
	}
	s.stopReplay("You are talking.")
	if s.channel.Name == "" {
		return errors.New("join a channel before talking")
	}
	tx := &transmission{format: format, started: time.Now(), rate: rate, page: page, echo: echo, to: to}
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
	if again {
		// Pressed again while the last press waits for its answer: the
		// floor takes that request up again (its held words stay first).
		if s.floor.Press(nil) {
			tx.press = s.tx.press
			s.tx = tx
			return nil
		}
		// The answer came meanwhile: the last press is over; ask anew.
		s.tx = nil
		s.transmitting.Store(false)
	}
	req := func(ctx context.Context) (client.FloorTx, error) {
		switch {
		case echo:
			return s.echoTx(ctx)
		case to != "":
			return s.callTx(ctx, to)
		case page:
			return s.relay.Page(ctx)
		}
		return s.relay.Talk(ctx)
	}
	if !s.floor.Press(req) {
		return errors.New("the talk button cannot be pressed now: the session is ending")
	}
	tx.press, _ = s.floor.Wants()
	s.tx = tx
	s.transmitting.Store(true)
	return nil
}

// floorNote queues a change of the floor for the loop (client.Floor's
// OnChange: any goroutine, must not block).
func (s *session) floorNote(c client.FloorChange) {
	s.floorMu.Lock()
	s.floorQ = append(s.floorQ, c)
	s.floorMu.Unlock()
	select {
	case s.floorWake <- struct{}{}:
	default:
	}
}

// floorChanges handles the queued changes of the floor (on the loop).
func (s *session) floorChanges() {
	s.floorMu.Lock()
	q := s.floorQ
	s.floorQ = nil
	s.floorMu.Unlock()
	for _, c := range q {
		s.floorChanged(c)
	}
}

// floorChanged tells the browser what became of its press (on the loop).
// The page mirrors the floor's states by name (app.js, S.floor).
func (s *session) floorChanged(c client.FloorChange) {
	tx := s.tx
	if tx == nil || tx.press != c.Press || c.Cause == client.FloorCauseAborted {
		return // an earlier press, or ended by the gateway itself
	}
	switch c.To {
	case client.FloorTalking:
		if tx.format != "clip" {
			s.sendJSON(map[string]any{"t": "floor", "granted": true, "state": c.To.String()})
		}
		return
	case client.FloorBusy:
		s.transmitting.Store(false) // the browser hears the talker meanwhile
		s.floorBusy(tx, c.Err)
	case client.FloorRefused:
		s.transmitting.Store(false)
		s.floorRefused(tx, c.Err)
	case client.FloorCut:
		s.transmitting.Store(false)
		s.srv.m.voiceDropped.WithLabelValues("relay").Inc()
		s.sendJSON(map[string]any{"t": "floor", "granted": false, "state": c.To.String(), "cause": c.Cause.String(), "text": c.Text()})
		s.sendError("talk", "Your transmission was cut: "+c.Text())
		if tx.format == "clip" {
			s.floor.Release()
		}
	case client.FloorIdle:
		// The end of a press released before its answer: the held words
		// went out (or the answer was a refusal, said here).
		var be *client.BusyError
		if errors.As(c.Err, &be) {
			s.floorBusy(tx, c.Err)
		} else if c.Err != nil && c.Cause == client.FloorCauseRefused {
			s.floorRefused(tx, c.Err)
		} else if c.Err != nil {
			s.sendError("talk", "Your transmission was cut: "+c.Text())
		} else if c.From == client.FloorReleasing && tx.format != "clip" {
			s.sendJSON(map[string]any{"t": "floor", "granted": true, "state": c.To.String()})
		}
	default:
		return
	}
	if s.floor.State() == client.FloorIdle || tx.format == "clip" {
		s.tx = nil
		s.transmitting.Store(false)
	}
	// Otherwise the refused or cut press stays until the browser
	// releases, so its audio is dropped quietly.
}

// floorBusy tells the browser who holds the floor.
func (s *session) floorBusy(tx *transmission, err error) {
	var be *client.BusyError
	errors.As(err, &be)
	text := "Someone else is talking. Wait until they finish."
	holder := ""
	if be != nil {
		holder = be.Holder
		if be.Holder != "" {
			text = be.Holder + " is talking. Wait until they finish."
		} else if be.Reason != "" {
			text = be.Reason
		}
		if tx.to != "" {
			// The relay's words name who calls whom ("busy: dave is calling bob").
			text = "Your call did not go through: " + strings.TrimPrefix(be.Reason, "busy: ") + ". Try again when they finish."
		}
	}
	s.sendJSON(map[string]any{"t": "busy", "holder": holder, "text": text, "state": client.FloorBusy.String()})
	if tx.format == "clip" {
		s.sendJSON(map[string]any{"t": "clip", "text": "Your clip was not sent: " + text})
		s.floor.Release()
	}
}

// floorRefused tells the browser why it may not talk.
func (s *session) floorRefused(tx *transmission, err error) {
	if code, text, ok := callRefused(err); ok {
		s.sendError(code, text)
	} else if errors.Is(err, context.DeadlineExceeded) {
		s.sendError("floor", "The intercom did not answer the request to talk. Try again.")
	} else {
		s.sendError("floor", "You cannot talk right now: "+err.Error())
	}
	s.sendJSON(map[string]any{"t": "floor", "granted": false, "state": client.FloorRefused.String()})
	if tx.format == "clip" {
		s.floor.Release()
	}
}

// takesAudio reports whether the floor takes tx's audio now: not after a
// refusal or a cut (the press is held until the release, quietly).
func (s *session) takesAudio(tx *transmission) bool {
	switch s.floor.State() {
	case client.FloorBusy, client.FloorRefused, client.FloorCut:
		return false
	}
	return true
}

// pcmIn takes PCM samples from the browser.
func (s *session) pcmIn(samples []int16) {
	tx := s.tx
	if tx == nil || tx.format != "pcm" || tx.ended {
		s.srv.m.voiceDropped.WithLabelValues("not_talking").Inc()
		return
	}
	if !s.takesAudio(tx) {
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
	if !s.takesAudio(tx) {
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
		if !s.takesAudio(tx) {
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
	if tx == nil || tx.format != "clip" || s.floor.State() != client.FloorTalking {
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

// voiceOut hands one encoded frame to the floor (held before the grant,
// sent after it). pkt is copied.
func (s *session) voiceOut(tx *transmission, pkt []byte, samples int) {
	if s.floor.Audio(pkt, samples) {
		s.srv.m.voiceSent.WithLabelValues(pathLabel(tx.format)).Inc()
	}
	// Otherwise the floor counted it (and a cut reaches floorChanged).
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

// talkOff is the browser releasing the talk button: no more input; the
// floor is released once the last paced packet is out (paceTick).
func (s *session) talkOff() {
	tx := s.tx
	if tx == nil || tx.format == "clip" || tx.ended {
		return
	}
	tx.ended = true
	if !s.takesAudio(tx) {
		s.releaseTx(tx) // refused or cut: nothing more to send
		return
	}
	if tx.format == "pcm" {
		s.encodeFrames(tx, true)
	}
	if len(tx.pace.q) == 0 {
		s.releaseTx(tx)
	} // else paceTick releases it after the last paced packet
}

// releaseTx releases the floor for tx, whose input is all handed over:
// talking, the transmission ends; still requesting, what is held goes out
// if the grant comes.
func (s *session) releaseTx(tx *transmission) {
	if tx.released {
		return
	}
	tx.released = true
	s.floor.Release()
	if s.floor.State() == client.FloorIdle && s.tx == tx {
		s.tx = nil
		s.transmitting.Store(false)
	}
}

// finishTx ends the current transmission now whatever its state: on the
// air, what waits (paced packets, the samples short of a frame) goes out
// and it ends; before the answer, it is dropped and a grant given back.
func (s *session) finishTx() {
	tx := s.tx
	if tx == nil {
		return
	}
	s.tx = nil
	s.transmitting.Store(false)
	if tx.released {
		return
	}
	tx.released = true
	if s.floor.State() != client.FloorTalking {
		s.floor.Abort(nil)
		return
	}
	tx.pace.flush(func(opus []byte, samples int) { s.voiceOut(tx, opus, samples) })
	tx.pcm = append(tx.pcm, tx.rePCM...)
	tx.rePCM = nil
	if len(tx.pcm) > 0 {
		s.encodeFrames(tx, true)
	}
	s.floor.Release()
}

// initFloor makes the session's push-to-talk floor.
func (s *session) initFloor() {
	s.floorWake = make(chan struct{}, 1)
	s.floor = client.NewFloor(client.FloorConfig{MaxHeld: maxHeld, RequestTimeout: floorWait, EndTimeout: endWait,
		OnChange: s.floorNote, Logger: s.log})
}
