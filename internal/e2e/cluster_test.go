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

// TestClusterFailoverRecord: `talk record --relay A,B,C` at relay A; A is
// killed with SIGKILL; the recorder moves to another relay by itself, and
// a transmission sent at B afterwards is recorded whole.
func TestClusterFailoverRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	t.Parallel()
	ctx := testCtx(t, 120*time.Second)
	rs := startClusterRelays(t, ctx, 3)
	speech := audiotest.Speech(t, speechText)
	file := audiotest.WriteWAV(t, wav.Format{Rate: 48000, Channels: 1, Bits: 16}, speech, 48000)

	list := rs[0].addr + "," + rs[1].addr + "," + rs[2].addr
	out := filepath.Join(t.TempDir(), "rec.wav")
	rec := &recorder{proc: rs[0].talkBin(t, "talk", list, "record", "listener", "", "lobby", "-v", "--out", out), out: out}
	rec.waitLine(ctx, 0, reRecording)
	first := len(rec.output())

	killed := time.Now()
	if err := rs[0].cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	i, _ := rec.waitLine(ctx, first, reConnected)
	t.Logf("the recorder was connected again %v after the kill:\n%s", time.Since(killed).Round(time.Millisecond), strings.Join(rec.output()[first:i+1], "\n"))

	// If the dead relay led the cluster's floor bucket, JetStream elects a
	// new leader (4-9 s in nats-server) and floor requests are refused
	// meanwhile ("cannot agree"): bob presses again until one is granted.
	for try := 1; ; try++ {
		bob := rs[1].talk(t, "send", "bob", "", "lobby", file)
		code := bob.wait(ctx)
		if code == 0 {
			t.Logf("bob's send at relay B was granted at try %d (it ended %v after the kill)", try, time.Since(killed).Round(time.Millisecond))
			break
		}
		if !strings.Contains(bob.text(), "cannot agree") {
			t.Fatalf("bob's send at relay B exited %d:\n%s", code, bob.text())
		}
	}
	rec.untilSilent(ctx, "bob")
	rec.interrupt(ctx)
	t.Logf("recorder: %s", rec.playoutStats())
	audiotest.Judge(t, "", speech, readMono(t, rec.out), 48000, 0.9)
}
