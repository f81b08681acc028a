package client

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/proto"
)

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// eventSink collects events in a channel.
func eventSink() (func(Event), chan Event) {
	ch := make(chan Event, 256)
	return func(e Event) { ch <- e }, ch
}

func waitState(t *testing.T, ctx context.Context, ch chan Event, s State) Event {
	t.Helper()
	for {
		select {
		case e := <-ch:
			if e.State == s {
				return e
			}
		case <-ctx.Done():
			t.Fatalf("no %v event", s)
		}
	}
}

func dialFake(t *testing.T, f *fakeRelay, mod func(*Config)) (*Client, error) {
	cfg := Config{Relay: f.addr, Name: "alice", Fingerprint: f.fp, DialTimeout: 3 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := Dial(testCtx(t), cfg)
	if c != nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, err
}

func TestNormalizeAddr(t *testing.T) {
	for in, want := range map[string]string{
		"relay":          "relay:4275",
		"relay:99":       "relay:99",
		"127.0.0.1":      "127.0.0.1:4275",
		"[::1]":          "[::1]:4275",
		"[::1]:5":        "[::1]:5",
		"::1":            "[::1]:4275",
		"example.org:80": "example.org:80",
	} {
		got, err := NormalizeAddr(in)
		if err != nil || got != want {
			t.Errorf("NormalizeAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "relay:x", "relay:0", ":4275"} {
		if _, err := NormalizeAddr(bad); err == nil {
			t.Errorf("NormalizeAddr(%q) accepted", bad)
		}
	}
}

func TestPinnedFingerprint(t *testing.T) {
	f := newFakeRelay(t)
	c, err := dialFake(t, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Fingerprint() != f.fp {
		t.Errorf("fingerprint %q, want %q", c.Fingerprint(), f.fp)
	}
	ch, ok := c.Channel()
	if !ok || ch.Name != "lobby" || ch.ID != 1 {
		t.Errorf("joined %+v %v, want the default channel lobby", ch, ok)
	}

	wrong := "SHA256:" + strings.Repeat("A", 43)
	_, err = dialFake(t, f, func(c *Config) { c.Fingerprint = wrong })
	var fe *FingerprintError
	if !errors.As(err, &fe) || fe.Got != f.fp || fe.Want != wrong {
		t.Fatalf("wrong pin: err = %v", err)
	}
	if !strings.Contains(err.Error(), f.fp) || !strings.Contains(err.Error(), wrong) {
		t.Errorf("message lacks both fingerprints: %v", err)
	}
}

func TestTrustOnFirstUse(t *testing.T) {
	f := newFakeRelay(t)
	known := filepath.Join(t.TempDir(), "hark", "known_relays")
	tofu := func(c *Config) { c.Fingerprint = ""; c.KnownRelaysFile = known }
	c, err := dialFake(t, f, tofu)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	b, err := os.ReadFile(known)
	if err != nil || !strings.Contains(string(b), f.addr+" "+f.fp) {
		t.Fatalf("known relays file: %q, %v", b, err)
	}
	if _, err := dialFake(t, f, tofu); err != nil {
		t.Fatalf("second connection to a recorded relay: %v", err)
	}
	// The relay "changes" its certificate: the file now says otherwise.
	other := "SHA256:" + strings.Repeat("B", 43)
	os.WriteFile(known, []byte("# test\n"+f.addr+" "+other+"\n"), 0o600)
	_, err = dialFake(t, f, tofu)
	var fe *FingerprintError
	if !errors.As(err, &fe) || fe.Known == nil {
		t.Fatalf("changed fingerprint: err = %v", err)
	}
	msg := err.Error()
	for _, want := range []string{f.fp, other, known, "line 2"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message lacks %q:\n%s", want, msg)
		}
	}
}

func TestWrongPassword(t *testing.T) {
	f := newFakeRelay(t)
	f.mu.Lock()
	f.password = "secret"
	f.mu.Unlock()
	_, err := dialFake(t, f, func(c *Config) { c.Password = "nope" })
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want *AuthError", err)
	}
	if want := "wrong user name or password for alice at " + f.addr; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
	if _, err := dialFake(t, f, func(c *Config) { c.Password = "secret" }); err != nil {
		t.Errorf("right password: %v", err)
	}
}

func TestUnknownChannel(t *testing.T) {
	f := newFakeRelay(t)
	_, err := dialFake(t, f, func(c *Config) { c.Channel = "nope" })
	var re *RelayError
	if !errors.As(err, &re) || re.Code != proto.CodeNoChannel {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), `there is no channel "nope" on the relay (channels: lobby, ops)`) {
		t.Errorf("message should name the channel and list the others: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	_, err = Dial(testCtx(t), Config{Relay: addr, Name: "a", Fingerprint: "SHA256:" + strings.Repeat("A", 43), DialTimeout: 300 * time.Millisecond})
	var ue *UnreachableError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("err = %v, want *UnreachableError naming %s", err, addr)
	}
}

func TestMalformedFingerprint(t *testing.T) {
	_, err := Dial(testCtx(t), Config{Relay: "127.0.0.1:9", Name: "a", Fingerprint: "garbage"})
	if err == nil || !strings.Contains(err.Error(), `"garbage" is not a relay fingerprint`) {
		t.Fatalf("err = %v", err)
	}
}

func TestTalkStampsFrames(t *testing.T) {
	f := newFakeRelay(t)
	c, err := dialFake(t, f, func(c *Config) { c.Channel = "ops" })
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	tx, err := c.Talk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Talk(ctx); err == nil {
		t.Error("second Talk during a transmission accepted")
	}
	for i := range 3 {
		if err := tx.Send([]byte{0xF8, byte(i), 1}, 960); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.End(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Send([]byte{1}, 960); !errors.Is(err, ErrEnded) {
		t.Errorf("Send after End: %v", err)
	}
	err = f.waitFor(ctx, func(v [][]byte, m []proto.Message) bool {
		// Pings may come after the release.
		return len(v) >= 4 && slices.ContainsFunc(m, func(m proto.Message) bool { return m.Type() == proto.TypeFloorRelease })
	})
	if err != nil {
		t.Fatal(err)
	}
	voice, _ := f.snapshot()
	var prev proto.VoiceHeader
	for i, b := range voice {
		h, p, err := proto.ParseVoice(b)
		if err != nil {
			t.Fatal(err)
		}
		if h.Channel != 2 || h.Duration != 960 || h.Sender != 7 {
			t.Errorf("frame %d header %+v", i, h)
		}
		wantFlags := proto.VoiceFlags(0)
		switch i {
		case 0:
			wantFlags = proto.FlagStart
		case 3:
			wantFlags = proto.FlagEnd
			if string(p) != string(silence20ms) {
				t.Errorf("end frame payload %x", p)
			}
		}
		if h.Flags != wantFlags {
			t.Errorf("frame %d flags %v, want %v", i, h.Flags, wantFlags)
		}
		if i > 0 && (h.Seq != prev.Seq+1 || h.Timestamp != prev.Timestamp+960) {
			t.Errorf("frame %d seq/ts %d/%d after %d/%d", i, h.Seq, h.Timestamp, prev.Seq, prev.Timestamp)
		}
		prev = h
	}
	// A new transmission continues the sequence.
	tx2, err := c.Talk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx2.Send([]byte{1, 2}, 480)
	tx2.End(ctx)
	f.waitFor(ctx, func(v [][]byte, _ []proto.Message) bool { return len(v) >= 6 })
	voice, _ = f.snapshot()
	h4, _, _ := proto.ParseVoice(voice[4])
	h5, p5, _ := proto.ParseVoice(voice[5])
	if h4.Seq != prev.Seq+1 || h4.Flags != proto.FlagStart || h5.Duration != 480 || string(p5) != string(silence10ms) {
		t.Errorf("second transmission: %+v then %+v %x", h4, h5, p5)
	}
	if st := c.Stats(); st.VoiceSent != 6 || st.VoiceSendDropped != 0 {
		t.Errorf("stats %+v", st)
	}
}

func TestBusyAndForbidden(t *testing.T) {
	f := newFakeRelay(t)
	f.mu.Lock()
	f.busyHolder = "bob"
	f.mu.Unlock()
	c, err := dialFake(t, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Talk(testCtx(t))
	var be *BusyError
	if !errors.As(err, &be) || be.Holder != "bob" || err.Error() != "busy: bob is talking" {
		t.Fatalf("err = %v", err)
	}
	_, err = c.Page(testCtx(t))
	var fe *ForbiddenError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "alice is not allowed to page") {
		t.Fatalf("page: err = %v", err)
	}
}

// TestWhoAndText runs against the relay as it is, against one that splits
// its presence snapshot (the client must assemble it), and against a relay
// of protocol version 1 (the client must log in as v1 and read v1 records).
func TestWhoAndText(t *testing.T) {
	for _, tc := range []struct {
		name        string
		v1, split   bool
		wantVersion uint16
	}{
		{"current", false, false, proto.Version},
		{"split presence", false, true, proto.Version},
		{"v1 relay", true, false, proto.Version1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeRelayWith(t, func(f *fakeRelay) { f.v1, f.splitPresence = tc.v1, tc.split })
			c, err := dialFake(t, f, nil)
			if err != nil {
				t.Fatal(err)
			}
			c.mu.Lock()
			v := c.cur.version
			c.mu.Unlock()
			if v != tc.wantVersion {
				t.Errorf("negotiated version %d, want %d", v, tc.wantVersion)
			}
			if w := c.Welcome(); len(w.Channels) != 2 || w.Channels[1].Name != "ops" || w.Channels[1].ID != 2 || w.Channels[1].Mode != proto.ModeOpen {
				t.Errorf("welcome channels %+v", w.Channels)
			}
			ctx := testCtx(t)
			users, err := c.Who(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(users) != 2 || users[0].Name != "alice" || users[1].Name != "zed" || !users[1].Talking {
				t.Errorf("who: %+v", users)
			}
			if err := c.Text(ctx, "", "hello"); err != nil {
				t.Errorf("text to channel: %v", err)
			}
			if err := c.Text(ctx, "nobody", "hello"); err == nil || !strings.Contains(err.Error(), "nobody is not online") {
				t.Errorf("text to nobody: %v", err)
			}
			if _, m := f.snapshot(); !containsText(m, "lobby", "hello") {
				t.Errorf("relay did not get the text: %v", m)
			}
			if rtt, err := c.Ping(ctx); err != nil || rtt <= 0 {
				t.Errorf("ping %v %v", rtt, err)
			}
		})
	}
}

func containsText(msgs []proto.Message, channel, text string) bool {
	for _, m := range msgs {
		if tm, ok := m.(*proto.Text); ok && tm.Channel == channel && tm.Text == text {
			return true
		}
	}
	return false
}

func TestReconnectRejoins(t *testing.T) {
	f := newFakeRelay(t)
	c, events := dialReconnecting(t, f, "ops")
	ctx := testCtx(t)
	f.dropAll()
	e := waitState(t, ctx, events, StateReconnecting)
	if e.Err == nil {
		t.Error("reconnecting event without a cause")
	}
	waitState(t, ctx, events, StateConnected)
	if ch, ok := c.Channel(); !ok || ch.Name != "ops" {
		t.Errorf("after reconnect in %+v %v, want ops", ch, ok)
	}
	joins := 0
	_, msgs := f.snapshot()
	for _, m := range msgs {
		if j, ok := m.(*proto.Join); ok && j.Channel == "ops" {
			joins++
		}
	}
	if joins != 2 {
		t.Errorf("%d joins of ops, want 2", joins)
	}
	if c.Stats().Reconnects != 1 {
		t.Errorf("stats %+v", c.Stats())
	}
	c.Close()
	waitState(t, ctx, events, StateClosed)
}

func TestNoReconnectCloses(t *testing.T) {
	f := newFakeRelay(t)
	handler, events := eventSink()
	c, err := dialFake(t, f, func(c *Config) { c.OnEvent = handler })
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	f.dropAll()
	waitState(t, ctx, events, StateClosed)
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("Done not closed")
	}
	if c.Err() == nil {
		t.Error("Err is nil after the connection dropped")
	}
	if _, err := c.Talk(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("Talk after close: %v", err)
	}
}

func TestSilencePackets(t *testing.T) {
	dec, err := codec.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	for pkt, n := range map[*[]byte]int{&silence10ms: 480, &silence20ms: 960} {
		got, err := codec.PacketSamples(*pkt)
		if err != nil || got != n {
			t.Errorf("%x: %d samples, %v; want %d", *pkt, got, err, n)
		}
		pcm := make([]int16, n)
		m, err := dec.Decode(*pkt, pcm)
		if err != nil || m != n {
			t.Fatalf("decode %x: %d, %v", *pkt, m, err)
		}
		for i, v := range pcm {
			if v != 0 {
				t.Fatalf("%x: sample %d is %d, not silence", *pkt, i, v)
			}
		}
	}
}

func TestEventQueueDropsOldest(t *testing.T) {
	release := make(chan struct{})
	var got []Event
	q := newEventQueue(func(e Event) {
		<-release
		got = append(got, e)
	}, 3)
	go q.run()
	for i := range 10 {
		q.push(Event{Msg: &proto.Ping{Nonce: uint64(i)}})
	}
	close(release)
	q.close()
	<-q.done
	// The handler took the first event before the queue filled, or not:
	// either way the last three survive and the total is consistent.
	if n := uint64(len(got)) + q.droppedCount(); n != 10 {
		t.Errorf("delivered %d + dropped %d != 10", len(got), q.droppedCount())
	}
	last := got[len(got)-1].Msg.(*proto.Ping).Nonce
	if last != 9 {
		t.Errorf("last delivered %d, want 9", last)
	}
}

// TestReconnectRefusedEnds: the password was changed while connected; the
// redial is refused for it and the client ends with the AuthError instead
// of retrying the old password for ever.
func TestReconnectRefusedEnds(t *testing.T) {
	f := newFakeRelay(t)
	c, events := dialReconnecting(t, f, "")
	ctx := testCtx(t)
	f.mu.Lock()
	f.password = "changed"
	f.mu.Unlock()
	f.dropAll()
	waitState(t, ctx, events, StateClosed)
	var ae *AuthError
	if !errors.As(c.Err(), &ae) {
		t.Fatalf("client ended with %v, want an AuthError", c.Err())
	}
}

// dialReconnecting dials f with Reconnect on (10 ms backoff) into channel
// ("" for the default) and waits until it is connected.
func dialReconnecting(t *testing.T, f *fakeRelay, channel string) (*Client, chan Event) {
	t.Helper()
	handler, events := eventSink()
	c, err := dialFake(t, f, func(c *Config) {
		c.Channel = channel
		c.Reconnect = true
		c.MinBackoff = 10 * time.Millisecond
		c.OnEvent = handler
	})
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, testCtx(t), events, StateConnected)
	return c, events
}
