package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/internal/store"
	"github.com/hark-intercom/hark/proto"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// relayBin builds the relay once for the tests that run it as a process.
func relayBin(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hark-relay-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "relay")
		if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// TestAdminCommandsWhileTheRelayRuns: on a relay machine, `relay user
// add`, `relay user del`, `relay channel set` and `relay history purge`
// work next to the running relay, which follows them within seconds.
func TestAdminCommandsWhileTheRelayRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a relay process")
	}
	data := t.TempDir()
	run := func(stdin string, args ...string) error {
		return withStdin(t, stdin, func() error {
			return app().Run(flagsFirst(append(append([]string{"relay"}, args...), "--data", data)))
		})
	}
	if err := run("pw-alice\n", "user", "add", "alice", "--roles", "admin"); err != nil {
		t.Fatal(err)
	}
	p := startRelayProc(t, relayBin(t), data)
	a := p.dial(t, "alice")
	a.Join(t, "lobby")
	if err := run("pw-carol\n", "user", "add", "carol"); err != nil {
		t.Fatal(err)
	}
	c := p.dial(t, "carol") // a user added while the relay runs logs in
	a.MustSend(t, &proto.Text{To: "carol", Text: "hi", ClientID: 1})
	relaytest.Wait(t, a, func(m *proto.TextAck) bool { return m.ClientID == 1 })

	if err := run("", "channel", "set", "lobby", "history=voice", "max-age=24h"); err != nil {
		t.Fatal(err)
	}
	err := run("", "channel", "set", "nowhere", "history=voice")
	if err == nil || !strings.Contains(err.Error(), `there is no channel "nowhere"; the channels are: lobby, ops`) {
		t.Fatalf("channel set of an unknown channel: %v", err)
	}
	// The relay follows (it polls the store) and tells the channel's
	// members with a fresh Joined.
	relaytest.Wait(t, a, func(j *proto.Joined) bool { return j.Name == "lobby" && j.History == proto.HistoryVoice })
	a.MustSend(t, &proto.Text{Text: "in lobby", ClientID: 2})
	relaytest.Wait(t, a, func(m *proto.TextAck) bool { return m.ClientID == 2 })
	if err := run("", "history", "purge", "--channel", "lobby"); err != nil {
		t.Fatal(err)
	}
	a.MustSend(t, &proto.HistoryQuery{Req: 1, Channel: "lobby"})
	if h := relaytest.Wait(t, a, func(h *proto.History) bool { return h.Req == 1 }); len(h.Items) != 0 {
		t.Fatalf("lobby after a purge: %+v", h.Items)
	}
	if err := run("", "history", "stats"); err != nil {
		t.Fatal(err)
	}

	// Deleting carol ends her session and removes her private texts.
	if err := run("", "user", "del", "carol"); err != nil {
		t.Fatal(err)
	}
	if bye := c.WaitClosed(t); bye == nil || bye.Code != proto.CodeKicked {
		t.Fatalf("carol's session after user del: %+v", bye)
	}
	a.MustSend(t, &proto.HistoryQuery{Req: 2, Kinds: 1 << proto.ItemPrivate})
	if h := relaytest.Wait(t, a, func(h *proto.History) bool { return h.Req == 2 }); len(h.Items) != 0 {
		t.Fatalf("private texts of a deleted user: %+v", h.Items)
	}
	a.Close()
	c.Close()
}

// relayProc is a relay process on a data directory.
type relayProc struct {
	cmd  *exec.Cmd
	addr string
	fp   string
	out  *strings.Builder // stderr
}

func startRelayProc(t *testing.T, bin, data string, extra ...string) *relayProc {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	p := &relayProc{addr: addr, out: &strings.Builder{}}
	p.cmd = exec.Command(bin, append([]string{"--data", data, "--listen", addr, "--log-level", "warn"}, extra...)...)
	p.cmd.Stderr = p.out
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.cmd.Process.Kill(); p.cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if fp, ok := strings.CutPrefix(sc.Text(), "Fingerprint: "); ok {
			p.fp = fp
			break
		}
	}
	if p.fp == "" {
		p.cmd.Wait()
		t.Fatalf("the relay did not start: %s", p.out)
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return p
}

