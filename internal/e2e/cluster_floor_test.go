package e2e

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/proto"
)

// session is a client-library session of the test process at one of the
// relay processes, with its events as they come.
type session struct {
	*client.Client
	name    string
	talking chan *proto.Talking // every Talking message, in order
	texts   chan string
	states  chan stampedState
	// frames counts the voice frames heard from the session id in
	// from (0: none).
	from   atomic.Uint32
	frames atomic.Int64
	seqs   sync.Map      // seq → true, frames from `from`
	voice  chan struct{} // capacity 1: a frame from `from` came

	mu       sync.Mutex // guards roster
	roster   client.Roster
	presence chan struct{} // capacity 1: the roster changed
}

type stampedState struct {
	client.State
	err error
	at  time.Time
}

// dialSession logs name in (open mode) at relays (a comma-separated list)
// with the cluster's fingerprint, in channel, reconnecting by itself.
func dialSession(t *testing.T, ctx context.Context, relays, fp, name, channel string) *session {
	t.Helper()
	s := &session{name: name, talking: make(chan *proto.Talking, 1024), texts: make(chan string, 64),
		states: make(chan stampedState, 64), presence: make(chan struct{}, 1), voice: make(chan struct{}, 1)}
	c, err := client.Dial(ctx, client.Config{
		Relay: relays, Fingerprint: fp, Name: name, Channel: channel,
		KnownRelaysFile: filepath.Join(t.TempDir(), "known"),
		Reconnect:       true,
		// Several sessions, three relays and the test on two cores: a
		// login may wait for a busy relay.
		DialTimeout: 20 * time.Second,
		OnEvent: func(e client.Event) {
			if e.State != client.StateNone {
				select {
				case s.states <- stampedState{e.State, e.Err, e.Time}:
				default:
				}
			}
			switch m := e.Msg.(type) {
			case *proto.Welcome, *proto.Presence, *proto.PresenceChange, *proto.Talking:
				s.mu.Lock()
				s.roster.Apply(m)
				s.mu.Unlock()
				select {
				case s.presence <- struct{}{}:
				default:
				}
			}
			switch m := e.Msg.(type) {
			case *proto.Talking:
				select {
				case s.talking <- m:
				default:
					t.Errorf("%s: more than %d Talking messages not read by the test", name, cap(s.talking))
				}
			case *proto.Text:
				select {
				case s.texts <- m.Text:
				default:
				}
			}
		},
		OnVoice: func(h proto.VoiceHeader, _ []byte, _ time.Time) {
			if f := s.from.Load(); f != 0 && h.Sender == f {
				if _, dup := s.seqs.LoadOrStore(h.Seq, true); !dup {
					s.frames.Add(1)
					select {
					case s.voice <- struct{}{}:
					default:
					}
				}
			}
		},
	})
	if err != nil {
		t.Fatalf("%s: login at %s: %v", name, relays, err)
	}
	t.Cleanup(func() { c.Close() })
	s.Client = c
	return s
}

// waitTalking reads s's Talking messages until one says whether session
// id (name) talks; it fails the test when ctx ends first.
func (s *session) waitTalking(t *testing.T, ctx context.Context, id uint32, name string, talking bool) {
	t.Helper()
	for {
		select {
		case m := <-s.talking:
			if m.Session == id && m.Talking == talking {
				return
			}
		case <-ctx.Done():
			t.Fatalf("%s was not told that %s (%d) talking=%v: %v", s.name, name, id, talking, ctx.Err())
		}
	}
}

