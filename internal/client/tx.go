package client

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hark-intercom/hark/proto"
)

// Opus packets of digital silence (CELT, full band, mono, one frame, with
// the silence flag set), sent with the end flag by Transmission.End.
var (
	silence10ms = []byte{0xF0, 0xFF, 0xFE}
	silence20ms = []byte{0xF8, 0xFF, 0xFE}
)

// Transmission is the floor held by this client: the frames it sends are
// heard in its channel (or, for a page, in every channel). Get one from
// Client.Talk or Client.Page and finish it with End.
//
// Send never blocks: frames go to a small queue drained by the connection's
// sender goroutine (QUIC's SendDatagram can block when its own queue is
// full); if the queue is full the oldest waiting frame is dropped and
// counted in Stats.VoiceSendDropped. Pace Send in real time.
//
// A Transmission is safe for concurrent use, though frames are normally
// sent from one goroutine.
type Transmission struct {
	c       *Client
	cn      *conn
	channel uint16 // voice channel id (proto.PageChannel for a page)
	page    bool
	echo    bool // an echo test: no floor to release
	whisper bool // a call to one user (whisper.go)
	session uint32
	max     time.Duration

	mu     sync.Mutex // guards the fields below
	seq    uint16
	ts     uint32
	frames int
	last   int // samples in the last frame
	ended  bool
	err    error // set when the connection dropped or the relay cut us

	// released is closed when the relay confirms the end of this
	// transmission (Talking false, Page or Whisper inactive for our session).
	released     chan struct{}
	releasedOnce sync.Once
}

// endConfirmWait bounds how long End waits for the relay to confirm the end
// frame before it releases the floor explicitly.
const endConfirmWait = 500 * time.Millisecond

// confirmEnd records the relay's confirmation that the transmission ended.
func (t *Transmission) confirmEnd() { t.releasedOnce.Do(func() { close(t.released) }) }

// Talk asks for the floor of the client's channel. It returns a
// *BusyError naming the talker when someone else holds it.
func (c *Client) Talk(ctx context.Context) (*Transmission, error) {
	if _, err := c.current(); err != nil {
		return nil, err
	}
	ch, ok := c.Channel()
	if !ok {
		return nil, ErrNotJoined
	}
	if err := c.checkIdle(); err != nil {
		return nil, err
	}
	r, err := c.request(ctx, &proto.FloorRequest{Channel: ch.ID}, func(m proto.Message) bool {
		switch m := m.(type) {
		case *proto.FloorGrant:
			return m.Channel == ch.ID
		case *proto.FloorDeny:
			return m.Channel == ch.ID
		}
		return isErrorAbout(m, proto.TypeFloorRequest)
	}, false)
	if err != nil {
		return nil, err
	}
	switch r := r.(type) {
	case *proto.FloorDeny:
		return nil, &BusyError{Holder: r.HolderName, Reason: r.Reason}
	case *proto.Error:
		return nil, c.errorFor(r, "talk in "+ch.Name)
	}
	return c.newTx(r.(*proto.FloorGrant), ch.ID, false)
}

// Page asks to page every channel (role page). It returns a
// *ForbiddenError without the role, a *BusyError if another page is on.
func (c *Client) Page(ctx context.Context) (*Transmission, error) {
	if err := c.checkIdle(); err != nil {
		return nil, err
	}
	r, err := c.request(ctx, &proto.PageStart{}, func(m proto.Message) bool {
		switch m := m.(type) {
		case *proto.FloorGrant:
			return m.Channel == proto.PageChannel
		case *proto.FloorDeny:
			return m.Channel == proto.PageChannel
		}
		return isErrorAbout(m, proto.TypePageStart)
	}, false)
	if err != nil {
		return nil, err
	}
	switch r := r.(type) {
	case *proto.FloorDeny:
		return nil, &BusyError{Holder: r.HolderName, Reason: r.Reason}
	case *proto.Error:
		return nil, c.errorFor(r, "page all channels")
	}
	return c.newTx(r.(*proto.FloorGrant), proto.PageChannel, true)
}

// Echo starts an echo test ("test my microphone"): the frames sent go to
// the relay alone, which plays them back to this client after End, at the
// pace they came (at most proto.MaxEchoDuration; see proto.EchoChannel).
// The played-back frames reach Config.OnVoice with proto.FlagEcho set and
// this session as the sender. No floor is asked for: it works while others
// talk. It returns ErrEchoUnsupported for a relay without the feature.
func (c *Client) Echo(ctx context.Context) (*Transmission, error) {
	cn, err := c.current()
	if err != nil {
		return nil, err
	}
	if cn.features&proto.FeatureEcho == 0 {
		return nil, ErrEchoUnsupported
	}
	if err := c.checkIdle(); err != nil {
		return nil, err
	}
	t, err := c.newTx(&proto.FloorGrant{Channel: proto.EchoChannel, MaxMillis: uint32(proto.MaxEchoDuration / time.Millisecond)}, proto.EchoChannel, false)
	if t != nil {
		t.echo = true
	}
	return t, err
}

