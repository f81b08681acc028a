package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/audiotest"
	"github.com/hark-intercom/hark/internal/cluster"
	"github.com/hark-intercom/hark/internal/wav"
)

var reClusterReady = regexp.MustCompile(`cluster: ready`)

// startClusterRelays starts n `relay` processes clustered on loopback
// (open mode): `relay cluster init` on the first, its keys copied to the
// others, every relay given every route address, and waits until each says
// its cluster is ready.
func startClusterRelays(t *testing.T, ctx context.Context, n int) []*relayProc {
	t.Helper()
	first := t.TempDir()
	p := start(t, "relay", env(t), "", "cluster", "init", "--data", first)
	if code := p.wait(ctx); code != 0 {
		t.Fatalf("relay cluster init: exit %d\n%s", code, p.text())
	}
	routes := cluster.FreeAddrs(t, n)
	var peers []string
	for _, a := range routes {
		peers = append(peers, "--peer", "nats://"+a)
	}
	var rs []*relayProc
	for i := 0; i < n; i++ {
		data := first
		if i > 0 {
			data = t.TempDir()
			copyDir(t, filepath.Join(first, cluster.KeyDir), filepath.Join(data, cluster.KeyDir))
		}
		args := append([]string{"--listen", "127.0.0.1:0", "--data", data, "--open", "--cluster", "e2e",
			"--cluster-listen", routes[i], "--node", fmt.Sprintf("relay%c", 'a'+i)}, peers...)
		p := start(t, "relay", env(t), "", args...)
		_, m := p.waitLine(ctx, 0, reListen)
		_, f := p.waitLine(ctx, 0, reFP)
		rs = append(rs, &relayProc{proc: p, addr: m[1], fp: f[1], data: data})
	}
	for _, r := range rs {
		r.waitLine(ctx, 0, reClusterReady)
		if r.fp != rs[0].fp {
			t.Fatalf("the relays of the cluster present different certificates: %s and %s", r.fp, rs[0].fp)
		}
	}
	return rs
}

// TestClusterSendRecord: three relays clustered; `talk send` at relay A is
// heard by `talk record` at relay C; a second sender at B during it is
// refused with the talker's name.
func TestClusterSendRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	t.Parallel()
	ctx := testCtx(t, 120*time.Second)
	rs := startClusterRelays(t, ctx, 3)
	// relay cluster status sees the three relays, each routed to the two others.
	st := start(t, "relay", env(t), "", "cluster", "status", "--data", rs[1].data, "--wait", "3s")
	if code := st.wait(ctx); code != 0 || !strings.Contains(st.text(), "3 relays answered") ||
		!strings.Contains(st.text(), "relaya: ") || !strings.Contains(st.text(), "routes to: relaya, relayc") {
		t.Errorf("relay cluster status (exit %d):\n%s", code, st.text())
	}
	speech := audiotest.Speech(t, speechText)
	file := audiotest.WriteWAV(t, wav.Format{Rate: 48000, Channels: 1, Bits: 16}, speech, 48000)
	other := audiotest.WriteWAV(t, wav.Format{Rate: 16000, Channels: 1, Bits: 16}, audiotest.Speech(t, "Interruption attempt."), 48000)

	rec := rs[2].startRecorder(t, ctx, "listener", "", "lobby")
	alice := rs[0].talk(t, "send", "alice", "", "lobby", file)
	rec.waitLine(ctx, 0, regexp.MustCompile(`alice is talking`))
	bob := rs[1].talk(t, "send", "bob", "", "lobby", other)
	if code := bob.wait(ctx); code == 0 {
		t.Fatalf("bob's send at relay B during alice's transmission at relay A succeeded:\n%s", bob.text())
	}
	if !reBusy.MatchString(bob.text()) {
		t.Errorf("bob's refusal does not say who is talking:\n%s", bob.text())
	}
	if code := alice.wait(ctx); code != 0 {
		t.Fatalf("alice's send exited %d:\n%s", code, alice.text())
	}
	rec.untilSilent(ctx, "alice")
	rec.interrupt(ctx)
	t.Logf("recorder at relay C: %s", rec.playoutStats())
	audiotest.Judge(t, "", speech, readMono(t, rec.out), 48000, 0.9)
}

