package box

import (
	"context"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/codec"
	"github.com/hark-intercom/hark/internal/history"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// talkTone sends d of a tone as one transmission from c, in real time.
func talkTone(t *testing.T, c *client.Client, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tx, err := c.Talk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := codec.NewEncoder(codec.EncoderConfig{FrameSamples: 960})
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, 960)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; i < int(d/(20*time.Millisecond)); i++ {
		for k := range pcm {
			pcm[k] = int16(6000 * math.Sin(2*math.Pi*440*float64(i*960+k)/48000))
		}
		pkt, err := enc.Encode(pcm, make([]byte, 0, codec.MaxPacketBytes))
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Send(pkt, 960); err != nil {
			t.Fatal(err)
		}
		<-tick.C
	}
	if err := tx.End(ctx); err != nil {
		t.Fatal(err)
	}
}

// A transmission the box missed while it was off lights the ring LED until
// the replay button has played it.
func TestBoxMissedTransmissionAndReplayButton(t *testing.T) {
	hs := relaytest.HistoryStore(t)
	if _, err := hs.SetChannel("lobby", "history=voice"); err != nil {
		t.Fatal(err)
	}
	r := relaytest.Start(t, relaytest.Open(), relaytest.WithHistory(hs))
	cfg, err := ParseConfig([]byte("relay = " + r.Addr + "\nuser = door\nfingerprint = " + r.Fingerprint +
		"\nvad = yes\nled-connected = 1\nled-ring = 2\nreplay-button = GPIO27\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ReplayButton != "GPIO27" || cfg.ReplayIsKey() {
		t.Fatalf("replay-button parsed as %q (key %v)", cfg.ReplayButton, cfg.ReplayIsKey())
	}
	cfg.KnownRelaysFile = filepath.Join(t.TempDir(), "known")
	const connected, ring = 1 << 0, 1 << 1
	runBox := func(replay *fakeButton) (*fakeLEDs, *logBuffer, func()) {
		leds := &fakeLEDs{change: make(chan struct{}, 1)}
		logs := &logBuffer{change: make(chan struct{}, 1)}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- Run(ctx, cfg, nullAudio(t, Deps{PTT: &fakeButton{press: make(chan bool)}, Replay: replay, LEDs: leds, Out: logs}))
		}()
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("box log:\n%s", logs.String())
			}
		})
		return leds, logs, func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		}
	}

	// The box has been on before: the relay knows what it has seen.
	leds, logs, stop := runBox(&fakeButton{press: make(chan bool)})
	logs.waitFor(t, "msg=connected")
	leds.waitFor(t, "connected", func(v uint64) bool { return v&connected != 0 })
	stop()

	// bob talks while the box is off.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	bob, err := client.Dial(ctx, client.Config{Relay: r.Addr, Fingerprint: r.Fingerprint, Name: "bob",
		KnownRelaysFile: filepath.Join(t.TempDir(), "known")})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	talkTone(t, bob, time.Second)
	// Stored once the transmission ended: wait for it (asking every 50 ms:
	// the relay limits how fast a session may ask).
	relaytest.Poll(t, "the transmission stored", 50*time.Millisecond, func() bool {
		items, _, err := bob.History(ctx, proto.HistoryQuery{Kinds: history.PlayableKinds})
		if err != nil {
			t.Fatal(err)
		}
		return len(items) > 0
	})

	replay := &fakeButton{press: make(chan bool)}
	leds, logs, stop = runBox(replay)
	defer stop()
	logs.waitFor(t, "missed transmissions to play")
	leds.waitFor(t, "ring lit for the missed transmission", func(v uint64) bool { return v&ring != 0 })
	if out := logs.String(); !strings.Contains(out, "bob talked in lobby for 1s") {
		t.Errorf("the missed transmission is not logged:\n%s", out)
	}
	replay.press <- true
	replay.press <- false
	logs.waitFor(t, "msg=replaying")
	leds.waitFor(t, "ring off once played", func(v uint64) bool { return v&ring == 0 })
}
