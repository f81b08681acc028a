package gateway

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/relay"
	"github.com/hark-intercom/hark/proto"
)

// TestBrowserAlarm: an alarm raised by a CLI user shows on the page in a
// banner that stays, with its tone, until the page's Acknowledge (which
// the CLI user sees with the page user's name); the page raises an alarm
// the CLI user gets; the sound-off switch turns the page's sound off.
func TestBrowserAlarm(t *testing.T) {
	st := startStack(t)
	events := make(chan proto.Message, 64)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	bob, err := client.Dial(ctx, client.Config{Relay: st.relay.Addr, Fingerprint: st.relay.Fingerprint, Name: "bob",
		KnownRelaysFile: filepath.Join(t.TempDir(), "known"),
		OnEvent: func(e client.Event) {
			switch e.Msg.(type) {
			case *proto.Ring, *proto.AlarmAck:
				events <- e.Msg
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	waitMsg := func(what string, ok func(proto.Message) bool) proto.Message {
		t.Helper()
		for {
			select {
			case m := <-events:
				if ok(m) {
					return m
				}
			case <-ctx.Done():
				t.Fatalf("bob never got %s", what)
			}
		}
	}

	b := newBrowser(t, micFile, 1280, 800)
	b.login(st.base+"/", "web", "")
	b.waitFor(`window.harkTest && harkTest.state().channel === 'lobby'`)
	if err := bob.Alarm(ctx, "fire in bay 4"); err != nil {
		t.Fatal(err)
	}
	b.waitFor(`HarkIntercom.test.alarms().length === 1 && !document.getElementById('alarmBanner').classList.contains('hidden')`)
	b.waitFor(`document.getElementById('alarmText').textContent === 'ALARM from bob: fire in bay 4'`)
	b.eval(`document.getElementById('alarmAck').click()`)
	ack := waitMsg("the page's acknowledgement", func(m proto.Message) bool {
		a, ok := m.(*proto.AlarmAck)
		return ok && a.Name == "web"
	}).(*proto.AlarmAck)
	if !ack.Over {
		t.Errorf("the page was the only station: %+v", ack)
	}
	b.waitFor(`HarkIntercom.test.alarms().length === 0 && document.getElementById('alarmBanner').classList.contains('hidden') && !HarkIntercom.test.ringing()`)
	// The log says it in the words every front end uses (client.AlarmAckText).
	b.waitFor(`[...document.querySelectorAll('#log li')].some(li => li.textContent.endsWith('you acknowledged the alarm'))`)

	b.eval(`window.confirm = () => true; document.getElementById('alarm').click()`)
	r := waitMsg("the page's alarm", func(m proto.Message) bool {
		r, ok := m.(*proto.Ring)
		return ok && r.FromName == "web"
	}).(*proto.Ring)
	if r.Flags&proto.RingAlarm == 0 || r.Alarm == 0 {
		t.Errorf("the page's alarm came as %+v", r)
	}

	b.eval(`document.getElementById('soundOff').click()`)
	b.waitFor(`HarkIntercom.test.soundOff() && document.getElementById('soundOff').getAttribute('aria-pressed') === 'true'`)
}

// TestBrowserMicTest: "Test my microphone" sends 3 s of the page's
// microphone to the relay as an echo test; the relay plays it back and the
// page plays it (its output is not silence); nobody else hears it.
func TestBrowserMicTest(t *testing.T) {
	st := startStack(t)
	other := dialCLI(t, st, "other")
	b := newBrowser(t, micFile, 1280, 800)
	b.login(st.base+"/", "web", "")
	b.waitFor(`window.harkTest && harkTest.state().channel === 'lobby'`)
	b.eval(`document.getElementById('micTest').click()`)
	b.waitFor(`harkTest.state().ctxState === 'running'`)
	b.eval(`harkTest.mute(); harkTest.startRecording()`)
	st.relay.WaitStats(t, "an echo test played back", func(s relay.Stats) bool { return s.Echoes == 1 })
	b.waitFor(`HarkIntercom.test.events().some(e => e.type === 'echo' && e.state === 'playing') && harkTest.state().stats.drained > 0`)
	pcm := b.stopRecording()
	var peak int
	for _, v := range pcm {
		peak = max(peak, int(v), -int(v))
	}
	if peak < 1000 {
		t.Errorf("the page played silence back (peak %d of %d samples)", peak, len(pcm))
	}
	other.mu.Lock()
	n := len(other.voice)
	other.mu.Unlock()
	if n != 0 {
		t.Errorf("another user heard %d frames of the microphone test", n)
	}
}