// copyDir copies the files of directory from into a new directory to, as
// an operator copies the cluster's keys to another relay.
func copyDir(t *testing.T, from, to string) {
	t.Helper()
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

var reConnected = regexp.MustCompile(`msg=connected .*relay=`)

// TestClusterFailoverRecord: `talk record --relay A,B,C` at relay A, the
// relay that leads the cluster's floor bucket (found with `relay cluster
// status`), while alice talks there; A is killed with SIGKILL. The
// recorder moves to another relay by itself; alice's floor is free at B
// as soon as A is counted dead (a send at B is refused with "busy: alice
// is talking" until then, and never with "cannot agree": the others
// elected a new leader for the bucket meanwhile); bob's transmission at B
// is recorded whole.
func TestClusterFailoverRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	t.Parallel()
	ctx := testCtx(t, 120*time.Second)
	rs := startClusterRelays(t, ctx, 3)
	li := floorLeader(t, ctx, rs)
	lead, other := rs[li], rs[(li+1)%3]
	speech := audiotest.Speech(t, speechText)
	file := audiotest.WriteWAV(t, wav.Format{Rate: 48000, Channels: 1, Bits: 16}, speech, 48000)
	long := audiotest.WriteWAV(t, wav.Format{Rate: 48000, Channels: 1, Bits: 16},
		audiotest.Speech(t, "This is Alice talking at the relay that is about to die, on and on."), 48000)

	list := lead.addr
	for _, r := range rs {
		if r != lead {
			list += "," + r.addr
		}
	}
	out := filepath.Join(t.TempDir(), "rec.wav")
	rec := &recorder{proc: lead.talkBin(t, "talk", list, "record", "listener", "", "lobby", "-v", "--out", out), out: out}
	rec.waitLine(ctx, 0, reRecording)
	alice := lead.talk(t, "send", "alice", "", "lobby", long)
	i, _ := rec.waitLine(ctx, 0, regexp.MustCompile(`alice is talking`))
	first := i + 1

	killed := time.Now()
	if err := lead.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	i, _ = rec.waitLine(ctx, first, reConnected)
	t.Logf("the recorder was connected again %v after the kill of relay%c (the floors' leader):\n%s", time.Since(killed).Round(time.Millisecond), 'a'+li, strings.Join(rec.output()[first:i+1], "\n"))
	alice.wait(ctx)

	for try := 1; ; try++ {
		bob := other.talk(t, "send", "bob", "", "lobby", file)
		code := bob.wait(ctx)
		if code == 0 {
			t.Logf("bob's send at relay B: granted at try %d; it started %v after the kill", try, bob.sample0(ctx).Sub(killed).Round(time.Millisecond))
			break
		}
		if !reBusy.MatchString(bob.text()) {
			t.Fatalf("bob's send at relay B after the floors' leader died exited %d (want granted, or refused while alice's floor is still held):\n%s", code, bob.text())
		}
	}
	rec.untilSilent(ctx, "bob")
	rec.interrupt(ctx)
	t.Logf("recorder: %s", rec.playoutStats())
	audiotest.Judge(t, "", speech, readMono(t, rec.out), 48000, 0.9)
}

var reStatusNode = regexp.MustCompile(`^relay([a-z]): `)

// floorLeader returns the index in rs of the relay that leads the
// cluster's floor bucket (every floor's compare-and-set goes through it:
// its death is the worst case), as `relay cluster status` says.
func floorLeader(t *testing.T, ctx context.Context, rs []*relayProc) int {
	t.Helper()
	st := start(t, "relay", env(t), "", "cluster", "status", "--data", rs[0].data, "--wait", "3s")
	if code := st.wait(ctx); code != 0 {
		t.Fatalf("relay cluster status exited %d:\n%s", code, st.text())
	}
	li := -1
	for i, l := range st.output() {
		if strings.Contains(l, "leads the floors") {
			for j := i - 1; j >= 0; j-- {
				if m := reStatusNode.FindStringSubmatch(st.output()[j]); m != nil {
					li = int(m[1][0] - 'a')
					break
				}
			}
		}
	}
	if li < 0 || li >= len(rs) {
		t.Fatalf("relay cluster status names no relay leading the floors:\n%s", st.text())
	}
	return li
}