// TestClusterFloorContentionProcs: three relay processes clustered; a
// session at relay A and one at relay B press push-to-talk in the same
// channel at the same moment, 100 times: every time exactly one is
// granted and the other is refused with "busy: <holder> is talking",
// naming the one granted. The presses are client-library sessions of the
// test process, released together; the spread of the two press times is
// logged (rounds where the machine spread them over 1 ms do not count
// towards the 100, up to 300 rounds). Four pairs take turns, so that no
// session exceeds the relay's per-session control rate.
func TestClusterFloorContentionProcs(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	t.Parallel()
	ctx := testCtx(t, 240*time.Second)
	rs := startClusterRelays(t, ctx, 3)
	const pairs = 4
	var as, bs []*session
	for i := 0; i < pairs; i++ {
		as = append(as, dialSession(t, ctx, rs[0].addr, rs[0].fp, fmt.Sprintf("alice%d", i), "lobby"))
		bs = append(bs, dialSession(t, ctx, rs[1].addr, rs[1].fp, fmt.Sprintf("bob%d", i), "lobby"))
	}
	// Every session sees every other online before the first round (the
	// presence, and so the floors, of each relay known at the other).
	all := append(slices.Clone(as), bs...)
	var names []string
	for _, s := range all {
		names = append(names, s.name)
	}
	for _, s := range all {
		s.waitOnline(t, ctx, names...)
	}

	const want, maxRounds = 100, 300
	var spreads []time.Duration
	wins := map[string]int{}
	within := 0
	for round := 0; within < want && round < maxRounds; round++ {
		a, b := as[round%pairs], bs[round%pairs]
		type answer struct {
			s   *session
			at  time.Time
			tx  *client.Transmission
			err error
		}
		var wg sync.WaitGroup
		ready := sync.WaitGroup{}
		go1 := make(chan struct{})
		answers := make([]answer, 2)
		for i, s := range []*session{a, b} {
			wg.Add(1)
			ready.Add(1)
			go func() {
				defer wg.Done()
				ready.Done()
				<-go1
				at := time.Now()
				tx, err := s.Talk(ctx)
				answers[i] = answer{s, at, tx, err}
			}()
		}
		ready.Wait()
		close(go1)
		wg.Wait()
		spread := answers[0].at.Sub(answers[1].at).Abs()
		spreads = append(spreads, spread)
		if spread <= time.Millisecond {
			within++
		}
		var w, l *answer
		for i := range answers {
			if answers[i].err == nil {
				if w != nil {
					t.Fatalf("round %d: both %s (relay A) and %s (relay B) were granted the floor (presses %v apart)", round, a.name, b.name, spread)
				}
				w = &answers[i]
			} else {
				l = &answers[i]
			}
		}
		if w == nil {
			t.Fatalf("round %d: neither was granted: %s: %v; %s: %v", round, a.name, answers[0].err, b.name, answers[1].err)
		}
		var busy *client.BusyError
		if !errors.As(l.err, &busy) || busy.Holder != w.s.name || busy.Reason != "busy: "+w.s.name+" is talking" {
			t.Fatalf("round %d: %s was granted; %s was refused with %v (%+v), want \"busy: %s is talking\"", round, w.s.name, l.s.name, l.err, busy, w.s.name)
		}
		wins[w.s.name[:len(w.s.name)-1]]++
		id := w.s.Welcome().Session
		if err := w.tx.End(ctx); err != nil {
			t.Fatalf("round %d: %s ending the transmission: %v", round, w.s.name, err)
		}
		// Both relays freed the floor before the next round: the loser's
		// relay says the winner stopped (it saw the lease deleted), and the
		// winner's relay did (it released the lease).
		a.waitTalking(t, ctx, id, w.s.name, false)
		b.waitTalking(t, ctx, id, w.s.name, false)
	}
	slices.Sort(spreads)
	n := len(spreads)
	t.Logf("%d rounds, %d with both presses within 1 ms (spread median %v, p99 %v, max %v); grants: %v",
		n, within, spreads[n/2], spreads[n*99/100], spreads[n-1], wins)
	if within < want {
		t.Logf("only %d of %d rounds had both presses within 1 ms: the machine is too busy to press together (every round still had one grant and one refusal)", within, n)
	}
}

// waitOnline waits until s's roster (presence of the whole cluster) holds
// every one of names.
func (s *session) waitOnline(t *testing.T, ctx context.Context, names ...string) {
	t.Helper()
	for {
		s.mu.Lock()
		have := map[string]bool{}
		for _, u := range s.roster.Users() {
			have[u.Name] = true
		}
		s.mu.Unlock()
		var missing []string
		for _, n := range names {
			if !have[n] {
				missing = append(missing, n)
			}
		}
		if len(missing) == 0 {
			return
		}
		select {
		case <-s.presence:
		case <-ctx.Done():
			t.Fatalf("%s does not see %s online: %v", s.name, strings.Join(missing, " "), ctx.Err())
		}
	}
}

