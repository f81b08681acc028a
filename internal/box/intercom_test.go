package box

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

func TestConfigListenAndCall(t *testing.T) {
	base := "relay = r\nuser = door\nvad = yes\n"
	cfg, err := ParseConfig([]byte(base + "listen = ops, dock\ncall = frontdesk\ncall-button = GPIO27\n"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cfg.Listen, "|") != "ops|dock" || cfg.Call != "frontdesk" || cfg.CallButton != "GPIO27" {
		t.Fatalf("parsed %+v", cfg)
	}
	if cfg, err = ParseConfig([]byte(base + "call = frontdesk, role:page\ncall-button = GPIO27\n")); err != nil || cfg.Call != "frontdesk, role:page" {
		t.Fatalf("a call to a group: %q, %v", cfg.Call, err)
	}
	cfg, err = ParseConfig([]byte(base + "channel = Lobby\nlisten = ops, Dock\nvolume #Dock = 50\nVolume #ops = 150 %\nvolume #Lobby = 0\n"))
	if err != nil {
		t.Fatal(err)
	}
	if v := cfg.Volumes; len(v) != 3 || v["Dock"] != 0.5 || v["ops"] != 1.5 || v["Lobby"] != 0 {
		t.Fatalf("volumes %v", v)
	}
	for _, bad := range []struct{ conf, want string }{
		{"listen = ops\nvolume #dock = 50\n", "neither the box's channel nor in listen"},
		{"listen = ops\nvolume #ops = loud\n", "percentage from 0"},
		{"listen = ops\nvolume #ops = 401\n", "percentage from 0"},
		{"listen = ops\nvolume ops = 50\n", "volume #CHANNEL"},
		{"listen = ops\nvolume #ops = 50\nvolume #ops = 60\n", "already set"},
		{"call = frontdesk\n", "call-button is not"},
		{"call-button = GPIO27\n", "call is not"},
		{"call = door\ncall-button = GPIO27\n", "own user"},
		{"call = frontdesk, door\ncall-button = GPIO27\n", "own user"},
		{"call = role:nurses\ncall-button = GPIO27\n", "no role"},
		{"listen = ops, no such\n", "listen"},
		{"call = frontdesk\ncall-button = GPIO27\ncall-button-device = /dev/input/x\n", "not a key name"},
	} {
		if _, err := ParseConfig([]byte(base + bad.conf)); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want an error about %q", bad.conf, err, bad.want)
		}
	}
}

// TestBoxListensAndCalls: a box with listen = ops is confirmed by the relay;
// held, its call button talks to frontdesk alone (carol beside frontdesk
// hears nothing); a call to the box is logged with who calls.
func TestBoxListensAndCalls(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open(), relaytest.Channels(accounts.Channel{Name: "lobby"}, accounts.Channel{Name: "ops"}))
	desk, carol := r.Dial(t, "frontdesk", ""), r.Dial(t, "carol", "")
	desk.Join(t, "lobby")
	carol.Join(t, "lobby")
	cfg, err := ParseConfig([]byte("relay = " + r.Addr + "\nuser = door\nfingerprint = " + r.Fingerprint +
		"\nvad = yes\nlisten = ops\nvolume #ops = 30\ncall = frontdesk\ncall-button = GPIO27\n"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.KnownRelaysFile = filepath.Join(t.TempDir(), "known")
	button := &fakeButton{press: make(chan bool)}
	call := &fakeButton{press: make(chan bool)}
	logs := &logBuffer{change: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, nullAudio(t, Deps{PTT: button, Call: call, Out: logs})) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Run did not return")
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", logs.String())
		}
	})
	logs.waitFor(t, "msg=connected relay=")
	logs.waitFor(t, `msg="also listening to" channels=ops`)
	logs.waitFor(t, `msg="channel volume" channel=ops percent=30`)

	call.press <- true
	w := relaytest.Wait(t, desk, func(m *proto.Whisper) bool { return m.Active })
	if w.FromName != "door" || w.ToName != "frontdesk" {
		t.Fatalf("call as frontdesk sees it: %+v", w)
	}
	if h, _ := desk.RecvVoice(t); h.Channel != proto.WhisperChannel || h.Sender != w.From {
		t.Fatalf("frontdesk heard %+v", h)
	}
	call.press <- false
	relaytest.Wait(t, desk, func(m *proto.Whisper) bool { return !m.Active })
	if n := carol.VoicePending(); n != 0 {
		t.Fatalf("carol heard %d frames of the call", n)
	}

	desk.MustSend(t, &proto.WhisperStart{To: "door"})
	relaytest.Wait[*proto.FloorGrant](t, desk, nil)
	logs.waitFor(t, "msg=call from=frontdesk to=\"this box\" on=true")
}
