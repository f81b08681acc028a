package client

import (
	"errors"
	"strings"
	"testing"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// TestClientMonitorAndWhisper: a client dialled with Config.Monitor hears
// the monitored channel (also after a reconnection) and knows it as
// monitored; a call reaches the callee alone, ends with End, and a call to
// someone offline is refused with a clear error.
func TestClientMonitorAndWhisper(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), relaytest.Channels(accounts.Channel{Name: "lobby"}, accounts.Channel{Name: "ops"}))
	ctx := testCtx(t)
	sup, err := dialRelay(t, r.Addr, r.Fingerprint, "sup", "", "lobby", func(c *Config) { c.Monitor = []string{"ops"}; c.Reconnect = true })
	if err != nil {
		t.Fatal(err)
	}
	waitMsg(t, ctx, sup, func(m *proto.Monitoring) bool { return len(m.Channels) == 1 && m.Channels[0].Name == "ops" })
	if !sup.IsMonitored(2) || sup.IsMonitored(1) || sup.ChannelName(2) != "ops" {
		t.Fatalf("monitored %+v", sup.Monitored())
	}
	otto := mustDial(t, r, "otto", "", "ops")
	lena := mustDial(t, r, "lena", "", "lobby")
	tx, err := otto.Talk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx.Send([]byte{0xF8, 0xFF, 0xFE}, 960)
	tx.End(ctx)
	for range 2 {
		if h := sup.voice.next(t, ctx); h.Channel != 2 || h.Sender != otto.Welcome().Session {
			t.Fatalf("sup heard %+v", h)
		}
	}

	// A call from lena to sup: sup hears it, otto does not.
	call, err := lena.Whisper(ctx, "sup")
	if err != nil {
		t.Fatal(err)
	}
	waitMsg(t, ctx, sup, func(m *proto.Whisper) bool { return m.Active && m.FromName == "lena" && m.ToName == "sup" })
	call.Send([]byte{0xF8, 0xFF, 0xFE}, 960)
	if err := call.End(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if h := sup.voice.next(t, ctx); h.Channel != proto.WhisperChannel || h.Sender != lena.Welcome().Session {
			t.Fatalf("sup heard %+v", h)
		}
	}
	waitMsg(t, ctx, sup, func(m *proto.Whisper) bool { return !m.Active && m.FromName == "lena" })
	if n := len(otto.voice.ch); n != 0 {
		t.Fatalf("otto heard %d frames of the call", n)
	}
	_, err = lena.Whisper(ctx, "zed")
	var re *RelayError
	if !errors.As(err, &re) || re.Code != proto.CodeNoUser || re.Error() == "" {
		t.Fatalf("call to someone offline: %v", err)
	}
	t.Logf("call to someone offline: %v", err)

	// After a reconnection the set is asked for again.
	r.Kill(t)
	r.Restart(t)
	waitMsg(t, ctx, sup, func(m *proto.Monitoring) bool { return len(m.Channels) == 1 && m.Channels[0].Name == "ops" })
}

// TestClientGroupCall: Whisper with a comma list calls each of them (one
// GroupCallStart): both hear the call; one of them offline refuses it in
// words.
func TestClientGroupCall(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	ctx := testCtx(t)
	lena := mustDial(t, r, "lena", "", "lobby")
	sup := mustDial(t, r, "sup", "", "lobby")
	otto := mustDial(t, r, "otto", "", "lobby")
	if got := Callees(" sup, otto ,,"); len(got) != 2 || got[0] != "sup" || got[1] != "otto" {
		t.Fatalf("Callees: %q", got)
	}
	call, err := lena.Whisper(ctx, "sup, otto")
	if err != nil {
		t.Fatal(err)
	}
	call.Send([]byte{0xF8, 0xFF, 0xFE}, 960)
	if err := call.End(ctx); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*testClient{sup, otto} {
		waitMsg(t, ctx, c, func(m *proto.Whisper) bool { return m.Active && m.FromName == "lena" && m.To == c.Welcome().Session })
		for range 2 {
			if h := c.voice.next(t, ctx); h.Channel != proto.WhisperChannel || h.Sender != lena.Welcome().Session {
				t.Fatalf("%s heard %+v", c.Name(c.Welcome().Session), h)
			}
		}
	}
	_, err = lena.Whisper(ctx, "sup,zed")
	var re *RelayError
	if !errors.As(err, &re) || re.Code != proto.CodeNoUser || re.About != proto.TypeGroupCallStart || !strings.Contains(err.Error(), "zed is not online") {
		t.Fatalf("group call with someone offline: %v", err)
	}
}

// TestNameFromCallNotice: a call's voice can come before the relay's
// presence list names the caller (presence goes out in batches; `talk
// record` said "hearing session 4" in a loaded run of
// TestGroupCallHeardByCalleesOnly). The call notice names the caller, and
// Name uses it until presence does.
func TestNameFromCallNotice(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	sup := mustDial(t, r, "sup", "", "lobby")
	const ghost = 4242 // a session presence has not named
	if n := sup.Name(ghost); n != "" {
		t.Fatalf("Name before any notice: %q", n)
	}
	sup.mu.Lock()
	cn := sup.cur
	sup.mu.Unlock()
	sup.handle(cn, &proto.Whisper{From: ghost, FromName: "lena", To: sup.Welcome().Session, ToName: "sup", Active: true})
	if n := sup.Name(ghost); n != "lena" {
		t.Fatalf("Name after the call notice: %q, want lena", n)
	}
	if n := sup.Name(sup.Welcome().Session); n != "sup" {
		t.Fatalf("own name: %q", n)
	}
}