// waitOffline waits until s's roster (presence of the whole cluster) no
// longer holds name.
func (s *session) waitOffline(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	for {
		s.mu.Lock()
		online := false
		for _, u := range s.roster.Users() {
			online = online || u.Name == name
		}
		s.mu.Unlock()
		if !online {
			return
		}
		select {
		case <-s.presence:
		case <-ctx.Done():
			t.Fatalf("%s still sees %s online: %v", s.name, name, ctx.Err())
		}
	}
}

// waitNotTalking waits until s's relay says session id is not talking
// (its roster: presence and Talking messages).
func (s *session) waitNotTalking(t *testing.T, ctx context.Context, id uint32) {
	t.Helper()
	for {
		s.mu.Lock()
		u, _ := s.roster.User(id)
		s.mu.Unlock()
		if !u.Talking {
			return
		}
		select {
		case <-s.presence:
		case <-ctx.Done():
			t.Fatalf("%s still sees %s talking: %v", s.name, u.Name, ctx.Err())
		}
	}
}

// waitFrames waits until s heard n different frames from `from`.
func (s *session) waitFrames(t *testing.T, ctx context.Context, n int64) {
	t.Helper()
	for s.frames.Load() < n {
		select {
		case <-s.voice:
		case <-ctx.Done():
			t.Fatalf("%s heard %d of the %d frames sent after the failover: %v", s.name, s.frames.Load(), n, ctx.Err())
		}
	}
}

// waitText waits until s got text.
func (s *session) waitText(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	for {
		select {
		case got := <-s.texts:
			if got == text {
				return
			}
		case <-ctx.Done():
			t.Fatalf("%s did not get the text %q: %v", s.name, text, ctx.Err())
		}
	}
}

// TestClusterFailoverManyProcs: kill -9 of the relay process A with 50
// client-library sessions on it (each given the three relays, A first),
// A being the relay that leads the floor bucket (the worst case for the
// floor) and one of its sessions holding the channel's floor. Every
// session at A comes back at B or C by itself, in its channel; the floor
// A held is free at B (a listener there is told the talker stopped, and
// its press is then granted); a session that could only use A is offline
// at B and C; and nothing sent after the failover is lost: every session
// hears all 50 frames of a talker who moved from A, and a text from B.
// The times (kill to the loss noticed, to connected again, to the floor
// free) are logged for BENCHMARKS.md; the test asserts what happened, not
// how fast.
func TestClusterFailoverManyProcs(t *testing.T) { failoverManyProcs(t, false) }

// TestClusterVanishManyProcs: the same with relay A's machine vanishing
// without a word instead: A's process is stopped (SIGSTOP: it keeps its
// sockets open and answers nothing, no ICMP "port unreachable", its NATS
// routes stay up until their pings give up) and killed at the end. Beyond
// what TestClusterFailoverManyProcs asserts, B and C must count A dead
// from its silence on every route, before those routes' own pings close
// them (before, they waited for that, 2-3 s, or for 3 s of silence).
func TestClusterVanishManyProcs(t *testing.T) { failoverManyProcs(t, true) }

var (
	reRelayDead   = regexp.MustCompile(`a relay left or stopped answering.* peer=(relay[a-z])\b`)
	reRouteClosed = regexp.MustCompile(`Router connection closed.*Remote: (relay[a-z])\b`)
)