// TestClusterPageTextRingPresence: three relays clustered, real processes.
// Presence: each recorder that joins at one relay is announced at the two
// others, and `talk who` at each relay lists the same people in the same
// channels. A ring and a text from relay B reach recorders at A and C (a
// channel text, and a private one). A page from relay C pre-empts a
// talker at A and is heard, whole, by recorders at A and B.
func TestClusterPageTextRingPresence(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	t.Parallel()
	ctx := testCtx(t, 150*time.Second)
	rs := startClusterRelays(t, ctx, 3)

	// Presence: la at A, lb at B, lc at C; each later one is announced to
	// the earlier ones.
	la := rs[0].startRecorder(t, ctx, "la", "", "lobby")
	lb := rs[1].newRecorder(t, "lb", "", "lobby")
	lb.waitLine(ctx, 0, reRecording)
	joined := time.Now()
	la.waitLine(ctx, 0, regexp.MustCompile(`lb is online`))
	seenB := time.Since(joined)
	lc := rs[2].newRecorder(t, "lc", "", "ops")
	lc.waitLine(ctx, 0, reRecording)
	joined = time.Now()
	for _, r := range []*recorder{la, lb} {
		r.waitLine(ctx, 0, regexp.MustCompile(`lc is online`))
	}
	seenC := time.Since(joined)
	t.Logf("presence across relays: lb (at B) announced at A %v after it joined; lc (at C) at A and B %v after", seenB.Round(time.Millisecond), seenC.Round(time.Millisecond))
	var lists []string
	for i, r := range rs {
		who := r.talk(t, "who", fmt.Sprintf("who%d", i), "", "lobby")
		if code := who.wait(ctx); code != 0 {
			t.Fatalf("talk who at relay %d exited %d:\n%s", i, code, who.text())
		}
		var ours []string // the recorders' lines (not the who sessions')
		for _, l := range who.output() {
			if f := strings.Fields(l); len(f) >= 2 && (f[1] == "la" || f[1] == "lb" || f[1] == "lc") {
				ours = append(ours, strings.Join(f, " "))
			}
		}
		lists = append(lists, strings.Join(ours, "; "))
	}
	if want := "lobby la; lobby lb; ops lc"; lists[0] != want || lists[1] != want || lists[2] != want {
		t.Errorf("talk who at relays A, B, C:\n  %s\nwant each: %s", strings.Join(lists, "\n  "), want)
	}

	// Ring and texts from relay B.
	ring := rs[1].talk(t, "ring", "ringer", "", "lobby", "lunch", "is", "ready")
	if code := ring.wait(ctx); code != 0 {
		t.Fatalf("talk ring at relay B exited %d:\n%s", code, ring.text())
	}
	for _, r := range []*recorder{la, lc} {
		r.waitLine(ctx, 0, regexp.MustCompile(`RING from ringer: lunch is ready`))
	}
	text := rs[1].talk(t, "text", "texter", "", "lobby", "the", "van", "is", "here")
	if code := text.wait(ctx); code != 0 {
		t.Fatalf("talk text at relay B exited %d:\n%s", code, text.text())
	}
	la.waitLine(ctx, 0, regexp.MustCompile(`TEXT from texter to lobby: the van is here`))
	private := rs[1].talk(t, "text", "texter", "", "lobby", "--to", "lc", "see", "you")
	if code := private.wait(ctx); code != 0 {
		t.Fatalf("talk text --to lc at relay B exited %d:\n%s", code, private.text())
	}
	lc.waitLine(ctx, 0, regexp.MustCompile(`TEXT from texter to you \(private\): see you`))

	// A page from C over bob talking at A.
	long := audiotest.Speech(t, "This is Bob talking for a while in the lobby, on and on, before the page comes.")
	page := audiotest.Speech(t, "Attention please. This is a page.")
	bobFile := audiotest.WriteWAV(t, wav.Format{Rate: 48000, Channels: 1, Bits: 16}, long, 48000)
	pageFile := audiotest.WriteWAV(t, wav.Format{Rate: 48000, Channels: 1, Bits: 16}, page, 48000)
	bob := rs[0].talk(t, "send", "bob", "", "lobby", bobFile)
	for _, r := range []*recorder{la, lb} {
		r.waitLine(ctx, 0, regexp.MustCompile(`bob is talking`))
	}
	boss := rs[2].talk(t, "page", "boss", "", "", pageFile)
	if code := boss.wait(ctx); code != 0 {
		t.Fatalf("talk page at relay C exited %d:\n%s", code, boss.text())
	}
	bob.wait(ctx)
	if !strings.Contains(bob.text(), "paged over by boss") {
		t.Errorf("bob's send at relay A was not told of the page from C:\n%s", bob.text())
	}
	for _, r := range []*recorder{la, lb, lc} {
		r.waitLine(ctx, 0, regexp.MustCompile(`PAGE from boss to all channels`))
		r.untilSilent(ctx, "boss")
	}
	pageRef := readMono(t, pageFile)
	for _, r := range []*recorder{la, lb} {
		r.interrupt(ctx)
		t.Run(filepath.Base(r.out), func(t *testing.T) {
			audiotest.Judge(t, "", pageRef, readMono(t, r.out), 48000, 0.9)
		})
	}
	lc.interrupt(ctx)
}