// ErrEchoUnsupported: the relay does not play echo tests back (it is older
// than this program).
var ErrEchoUnsupported = errors.New("the relay cannot play an echo test back (it is older than this program): update the relay")

func (c *Client) checkIdle() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.tx != nil {
		return errors.New("already transmitting: end the current transmission first")
	}
	return nil
}

func (c *Client) newTx(g *proto.FloorGrant, channel uint16, page bool) (*Transmission, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur == nil {
		return nil, ErrNotConnected
	}
	if c.tx != nil {
		return nil, errors.New("already transmitting: end the current transmission first")
	}
	t := &Transmission{
		c: c, cn: c.cur, channel: channel, page: page,
		session: c.welcome.Session,
		max:     time.Duration(g.MaxMillis) * time.Millisecond,
		seq:     c.seq, ts: c.ts,
		released: make(chan struct{}),
	}
	c.tx = t
	return t, nil
}

// MaxDuration is the longest the relay lets this transmission last (0: no
// limit); it cuts it after that.
func (t *Transmission) MaxDuration() time.Duration { return t.max }

// Frames returns how many frames Send has queued.
func (t *Transmission) Frames() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.frames
}

// Send queues one Opus packet holding samples samples (48 kHz) for
// sending. It stamps sequence, timestamp, duration and the start flag on
// the first frame. opus is copied; the caller may reuse it at once. It
// returns ErrEnded after End, ErrConnectionLost if the connection dropped,
// and a *RelayError if the relay cut the transmission.
func (t *Transmission) Send(opus []byte, samples int) error {
	if len(opus) == 0 || len(opus) > proto.MaxVoicePayload {
		return fmt.Errorf("voice frame of %d bytes: must be 1 to %d", len(opus), proto.MaxVoicePayload)
	}
	if samples <= 0 || samples > 0xFFFF {
		return fmt.Errorf("voice frame of %d samples: must be 1 to 65535", samples)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return ErrEnded
	}
	if t.err != nil {
		return t.err
	}
	var f proto.VoiceFlags
	if t.frames == 0 {
		f = proto.FlagStart
	}
	t.queue(f, opus, samples)
	return nil
}

// queue builds and queues one datagram. Called with t.mu held.
func (t *Transmission) queue(f proto.VoiceFlags, opus []byte, samples int) {
	bp := bufPool.Get().(*[]byte)
	*bp = proto.AppendVoice((*bp)[:0], proto.VoiceHeader{
		Flags: f, Channel: t.channel, Sender: t.session,
		Seq: t.seq, Timestamp: t.ts, Duration: uint16(samples),
	}, opus)
	t.seq++
	t.ts += uint32(samples)
	t.frames++
	t.last = samples
	t.cn.enqueue(t.c, bp)
}

// End finishes the transmission: it sends a frame of silence carrying the
// end flag, waits (bounded by ctx) until the queued frames are handed to
// QUIC, and releases the floor on the control stream (the relay frees it at
// the end flag; the release covers a lost last datagram). It is safe to
// call more than once; later calls return nil.
func (t *Transmission) End(ctx context.Context) error {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return nil
	}
	t.ended = true
	err := t.err
	if err == nil {
		f := proto.FlagEnd
		if t.frames == 0 {
			f |= proto.FlagStart
		}
		pkt, n := silence20ms, 960
		if t.last == 480 {
			pkt, n = silence10ms, 480
		}
		t.queue(f, pkt, n)
	}
	seq, ts := t.seq, t.ts
	t.mu.Unlock()

	t.c.mu.Lock()
	if t.c.tx == t {
		t.c.tx = nil
	}
	t.c.ending = t
	t.c.seq, t.c.ts = seq, ts
	t.c.mu.Unlock()
	defer func() {
		t.c.mu.Lock()
		if t.c.ending == t {
			t.c.ending = nil
		}
		t.c.mu.Unlock()
	}()

	if errors.Is(err, ErrConnectionLost) {
		return err
	}
	if ferr := t.cn.flush(ctx); ferr != nil {
		return ferr
	}
	if t.echo {
		return err // no floor: the end frame starts the playback
	}
	// The end frame frees the floor at the relay. Wait for the relay to say
	// so before releasing on the control stream: the stream can overtake the
	// last datagrams, and a release that arrives first would cut them off
	// (and closing the connection right after End would drop datagrams still
	// queued in QUIC). The explicit release only covers a lost end frame.
	if err == nil {
		timer := time.NewTimer(endConfirmWait)
		defer timer.Stop()
		select {
		case <-t.released:
			return nil
		case <-timer.C:
		case <-ctx.Done():
		}
	}
	var rel proto.Message = &proto.FloorRelease{Channel: t.channel}
	switch {
	case t.page:
		rel = &proto.PageStop{}
	case t.whisper:
		rel = &proto.WhisperStop{}
	}
	if werr := t.cn.write(rel); werr != nil {
		return ErrConnectionLost
	}
	return err
}

// lost marks the transmission as broken by a lost connection.
func (t *Transmission) lost() { t.cut(ErrConnectionLost) }

func (t *Transmission) cut(err error) {
	t.mu.Lock()
	if t.err == nil {
		t.err = err
	}
	t.mu.Unlock()
}
