package history_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/history"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// states collects a client's connection states for waiting on them.
type states struct {
	mu   sync.Mutex
	seen []client.State
	wake chan struct{}
}

func (s *states) add(st client.State) {
	s.mu.Lock()
	s.seen = append(s.seen, st)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// wait waits for state st after the first n states seen and returns how
// many have been seen up to it.
func (s *states) wait(t *testing.T, ctx context.Context, who string, n int, st client.State) int {
	t.Helper()
	for {
		s.mu.Lock()
		for i := n; i < len(s.seen); i++ {
			if s.seen[i] == st {
				s.mu.Unlock()
				return i + 1
			}
		}
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-ctx.Done():
			t.Fatalf("%s never reached state %v", who, st)
		}
	}
}

// A transmission said after a relay restart by a session that is back
// reaches a session that comes back later: the relay sends it the
// transmissions of the time it was away (proto.HistoryAway) and the
// client's AwayPlayer plays them into its sink, whole and in order, as
// the replay talker. Before, live voice said while a session was
// reconnecting was lost for it.
func TestTransmissionWhileAwayIsPlayedOnReturn(t *testing.T) {
	st := relaytest.HistoryStore(t)
	if _, err := st.SetChannel("ops", "history=voice"); err != nil {
		t.Fatal(err)
	}
	r := relaytest.Start(t, relaytest.WithHistory(st))
	r.AddUser("alice", "pa", 0)
	r.AddUser("bob", "pb", 0)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	px := r.NewProxy(t)

	dial := func(name, pw, addr string, st *states, onEvent func(client.Event)) *client.Client {
		c, err := client.Dial(ctx, client.Config{Relay: addr, Fingerprint: r.Fingerprint, Name: name, Password: pw,
			Channel: "ops", Reconnect: true, KnownRelaysFile: filepath.Join(t.TempDir(), "known"),
			OnEvent: func(e client.Event) {
				if e.Msg == nil {
					st.add(e.State)
				}
				if onEvent != nil {
					onEvent(e)
				}
			}})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	var aliceSt, bobSt = &states{wake: make(chan struct{}, 1)}, &states{wake: make(chan struct{}, 1)}
	alice := dial("alice", "pa", r.Addr, aliceSt, nil)

	// Bob plays what he missed into a sink that counts the replay's frames.
	var mu sync.Mutex
	var frames int
	var ended bool
	gotEnd := make(chan struct{})
	sink := func(h proto.VoiceHeader, opus []byte, _ time.Time) {
		if h.Sender != history.ReplayTalker {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		frames++
		if h.Flags&proto.FlagEnd != 0 && !ended {
			ended = true
			close(gotEnd)
		}
	}
	var player *history.AwayPlayer
	var said []string
	var playerReady = make(chan struct{})
	bob := dial("bob", "pb", px.Addr, bobSt, func(e client.Event) {
		if h, ok := e.Msg.(*proto.History); ok {
			<-playerReady
			player.Add(h)
		}
	})
	player = history.NewAwayPlayer(bob, sink, history.AwayConfig{
		Hears: func(ch string) bool { return ch == "ops" },
		Say:   func(line string) { mu.Lock(); said = append(said, line); mu.Unlock() },
	})
	close(playerReady)
	go player.Run(ctx)

	// Bob's path to the relay goes silent; the relay is killed and comes
	// back; alice is back and talks while bob is still away.
	px.Freeze(true)
	r.Kill(t)
	r.Restart(t)
	n := aliceSt.wait(t, ctx, "alice", 0, client.StateReconnecting)
	aliceSt.wait(t, ctx, "alice", n, client.StateConnected)
	bobSt.wait(t, ctx, "bob", 0, client.StateReconnecting)
	tx, err := alice.Talk(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const sent = 50
	pkt := []byte{0xF8, 0xFF, 0xFE}               // 20 ms of Opus silence
	tick := time.NewTicker(20 * time.Millisecond) // as a talker sends
	defer tick.Stop()
	for range sent {
		if err := tx.Send(pkt, 960); err != nil {
			t.Fatal(err)
		}
		<-tick.C
	}
	if err := tx.End(ctx); err != nil {
		t.Fatal(err)
	}

	// Bob comes back and hears it.
	px.Freeze(false)
	select {
	case <-gotEnd:
	case <-ctx.Done():
		mu.Lock()
		t.Fatalf("bob never played alice's transmission: %d replay frames, said %q", frames, said)
	}
	relaytest.Poll(t, "the player to finish the replay", 20*time.Millisecond, func() bool {
		played, skipped := player.Stats()
		return played+skipped > 0
	})
	// Every packet the relay kept of it (a datagram may be lost on a busy
	// machine; what the relay did not get nobody could hear), each once.
	items, _, err := alice.History(ctx, proto.HistoryQuery{Channel: "ops", Kinds: 1 << proto.ItemVoice})
	if err != nil || len(items) != 1 {
		t.Fatalf("alice's transmissions in ops: %+v, %v", items, err)
	}
	rec, err := alice.Fetch(ctx, items[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if frames != len(rec.Packets) || frames < sent/2 {
		t.Errorf("bob played %d frames; the relay kept %d of the %d alice said while he was away", frames, len(rec.Packets), sent)
	}
	if len(said) == 0 {
		t.Errorf("the player said nothing about what it plays")
	}
	if played, skipped := player.Stats(); played != 1 || skipped != 0 {
		t.Errorf("player: %d played, %d skipped; want 1, 0", played, skipped)
	}
	if hs := r.HistoryStats(); hs.AwaySent != 1 {
		t.Errorf("relay: %d transmissions sent to sessions back from away, want 1", hs.AwaySent)
	}
}