func failoverManyProcs(t *testing.T, vanish bool) {
	if testing.Short() {
		t.Skip("end-to-end test with real processes")
	}
	t.Parallel()
	ctx := testCtx(t, 300*time.Second)
	rs := startClusterRelays(t, ctx, 3)
	li := floorLeader(t, ctx, rs)
	a, b := rs[li], rs[(li+1)%3]
	aName := fmt.Sprintf("relay%c", 'a'+li)
	list := a.addr
	for _, r := range rs {
		if r != a {
			list += "," + r.addr
		}
	}
	const n = 50
	var all []*session
	for i := 0; i < n; i++ {
		all = append(all, dialSession(t, ctx, list, a.fp, fmt.Sprintf("user%02d", i), "lobby"))
	}
	watcher := dialSession(t, ctx, b.addr, b.fp, "watcher", "lobby")
	// A session that can only use relay A: its presence must leave the
	// other relays when A dies.
	stuck := dialSession(t, ctx, a.addr, a.fp, "stuck", "lobby")
	// On a busy machine a login at A can time out and land at B: such a
	// session loses nothing when A dies. The ones at A are watched (most
	// of them, or the test says why).
	var atA []*session
	for _, s := range all {
		if s.Relay() == a.addr {
			atA = append(atA, s)
		}
	}
	if len(atA) < n/2 {
		t.Fatalf("only %d of %d sessions logged in at relay A, the first in their list", len(atA), n)
	}
	holder := atA[0]
	holderID := holder.Welcome().Session
	watcher.waitOnline(t, ctx, holder.name, stuck.name)
	tx, err := holder.Talk(ctx)
	if err != nil {
		t.Fatalf("%s at relay A pressing: %v", holder.name, err)
	}
	if err := tx.Send([]byte{0xF8, 0xFF, 0xFE}, 960); err != nil {
		t.Fatal(err)
	}
	watcher.waitTalking(t, ctx, holderID, holder.name, true)
	for _, s := range all { // events from before the kill are not the failover
		for len(s.states) > 0 {
			<-s.states
		}
	}
	logFrom := make([]int, len(rs)) // each relay's log lines from the death on
	for i, r := range rs {
		logFrom[i] = len(r.output())
	}

	killed := time.Now()
	how := "killed (SIGKILL)"
	if vanish {
		how = "stopped (SIGSTOP: its machine vanished)"
		if err := a.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		// Runs before the harness's SIGTERM, which a stopped process
		// would not act on.
		t.Cleanup(func() { a.cmd.Process.Kill() })
	} else if err := a.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	watcher.waitTalking(t, ctx, holderID, holder.name, false)
	freed := time.Since(killed)
	wtx, err := watcher.Talk(ctx)
	if err != nil {
		t.Fatalf("the watcher's press at relay B after relay A died and its floor was freed: %v (want granted)", err)
	}
	granted := time.Since(killed)
	if err := wtx.End(ctx); err != nil {
		t.Fatal(err)
	}
	watcher.waitOffline(t, ctx, stuck.name)
	offline := time.Since(killed)

	var noticed, back []time.Duration
	for _, s := range atA {
		var lost time.Time
		for {
			var e stampedState
			select {
			case e = <-s.states:
			case <-ctx.Done():
				t.Fatalf("%s did not come back after relay A's death: %v", s.name, s.State())
			}
			if e.State == client.StateReconnecting && lost.IsZero() {
				lost = e.at
			}
			if !lost.IsZero() && e.State == client.StateConnected {
				noticed = append(noticed, lost.Sub(killed))
				back = append(back, e.at.Sub(killed))
				break
			}
		}
		if s.Relay() == a.addr {
			t.Errorf("%s is back at the dead relay", s.name)
		}
		if ch, ok := s.Channel(); !ok || ch.Name != "lobby" {
			t.Errorf("%s is in %+v (%v) after the move, want lobby", s.name, ch, ok)
		}
		// Open mode: no password, so no resume ticket to present (the
		// tickets' validity at every relay: internal/client's
		// TestClusterFailoverMany, with accounts).
		if st := s.Stats(); st.Reconnects == 0 {
			t.Errorf("%s: %+v, want a reconnection", s.name, st)
		}
	}
	// The session that could not move is offline at C too.
	for _, s := range atA {
		if s.Relay() != b.addr {
			s.waitOffline(t, ctx, stuck.name)
			break
		}
	}
	slices.Sort(noticed)
	slices.Sort(back)
	k := len(atA)
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	t.Logf("relay A (%s, the floors' leader) %s with %d of %d sessions on it: noticed after %s (median) to %s (last); connected again at B or C after %s (median) to %s (last); %s's floor free at B after %s, B's press granted after %s; %s (only at A) offline at B after %s",
		aName, how, k, n, ms(noticed[k/2]), ms(noticed[k-1]), ms(back[k/2]), ms(back[k-1]), holder.name, ms(freed), ms(granted), stuck.name, ms(offline))

	if vanish {
		// B and C counted A dead from its silence, not when their
		// routes to it closed (their pings give up 2-3 s after the
		// vanishing: that is what a relay had to wait for before).
		for i, r := range rs {
			if r == a {
				continue
			}
			lines := r.output()[logFrom[i]:]
			dead, closed := -1, -1
			for j, l := range lines {
				if m := reRelayDead.FindStringSubmatch(l); m != nil && m[1] == aName && dead < 0 {
					dead = j
				}
				if m := reRouteClosed.FindStringSubmatch(l); m != nil && m[1] == aName && closed < 0 {
					closed = j
				}
			}
			switch {
			case dead < 0:
				t.Errorf("relay%c never logged relay A (%s) dead:\n%s", 'a'+i, aName, strings.Join(lines, "\n"))
			case closed >= 0 && closed < dead:
				t.Errorf("relay%c counted relay A (%s) dead only after its route to it closed:\n%s\n...\n%s", 'a'+i, aName, lines[closed], lines[dead])
			case closed < 0:
				t.Logf("relay%c counted %s dead; its routes to it were still up", 'a'+i, aName)
			default:
				t.Logf("relay%c counted %s dead, then its route to it closed", 'a'+i, aName)
			}
		}
	}

	// Talking again: a session that moved from A talks; every other
	// session (at B and C) and the watcher hear every frame.
	talker := atA[len(atA)-1]
	id := talker.Welcome().Session
	var listeners []*session
	for _, s := range append(slices.Clone(all), watcher) {
		if s != talker {
			s.from.Store(id)
			listeners = append(listeners, s)
		}
	}
	// The watcher's floor, released at B, is free at the talker's relay
	// too once it saw the lease go. Its relay may not have seen the lease
	// at all yet (its watch of the floors lags after the floors' leader
	// died), and the release travels through the cluster after the
	// watcher's End: a press at that moment is refused "busy: watcher".
	// Pressed again (the floor was let go, so only until the release
	// arrives: within the lease's life), the refusals counted.
	talker.waitNotTalking(t, ctx, watcher.Welcome().Session)
	var ttx *client.Transmission
	refused := 0
	for {
		ttx, err = talker.Talk(ctx)
		var busy *client.BusyError
		if err == nil {
			break
		}
		if !errors.As(err, &busy) || busy.Holder != watcher.name {
			t.Fatalf("%s pressing at %s after the failover: %v", talker.name, talker.Relay(), err)
		}
		refused++
		select {
		case <-talker.talking: // any floor news at the talker's relay, or
		case <-time.After(50 * time.Millisecond): // a moment (no event marks the release's arrival)
		case <-ctx.Done():
			t.Fatalf("%s pressing at %s after the failover: still refused after %d presses: %v", talker.name, talker.Relay(), refused, err)
		}
	}
	if refused > 0 {
		t.Logf("%s's press was refused \"busy: watcher\" %d times after the watcher let go (the release on its way)", talker.name, refused)
	}
	const frames = 50
	tick := time.NewTicker(20 * time.Millisecond) // real-time pacing, as a microphone
	for i := 0; i < frames; i++ {
		if err := ttx.Send([]byte{0xF8, 0xFF, 0xFE, byte(i)}, 960); err != nil {
			t.Fatal(err)
		}
		<-tick.C
	}
	tick.Stop()
	if err := ttx.End(ctx); err != nil {
		t.Fatal(err)
	}
	for _, s := range listeners {
		s.waitFrames(t, ctx, frames+1) // and the end frame
	}
	if err := watcher.Text(ctx, "", "after the failover"); err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		s.waitText(t, ctx, "after the failover")
	}
	t.Logf("after the failover: %s (at %s) talked %d frames, heard whole by all %d listeners; the text from B reached all %d sessions", talker.name, talker.Relay(), frames, len(listeners), n)
}
