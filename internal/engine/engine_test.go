package engine

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audio"
	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/tones"
	"github.com/hark-intercom/hark/proto"
)

// fakeTx records what the engine sends.
type fakeTx struct {
	frames  chan []byte
	ended   chan struct{}
	once    sync.Once
	sendErr error
}

func newFakeTx() *fakeTx { return &fakeTx{frames: make(chan []byte, 1000), ended: make(chan struct{})} }

func (t *fakeTx) Send(opus []byte, samples int) error {
	if t.sendErr != nil {
		return t.sendErr
	}
	if samples <= 0 {
		return errors.New("no samples")
	}
	t.frames <- append([]byte(nil), opus...)
	return nil
}

func (t *fakeTx) End(context.Context) error { t.once.Do(func() { close(t.ended) }); return nil }

// fakeFloor grants or refuses with the answers queued in it.
type fakeFloor struct {
	answers chan func() (Transmitter, error)
	echoes  chan func() (Transmitter, error)
	pages   chan func() (Transmitter, error)
	calls   chan func() (Transmitter, error)
	called  chan string // whom each call was for
	session uint32
}

func (f *fakeFloor) Talk(ctx context.Context) (Transmitter, error) {
	select {
	case a := <-f.answers:
		return a()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
func (f *fakeFloor) Session() uint32 { return f.session }

type harness struct {
	e      *Engine
	capt   *fakeCapture
	play   *fakePlayback
	floor  *fakeFloor
	states chan State
	done   chan error
	cancel context.CancelFunc
}

func start(t *testing.T, mod func(*Config)) *harness {
	t.Helper()
	h := &harness{capt: newFakeCapture(), play: newFakePlayback(),
		floor:  &fakeFloor{answers: make(chan func() (Transmitter, error), 4), session: 7},
		states: make(chan State, 100), done: make(chan error, 1)}
	cfg := Config{Capture: h.capt, Playback: h.play.new, OnState: func(s State) { h.states <- s }}
	if mod != nil {
		mod(&cfg)
	}
	e, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.e = e
	ctx, cancel := context.WithCancel(testCtx(t))
	h.cancel = cancel
	done := h.done
	go func() { done <- e.Run(ctx, h.floor) }()
	<-h.capt.started
	t.Cleanup(func() {
		h.stop(t)
		checkNoLeaks(t)
	})
	return h
}

func (h *harness) stop(t *testing.T) {
	h.cancel()
	if h.done == nil {
		return
	}
	select {
	case err := <-h.done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("Run did not return after its context ended")
	}
	h.done = nil
}

func (h *harness) waitState(t *testing.T, what string, ok func(State) bool) State {
	t.Helper()
	for {
		select {
		case s := <-h.states:
			if ok(s) {
				return s
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("the engine never reached state %q (now %v)", what, h.e.State())
		}
	}
}

func energy(p []int16) (e float64) {
	for _, s := range p {
		e += float64(s) * float64(s)
	}
	return e
}

func TestTalkGrantEncodeEnd(t *testing.T) {
	h := start(t, func(c *Config) { c.FrameSamples = 960 })
	tx := newFakeTx()
	h.floor.answers <- func() (Transmitter, error) { return tx, nil }
	h.e.Press(true)
	h.waitState(t, "talking", func(s State) bool { return s.Talking })

	// The talk-permit cue plays from the next period on.
	permit := tones.TalkPermit()
	if got := h.play.pull(t); !slices.Equal(got, permit[:len(got)]) {
		t.Error("the first period after the grant is not the talk-permit cue")
	}

	// Ten 10 ms periods make five 20 ms Opus frames.
	for n := range 10 {
		p := make([]int16, audio.PeriodFrames)
		sine(n, p)
		h.capt.push(p)
	}
	dec, err := codec.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		var pkt []byte
		select {
		case pkt = <-tx.frames:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of 5 frames were sent", i)
		}
		pcm := make([]int16, 960)
		n, err := dec.Decode(pkt, pcm)
		if err != nil || n != 960 {
			t.Fatalf("frame %d: decoded %d samples, %v", i, n, err)
		}
	}
	if lvl := h.e.Level(); lvl < -20 || lvl > -10 {
		t.Errorf("level of a -12 dBFS sine measured as %.1f dBFS", lvl)
	}

	h.e.Press(false)
	select {
	case <-tx.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("releasing did not end the transmission")
	}
	h.waitState(t, "idle", func(s State) bool { return !s.Talking && !s.Pressed })
	h.stop(t) // the capture goroutine has counted everything
	if st := h.e.Stats(); st.FramesSent != 5 || st.Grants != 1 {
		t.Errorf("stats %+v: want 5 frames, 1 grant", st)
	}
}

func TestTenMillisecondFrames(t *testing.T) {
	h := start(t, func(c *Config) { c.FrameSamples = 480 })
	tx := newFakeTx()
	h.floor.answers <- func() (Transmitter, error) { return tx, nil }
	h.e.Press(true)
	h.waitState(t, "talking", func(s State) bool { return s.Talking })
	for n := range 3 {
		p := make([]int16, audio.PeriodFrames)
		sine(n, p)
		h.capt.push(p)
	}
	for i := range 3 {
		select {
		case pkt := <-tx.frames:
			if n, err := codec.PacketSamples(pkt); err != nil || n != 480 {
				t.Fatalf("frame %d holds %d samples (%v), want 480", i, n, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of 3 frames were sent", i)
		}
	}
}

func TestBusyToneWhileHeld(t *testing.T) {
	h := start(t, nil)
	h.floor.answers <- func() (Transmitter, error) {
		return nil, &client.BusyError{Holder: "bob", Reason: "busy: bob is talking"}
	}
	h.e.Press(true)
	h.waitState(t, "busy", func(s State) bool { return s.Busy && !s.Talking })
	busy := tones.Busy()
	// The busy tone loops while the key is held: a whole cadence and more.
	var played []int16
	for len(played) < len(busy)+2*audio.PeriodFrames {
		played = append(played, h.play.pull(t)...)
	}
	if !slices.Equal(played[:len(busy)], busy) || !slices.Equal(played[len(busy):len(busy)+480], busy[:480]) {
		t.Error("the busy tone does not loop while the key is held")
	}
	h.e.Press(false)
	h.waitState(t, "idle", func(s State) bool { return !s.Busy && !s.Pressed })
	if e := energy(h.play.pull(t)); e != 0 {
		t.Error("the busy tone goes on after release")
	}
	if st := h.e.Stats(); st.Denials != 1 {
		t.Errorf("denials = %d, want 1", st.Denials)
	}
}

func TestMutedBusy(t *testing.T) {
	h := start(t, func(c *Config) { c.Mute = c.Mute.With(CueBusy) })
	h.floor.answers <- func() (Transmitter, error) { return nil, &client.BusyError{Holder: "bob"} }
	h.e.Press(true)
	h.waitState(t, "busy", func(s State) bool { return s.Busy })
	for range 5 {
		if energy(h.play.pull(t)) != 0 {
			t.Fatal("a muted busy tone played")
		}
	}
}

func TestReleaseBeforeGrantGivesTheFloorBack(t *testing.T) {
	h := start(t, nil)
	h.e.Press(true)
	h.waitState(t, "requesting", func(s State) bool { return s.Requesting })
	h.e.Press(false)
	h.waitState(t, "released", func(s State) bool { return !s.Pressed })
	tx := newFakeTx()
	h.floor.answers <- func() (Transmitter, error) { return tx, nil }
	select {
	case <-tx.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("a grant that came after the release was not given back")
	}
	if s := h.e.State(); s.Talking {
		t.Errorf("state %+v after a late grant", s)
	}
}

func TestSendFailureStopsTalking(t *testing.T) {
	h := start(t, nil)
	tx := newFakeTx()
	tx.sendErr = client.ErrConnectionLost
	h.floor.answers <- func() (Transmitter, error) { return tx, nil }
	h.e.Press(true)
	h.waitState(t, "talking", func(s State) bool { return s.Talking })
	h.capt.push(make([]int16, 480))
	h.capt.push(make([]int16, 480))
	h.waitState(t, "stopped", func(s State) bool { return !s.Talking && s.Busy })
	select {
	case <-tx.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the failed transmission was not ended")
	}
}

func TestEventCues(t *testing.T) {
	h := start(t, func(c *Config) { c.Mute = c.Mute.With(CueMessage) })
	first := func(snd []int16) []int16 { return snd[:audio.PeriodFrames] }
	// drain plays out the rest of a cue.
	drain := func(snd []int16) {
		for range len(snd)/audio.PeriodFrames + 1 {
			h.play.pull(t)
		}
	}
	// Wait for Run to hand the floor over (Session is used to skip our own events).
	h.e.Press(false)
	h.play.pull(t)

	h.e.Event(client.Event{Msg: &proto.Ring{From: 3, FromName: "bob"}})
	if got := h.play.pull(t); !slices.Equal(got, first(tones.Ring())) {
		t.Error("a ring did not play the ring cue")
	}
	drain(tones.Ring())
	h.e.Event(client.Event{Msg: &proto.Ring{From: 7, FromName: "me"}})
	if energy(h.play.pull(t)) != 0 {
		t.Error("our own ring rang")
	}
	h.e.Event(client.Event{Msg: &proto.Text{From: 3, Text: "hi"}})
	if energy(h.play.pull(t)) != 0 {
		t.Error("the muted message cue played")
	}

	h.e.Event(client.Event{Msg: &proto.Presence{Users: []proto.UserInfo{
		{Session: 7, Name: "me", Channel: "lobby"}, {Session: 3, Name: "bob", Channel: "ops"}}}})
	h.e.Event(client.Event{Msg: &proto.PresenceChange{Kind: proto.PresenceMoved,
		User: proto.UserInfo{Session: 3, Name: "bob", Channel: "lobby"}}})
	if got := h.play.pull(t); !slices.Equal(got, first(tones.Join())) {
		t.Error("someone joining our channel did not play the join cue")
	}
	drain(tones.Join())
	h.e.Event(client.Event{Msg: &proto.PresenceChange{Kind: proto.PresenceOffline,
		User: proto.UserInfo{Session: 3, Name: "bob"}}})
	if got := h.play.pull(t); !slices.Equal(got, first(tones.Leave())) {
		t.Error("someone leaving our channel did not play the leave cue")
	}
	drain(tones.Leave())
	h.e.Event(client.Event{Msg: &proto.Talking{Session: 3, Name: "bob", Talking: false}})
	if got := h.play.pull(t); !slices.Equal(got, first(tones.Roger())) {
		t.Error("the end of another talker's transmission did not play the roger cue")
	}
}

func TestReceiveMixesTalkers(t *testing.T) {
	h := start(t, nil)
	// A fake playout clock: each pull is 10 ms later.
	t0 := time.Unix(1000, 0)
	var mu sync.Mutex
	now := t0
	h.e.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func() { mu.Lock(); now = now.Add(10 * time.Millisecond); mu.Unlock() }

	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960, FEC: true})
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, 960)
	const frames = 25
	var heard float64
	receiving := false
	for tick := 0; tick < 2*frames+20; tick++ {
		if tick%2 == 0 && tick/2 < frames {
			k := tick / 2
			sine(2*k, pcm[:480])
			sine(2*k+1, pcm[480:])
			pkt, err := enc.Encode(pcm, nil)
			if err != nil {
				t.Fatal(err)
			}
			var fl proto.VoiceFlags
			if k == 0 {
				fl |= proto.FlagStart
			}
			if k == frames-1 {
				fl |= proto.FlagEnd
			}
			h.e.Voice(proto.VoiceHeader{Flags: fl, Sender: 3, Seq: uint16(k), Timestamp: uint32(960 * k), Duration: 960},
				pkt, h.e.now())
		}
		heard += energy(h.play.pull(t))
		advance()
		if h.e.State().Receiving {
			receiving = true
		}
	}
	if heard == 0 {
		t.Fatal("nothing of the talker was played")
	}
	if !receiving {
		h.waitState(t, "receiving", func(s State) bool { return s.Receiving })
	}
	h.waitState(t, "done receiving", func(s State) bool { return !s.Receiving })
	if st := h.e.Stats().Playout; st.TalkersAdded != 1 {
		t.Errorf("playout stats %+v", st)
	}
}

func TestParseCues(t *testing.T) {
	s, err := ParseCues("ring, busy,roger")
	if err != nil || !s.Has(CueRing) || !s.Has(CueBusy) || !s.Has(CueRoger) || s.Has(CueJoin) {
		t.Fatalf("ParseCues = %v, %v", s, err)
	}
	if s.String() != "ring,busy,roger" {
		t.Errorf("String = %q", s.String())
	}
	if s, _ := ParseCues("all"); s != AllCues {
		t.Errorf("all = %v", s)
	}
	if s, _ := ParseCues("none"); s != 0 {
		t.Errorf("none = %v", s)
	}
	if _, err := ParseCues("ring,bell"); err == nil {
		t.Error("an unknown cue was accepted")
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	capt, play := newFakeCapture(), newFakePlayback()
	for _, cfg := range []Config{
		{Playback: play.new},
		{Capture: capt},
		{Capture: capt, Playback: play.new, FrameSamples: 441},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
}

// chanSource is a push-to-talk source the test drives.
type chanSource struct{ press chan bool }

func (s chanSource) Run(ctx context.Context, set func(bool)) error {
	on := false
	for {
		select {
		case <-ctx.Done():
			if on {
				set(false)
			}
			return nil
		case p := <-s.press:
			on = p
			set(p)
		}
	}
}

func TestPTTSourceAndPressCombine(t *testing.T) {
	src := chanSource{press: make(chan bool)}
	h := start(t, func(c *Config) { c.PTT = src })
	tx := newFakeTx()
	h.floor.answers <- func() (Transmitter, error) { return tx, nil }
	src.press <- true
	h.waitState(t, "talking", func(s State) bool { return s.Talking })
	h.e.Press(true)    // the UI's key too
	src.press <- false // the source lets go, the key still holds
	h.e.Press(false)
	h.waitState(t, "released", func(s State) bool { return !s.Pressed })
	select {
	case <-tx.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the transmission did not end when both inputs were released")
	}
}

// markEncoder "encodes" a frame as the first sample of each of its 10 ms
// periods, so a test can tell which periods were sent in which order.
type markEncoder struct{ frame int }

func (m markEncoder) Encode(pcm []int16, out []byte) ([]byte, error) {
	for i := 0; i < len(pcm); i += audio.PeriodFrames {
		out = append(out, byte(pcm[i]))
	}
	return out, nil
}
func (m markEncoder) FrameSamples() int { return m.frame }

func TestPreRoll(t *testing.T) {
	h := start(t, func(c *Config) {
		c.FrameSamples = 960
		c.PreRoll = 60 * time.Millisecond // three frames
		c.OnCapture = func([]int16) {}    // keeps the capture running while idle
	})
	h.e.enc = markEncoder{960}
	period := func(n int) {
		p := make([]int16, audio.PeriodFrames)
		for i := range p {
			p[i] = int16(n)
		}
		h.capt.push(p)
	}
	// receive collects the periods sent on tx up to and including last.
	receive := func(tx *fakeTx, last int) []int {
		var got []int
		for len(got) == 0 || got[len(got)-1] != last {
			select {
			case f := <-tx.frames:
				for _, b := range f {
					got = append(got, int(b))
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("period %d was never sent; got %v", last, got)
			}
		}
		return got
	}
	consecutive := func(got []int) bool {
		for i := 1; i < len(got); i++ {
			if got[i] != got[i-1]+1 {
				return false
			}
		}
		return true
	}

	// Ten periods while idle, then a press: the transmission starts with
	// the 60 ms before the grant, then goes on live without a gap. The
	// engine must be done with period 10 before the press, or it may take
	// it for live audio (and send the periods one later).
	for n := 1; n <= 10; n++ {
		period(n)
	}
	h.capt.processed(t, 10)
	tx := newFakeTx()
	h.floor.answers <- func() (Transmitter, error) { return tx, nil }
	h.e.Press(true)
	h.waitState(t, "talking", func(s State) bool { return s.Talking })
	for n := 11; n <= 14; n++ {
		period(n)
	}
	got := receive(tx, 14)
	if !consecutive(got) || got[0] > 5 || got[0] < 4 {
		t.Fatalf("first transmission sent periods %v, want 5..14 (or 4..14): 60 ms of pre-roll, then live", got)
	}

	// Audio captured during a transmission is not sent again as the next
	// one's pre-roll: only what came after it ended.
	h.e.Press(false)
	<-tx.ended
	h.waitState(t, "idle", func(s State) bool { return !s.Talking && !s.Pressed })
	for n := 15; n <= 18; n++ {
		period(n)
	}
	h.capt.processed(t, 8) // 4 periods of the first transmission + 4 more
	tx2 := newFakeTx()
	h.floor.answers <- func() (Transmitter, error) { return tx2, nil }
	h.e.Press(true)
	h.waitState(t, "talking", func(s State) bool { return s.Talking })
	for n := 19; n <= 20; n++ {
		period(n)
	}
	got = receive(tx2, 20)
	if !consecutive(got) || got[0] != 15 {
		t.Fatalf("second transmission sent periods %v, want 15..20", got)
	}
	h.stop(t)
	if st := h.e.Stats(); st.PreRollFrames != 5 {
		t.Errorf("PreRollFrames = %d, want 3 + 2", st.PreRollFrames)
	}
}

// TestPreRollOnlyForVoice: with PreRollIf saying no (a button pressed while
// the voice detector is closed), a transmission starts with live audio:
// nothing said before the press goes out.
func TestPreRollOnlyForVoice(t *testing.T) {
	var voice atomic.Bool
	h := start(t, func(c *Config) {
		c.FrameSamples = 960
		c.PreRoll = 60 * time.Millisecond
		c.PreRollIf = voice.Load
		c.OnCapture = func([]int16) {} // keeps the capture running while idle
	})
	h.e.enc = markEncoder{960}
	n := 0
	period := func() {
		n++
		p := make([]int16, audio.PeriodFrames)
		for i := range p {
			p[i] = int16(n)
		}
		h.capt.push(p)
	}
	talk := func(voiceOpen bool) []int {
		t.Helper()
		for range 10 {
			period()
		}
		// Done with the idle periods before the press (see TestPreRoll).
		h.capt.processed(t, 10)
		voice.Store(voiceOpen)
		tx := newFakeTx()
		h.floor.answers <- func() (Transmitter, error) { return tx, nil }
		h.e.Press(true)
		h.waitState(t, "talking", func(s State) bool { return s.Talking })
		first := n + 1
		for range 4 {
			period()
		}
		var got []int
		for len(got) == 0 || got[len(got)-1] != n {
			select {
			case f := <-tx.frames:
				for _, b := range f {
					got = append(got, int(b))
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("period %d was never sent; got %v", n, got)
			}
		}
		h.e.Press(false)
		<-tx.ended
		h.waitState(t, "idle", func(s State) bool { return !s.Talking && !s.Pressed })
		if got[0] < first-6 { // 60 ms: six 10 ms periods
			t.Fatalf("sent %v, starting more than 60 ms before the grant (period %d)", got, first)
		}
		return append([]int{first}, got...)
	}
	if got := talk(false); got[1] != got[0] {
		t.Errorf("button in silence: sent periods %v, want the first live one (%d) first", got[1:], got[0])
	}
	h.capt.processed(t, 4) // the first transmission's periods
	if got := talk(true); got[1] >= got[0] {
		t.Errorf("voice: sent periods %v, want the pre-roll before period %d", got[1:], got[0])
	}
	h.stop(t)
	if st := h.e.Stats(); st.PreRollFrames == 0 {
		t.Errorf("PreRollFrames = 0 after a voice-started transmission")
	}
}

// TestRunReportsDeviceError: a sound card that cannot be opened ends Run
// with a DeviceError, which talk turns into advice.
func TestRunReportsDeviceError(t *testing.T) {
	broken := errors.New("no such card")
	e, err := New(Config{Capture: newFakeCapture(), Playback: func(audio.FillFunc) (audio.Device, error) { return nil, broken }})
	if err != nil {
		t.Fatal(err)
	}
	err = e.Run(testCtx(t), &fakeFloor{answers: make(chan func() (Transmitter, error), 1)})
	var de *DeviceError
	if !errors.As(err, &de) || !errors.Is(err, broken) || de.What != "opening the playback device" {
		t.Fatalf("Run = %v, want a DeviceError about opening the playback device", err)
	}
	checkNoLeaks(t)
}

// Echo makes fakeFloor an EchoFloor: echo tests take answers from echoes.
func (f *fakeFloor) Echo(ctx context.Context) (Transmitter, error) {
	select {
	case a := <-f.echoes:
		return a()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestPressEcho: an echo press asks the floor for an echo test, not the
// channel's floor; the next plain press talks again; the relay's playback
// of our own frames (FlagEcho) is heard while our own other frames are not.
func TestPressEcho(t *testing.T) {
	h := start(t, nil)
	h.floor.echoes = make(chan func() (Transmitter, error), 1)
	tx := newFakeTx()
	h.floor.echoes <- func() (Transmitter, error) { return tx, nil }
	h.e.PressEcho(true)
	h.waitState(t, "talking", func(s State) bool { return s.Talking })
	h.e.PressEcho(false)
	select {
	case <-tx.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("releasing did not end the echo test")
	}
	h.waitState(t, "idle", func(s State) bool { return !s.Talking && !s.Pressed })

	tx2 := newFakeTx()
	h.floor.answers <- func() (Transmitter, error) { return tx2, nil }
	h.e.Press(true)
	h.waitState(t, "talking", func(s State) bool { return s.Talking })
	h.e.Press(false)
	<-tx2.ended
	if len(h.floor.echoes) != 0 || len(h.floor.answers) != 0 {
		t.Error("an answer was not used")
	}

	pkt := []byte{0xF8, 0xFF, 0xFE}
	now := time.Now()
	h.e.Voice(proto.VoiceHeader{Flags: proto.FlagStart, Sender: 7, Seq: 1, Duration: 960}, pkt, now)
	if st := h.e.Stats().Playout; st.TalkersAdded != 0 {
		t.Fatalf("our own frame was played: %+v", st)
	}
	h.e.Voice(proto.VoiceHeader{Flags: proto.FlagStart | proto.FlagEcho, Channel: proto.EchoChannel, Sender: 7, Seq: 2, Duration: 960}, pkt, now)
	if st := h.e.Stats().Playout; st.TalkersAdded != 1 {
		t.Errorf("the echo of our own frame was not played: %+v", st)
	}
}

// TestVolumesMuteDeafen: volumes follow people by name across sessions,
// deafen silences every talker, and a muted microphone does not talk.
func TestVolumesMuteDeafen(t *testing.T) {
	h := start(t, nil)
	h.e.Event(client.Event{Msg: &proto.Presence{Users: []proto.UserInfo{
		{Session: 7, Name: "me", Channel: "lobby"}, {Session: 3, Name: "bob", Channel: "lobby"}, {Session: 4, Name: "carol", Channel: "lobby"}}}})
	h.e.SetVolume("bob", 0.5)
	if g3, g4 := h.e.gain(3), h.e.gain(4); g3 != 0.5 || g4 != 1 {
		t.Errorf("gains %v %v", g3, g4)
	}
	// bob reconnects with a new session: his volume follows him.
	h.e.Event(client.Event{Msg: &proto.PresenceChange{Kind: proto.PresenceOnline, User: proto.UserInfo{Session: 9, Name: "bob", Channel: "lobby"}}})
	if g := h.e.gain(9); g != 0.5 || h.e.Volume("bob") != 0.5 {
		t.Errorf("bob's new session: gain %v", g)
	}
	h.e.SetVolume("bob", 1)
	if g := h.e.gain(9); g != 1 {
		t.Errorf("reset: %v", g)
	}
	h.e.SetDeafened(true)
	if g := h.e.gain(4); g != 0 {
		t.Errorf("deafened: carol at %v", g)
	}
	h.waitState(t, "deafened", func(s State) bool { return s.Deafened })
	h.e.SetDeafened(false)

	h.e.SetMuted(true)
	h.waitState(t, "muted", func(s State) bool { return s.Muted })
	h.e.Press(true)
	tx := newFakeTx()
	h.floor.answers <- func() (Transmitter, error) { return tx, nil }
	h.e.SetMuted(false) // the press held through the mute now talks
	h.waitState(t, "talking", func(s State) bool { return s.Talking && !s.Muted })
	h.e.SetMuted(true) // muting ends the transmission
	<-tx.ended
	h.waitState(t, "muted, not talking", func(s State) bool { return s.Muted && !s.Talking })
	if st := h.e.Stats(); st.Grants != 1 {
		t.Errorf("grants %d: the muted press asked for the floor", st.Grants)
	}
}

// TestAlarmRingsUntilAcknowledged: an alarm loops its cue until this
// station's acknowledgement (or the end of the alarm) comes from the relay;
// someone else's acknowledgement does not stop it.
func TestAlarmRingsUntilAcknowledged(t *testing.T) {
	h := start(t, nil)
	h.e.Event(client.Event{Msg: &proto.Ring{From: 3, FromName: "bob", Flags: proto.RingAlarm, Alarm: 5}})
	h.waitState(t, "alarm", func(s State) bool { return s.Alarm })
	if got := h.play.pull(t); energy(got) == 0 {
		t.Error("the alarm is silent")
	}
	h.e.Event(client.Event{Msg: &proto.AlarmAck{Alarm: 5, Session: 4, Name: "carol", Pending: 1}})
	h.e.Event(client.Event{Msg: &proto.AlarmAck{Alarm: 5, Session: 7, Name: "me", Pending: 0}})
	h.waitState(t, "acknowledged", func(s State) bool { return !s.Alarm })
	// Our own alarm does not ring here; an alarm that is over stops.
	h.e.Event(client.Event{Msg: &proto.Ring{From: 7, FromName: "me", Flags: proto.RingAlarm, Alarm: 6}})
	h.e.Event(client.Event{Msg: &proto.Ring{From: 3, FromName: "bob", Flags: proto.RingAlarm, Alarm: 8}})
	h.waitState(t, "second alarm", func(s State) bool { return s.Alarm })
	h.e.Event(client.Event{Msg: &proto.AlarmAck{Alarm: 8, Over: true}})
	h.waitState(t, "over", func(s State) bool { return !s.Alarm })
}

// Page makes fakeFloor a PageFloor: pages take answers from pages.
func (f *fakeFloor) Page(ctx context.Context) (Transmitter, error) {
	select {
	case a := <-f.pages:
		return a()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestPressPage: a page press asks the floor for a page; a refusal (no
// page role) sounds the busy tone like a busy channel.
func TestPressPage(t *testing.T) {
	h := start(t, nil)
	h.floor.pages = make(chan func() (Transmitter, error), 2)
	tx := newFakeTx()
	h.floor.pages <- func() (Transmitter, error) { return tx, nil }
	h.e.PressPage(true)
	h.waitState(t, "paging", func(s State) bool { return s.Talking })
	h.e.PressPage(false)
	<-tx.ended
	h.waitState(t, "idle", func(s State) bool { return !s.Talking && !s.Pressed })
	h.floor.pages <- func() (Transmitter, error) { return nil, errors.New("you may not page") }
	h.e.PressPage(true)
	h.waitState(t, "refused", func(s State) bool { return s.Busy })
	h.e.PressPage(false)
	if len(h.floor.answers) != 0 {
		t.Error("a page press asked for the channel's floor")
	}
}

// TestShortPressIsHeard: what is said between the press and the grant is
// held, and a press released before the grant still delivers it (then the
// transmission ends): the first syllable is not lost to the round trip.
func TestShortPressIsHeard(t *testing.T) {
	h := start(t, func(c *Config) { c.FrameSamples = 960 })
	h.e.Press(true)
	h.waitState(t, "requesting", func(s State) bool { return s.Requesting })
	for n := range 4 {
		p := make([]int16, audio.PeriodFrames)
		sine(n, p)
		h.capt.push(p)
	}
	h.capt.processed(t, 4)
	h.e.Press(false)
	h.waitState(t, "released", func(s State) bool { return !s.Pressed && s.Requesting })
	tx := newFakeTx()
	h.floor.answers <- func() (Transmitter, error) { return tx, nil }
	for i := range 2 {
		select {
		case <-tx.frames:
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of the 2 frames said before the grant were sent", i)
		}
	}
	select {
	case <-tx.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the short press's transmission did not end")
	}
	h.waitState(t, "idle", func(s State) bool { return !s.Requesting && !s.Talking })
	if st := h.e.Stats(); st.FramesSent != 2 || st.Floor.FramesHeld != 2 {
		t.Errorf("stats %+v: want 2 frames held and sent", st)
	}
}

// TestPressOfAnotherKindWhileReleasing: a talk press released before its
// answer, then a page press: the page is asked for and goes on the air as
// a page (it went on as the talk before), and the talk's late grant is
// given back unused.
func TestPressOfAnotherKindWhileReleasing(t *testing.T) {
	h := start(t, nil)
	h.floor.pages = make(chan func() (Transmitter, error), 1)
	h.e.Press(true)
	h.waitState(t, "requesting", func(s State) bool { return s.Requesting })
	h.e.Press(false)
	h.waitState(t, "released", func(s State) bool { return !s.Pressed && s.Requesting })
	page := newFakeTx()
	h.floor.pages <- func() (Transmitter, error) { return page, nil }
	h.e.PressPage(true)
	h.waitState(t, "paging", func(s State) bool { return s.Pressed && s.Talking })
	if len(h.floor.pages) != 0 {
		t.Fatal("the page press did not ask for a page")
	}
	h.e.PressPage(false)
	<-page.ended
	talk := newFakeTx()
	h.floor.answers <- func() (Transmitter, error) { return talk, nil }
	select {
	case <-talk.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the talk press's late grant was not given back")
	}
	if len(talk.frames) != 0 {
		t.Errorf("the given-back talk sent %d frames", len(talk.frames))
	}
}
