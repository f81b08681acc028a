package gateway

import (
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// TestListenAcrossJoins: a websocket user that hears ops goes on hearing it
// when it joins ops and comes back to lobby (its hub memberships follow
// the joins), its audio marked with ops' id; and a call to it comes
// through its private hub marked as a call.
func TestListenAcrossJoins(t *testing.T) {
	st := startStackOn(t, relaytest.Start(t, relaytest.Open()))
	url := "ws" + strings.TrimPrefix(st.base, "http") + "/ws"
	ann := dialWS(t, url, login("ann"))
	w := ann.expect("welcome", nil)
	var opsID float64
	for _, c := range w["channels"].([]any) {
		if c.(map[string]any)["name"] == "ops" {
			opsID = c.(map[string]any)["id"].(float64)
		}
	}
	ann.expect("joined", nil)
	otto := dialWS(t, url, map[string]any{"t": "login", "name": "otto", "channel": "ops"})
	otto.expect("joined", func(m map[string]any) bool { return m["channel"] == "ops" })

	ann.send(map[string]any{"t": "listen", "channels": []string{"ops"}})
	ann.expect("listening", func(m map[string]any) bool { return len(m["channels"].([]any)) == 1 })
	for _, ch := range []string{"ops", "lobby"} {
		ann.send(map[string]any{"t": "join", "channel": ch})
		ann.expect("joined", func(m map[string]any) bool { return m["channel"] == ch })
		otto.send(map[string]any{"t": "talk", "on": true, "format": "pcm", "rate": 48000})
		otto.expect("floor", func(m map[string]any) bool { return m["granted"] == true })
		otto.sendLive(sourcePCM(t)[:48000])
		otto.send(map[string]any{"t": "talk", "on": false})
		heard := 0
		for end := false; !end; {
			var b []byte
			select {
			case b = <-ann.audio:
			case <-time.After(waitLimit):
				t.Fatalf("in %s: otto's transmission did not end at ann (%d samples)", ch, heard)
			}
			if got := binary.LittleEndian.Uint16(b[2:]); float64(got) != opsID {
				t.Fatalf("in %s: audio marked as channel %d, want ops (%v)", ch, got, opsID)
			}
			heard += (len(b) - binHeaderLen) / 2
			end = b[1]&binFlagEnd != 0
		}
		if heard < 24000 {
			t.Fatalf("in %s: ann heard %d samples of otto", ch, heard)
		}
		otto.expect("talking", func(m map[string]any) bool { return m["name"] == "otto" && m["on"] == false })
	}

	// A call from otto to ann, marked as a call (channel 0xFFFD).
	otto.send(map[string]any{"t": "talk", "on": true, "format": "pcm", "rate": 48000, "to": "ann"})
	otto.expect("floor", func(m map[string]any) bool { return m["granted"] == true })
	ann.expect("call", func(m map[string]any) bool { return m["from"] == "otto" && m["to_me"] == true && m["on"] == true })
	otto.sendLive(sourcePCM(t)[:48000])
	otto.send(map[string]any{"t": "talk", "on": false})
	b := <-ann.audio
	if ch := binary.LittleEndian.Uint16(b[2:]); ch != proto.WhisperChannel {
		t.Fatalf("the call's audio is marked %d", ch)
	}
	ann.expect("call", func(m map[string]any) bool { return m["on"] == false })
}