func (p *relayProc) dial(t *testing.T, name string) *relaytest.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), relaytest.WaitTimeout)
	defer cancel()
	c, err := (&relaytest.Relay{Addr: p.addr, Fingerprint: p.fp}).TryDial(ctx, name, "pw-"+name, relaytest.DialOptions{})
	if err != nil {
		t.Fatalf("login as %s: %v\n%s", name, err, p.out)
	}
	return c
}

// ackUntil reads c's messages until the TextAck for cid, noting every
// TextAck on the way.
func ackUntil(t *testing.T, c *relaytest.Client, cid uint64, note func(*proto.TextAck)) {
	t.Helper()
	for {
		if ack, ok := c.Next(t).(*proto.TextAck); ok {
			note(ack)
			if ack.ClientID == cid {
				return
			}
		}
	}
}

// TestCrashKeepsAcknowledgedHistory kills a real relay process (SIGKILL)
// 20 times while texts, private texts and transmissions are going on, and
// checks after each kill that the store opens, holds every text the relay
// had acknowledged, holds no text twice (also after resends of the same
// client ids across the restarts) and that every stored recording reads.
func TestCrashKeepsAcknowledgedHistory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills a relay 20 times")
	}
	dir := t.TempDir()
	bin := relayBin(t)
	data := filepath.Join(dir, "data")
	// An old data directory: users.json and channels.json, imported by the
	// relay's first start.
	us, err := accounts.Open(filepath.Join(data, "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"alice", "bob"} {
		if err := us.Add(n, "pw-"+n, 0); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(data, "channels.json"), []byte(`{"channels":[{"name":"lobby"},{"name":"ops","mode":"open"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := app().Run(flagsFirst([]string{"relay", "channel", "set", "lobby", "history=voice", "--data", data})); err != nil {
		t.Fatal(err)
	}

	type sent struct {
		from string
		cid  uint64
		text string
	}
	acked := map[sent]uint64{} // every text acknowledged so far, with its id
	var all []sent             // every text sent so far
	nextCID := uint64(1)
	for round := range 20 {
		p := startRelayProc(t, bin, data)
		a := p.dial(t, "alice")
		b := p.dial(t, "bob")
		j := a.Join(t, "lobby")
		note := func(ack *proto.TextAck) {
			if ack.ID == 0 {
				return
			}
			for _, s := range all {
				if s.cid == ack.ClientID {
					if old, ok := acked[s]; ok && old != ack.ID {
						t.Fatalf("round %d: text %d acknowledged as %d and then as %d", round, s.cid, old, ack.ID)
					}
					acked[s] = ack.ID
				}
			}
		}
		send := func(c *relaytest.Client, m sent) {
			to := ""
			if m.from == "bob" {
				to = "alice"
			}
			c.MustSend(t, &proto.Text{To: to, Text: m.text, ClientID: m.cid})
		}
		newText := func(from string) sent {
			m := sent{from, nextCID, fmt.Sprintf("%s text %d", from, nextCID)}
			nextCID++
			all = append(all, m)
			return m
		}
		voice := func(seq int, fl proto.VoiceFlags) {
			a.SendVoice(proto.VoiceHeader{Flags: fl, Channel: j.ID, Seq: uint16(seq), Timestamp: uint32(960 * seq), Duration: 960}, []byte(fmt.Sprintf("opus %d/%d", round, seq)))
		}
		// Resend two earlier texts (an acknowledged one and the newest,
		// maybe not acknowledged) with their client ids, as a client
		// does after a reconnect.
		if len(all) > 0 {
			for _, m := range []sent{all[round%len(all)], all[len(all)-1]} {
				if m.from == "alice" {
					send(a, m)
				} else {
					send(b, m)
				}
			}
		}
		// Texts and a transmission, waiting for their acks.
		for i := range 4 {
			voice(i, map[bool]proto.VoiceFlags{true: proto.FlagStart}[i == 0])
			send(a, newText("alice"))
			send(b, newText("bob"))
		}
		voice(4, proto.FlagEnd)
		ackUntil(t, a, nextCID-2, note)
		ackUntil(t, b, nextCID-1, note)
		// More, and the kill while the relay handles them.
		var more []uint64
		for i := range 3 + round%3 {
			voice(10+i, map[bool]proto.VoiceFlags{true: proto.FlagStart}[i == 0])
			m := newText("alice")
			more = append(more, m.cid)
			send(a, m)
			send(b, newText("bob"))
		}
		// Kill at once, or once some of them were acknowledged (the
		// others are then being read, stored or acknowledged).
		if k := round % 4; k > 0 {
			ackUntil(t, a, more[k-1], note)
		}
		if err := p.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		p.cmd.Wait()
		// Every ack the clients got names a stored text (the relay sent
		// it before it died; one still in flight is not checked).
		for _, c := range []*relaytest.Client{a, b} {
			for _, m := range c.Pending() {
				if ack, ok := m.(*proto.TextAck); ok {
					note(ack)
				}
			}
			c.Close()
		}

		st, err := store.Open(filepath.Join(data, store.FileName), store.Options{NoWriter: true})
		if err != nil {
			t.Fatalf("round %d: the store does not open after kill -9: %v", round, err)
		}
		seen := map[string]uint64{}
		for _, user := range []string{"alice", "bob"} {
			var before uint64
			for {
				items, more, err := st.Query(context.Background(), user, store.Query{Before: before, Limit: 500})
				if err != nil {
					t.Fatal(err)
				}
				for _, it := range items {
					if it.Kind == store.KindVoice {
						if _, _, err := st.Packets(context.Background(), user, it.ID); err != nil {
							t.Fatalf("round %d: recording %d does not read: %v", round, it.ID, err)
						}
						continue
					}
					if old, ok := seen[it.Text]; ok && old != it.ID {
						t.Fatalf("round %d: %q stored twice (%d and %d)", round, it.Text, old, it.ID)
					}
					seen[it.Text] = it.ID
				}
				if !more {
					break
				}
				before = items[len(items)-1].ID
			}
		}
		for s, id := range acked {
			if got, ok := seen[s.text]; !ok || got != id {
				t.Fatalf("round %d: %q was acknowledged as %d but the store has %d (present %v)", round, s.text, id, got, ok)
			}
		}
		st.Close()
		t.Logf("round %d: %d texts sent, %d acknowledged, %d stored", round, len(all), len(acked), len(seen))
	}
	if len(acked) < 20*8 {
		t.Fatalf("only %d texts were acknowledged over 20 rounds", len(acked))
	}
}

// TestUDPBatchRelaysVoice: a relay started with --udp-batch (its packets
// sent in sendmmsg batches, internal/udpbatch) logs people in and forwards
// a transmission to every listener.
func TestUDPBatchRelaysVoice(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a relay process")
	}
	p := startRelayProc(t, relayBin(t), t.TempDir(), "--open", "--udp-batch")
	talker := p.dial(t, "ann")
	ch := talker.Join(t, "ops")
	listeners := []*relaytest.Client{p.dial(t, "bob"), p.dial(t, "cay")}
	for _, l := range listeners {
		l.Join(t, "ops")
	}
	const frames = 20
	for seq := uint16(1); seq <= frames; seq++ {
		fl := proto.VoiceFlags(0)
		if seq == 1 {
			fl = proto.FlagStart
		}
		if err := talker.SendVoice(proto.VoiceHeader{Channel: ch.ID, Seq: seq, Duration: 960, Flags: fl}, []byte{byte(seq), 1, 2}); err != nil {
			t.Fatal(err)
		}
	}
	for _, l := range listeners {
		h, payload := l.RecvVoice(t)
		if h.Channel != ch.ID || h.Sender != talker.Session() || len(payload) != 3 {
			t.Fatalf("got %+v %v, want a frame of %d in channel %d", h, payload, talker.Session(), ch.ID)
		}
	}
}
