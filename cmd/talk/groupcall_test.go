package main

import (
	"strings"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// TestSendToSeveral: talk send --to bob,carol is a call both hear (and
// dave beside them does not); a bad --to is refused before dialling.
func TestSendToSeveral(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	ctx := testCtx(t)
	var heard []chan bool
	for _, name := range []string{"bob", "carol", "dave"} {
		_, events := dialClient(ctx, t, r, name, "", "lobby")
		got := make(chan bool, 1)
		go func() {
			for e := range events {
				if w, ok := e.Msg.(*proto.Whisper); ok && w.Active && w.FromName == "alice" && w.ToName == name {
					got <- true
					return
				}
			}
		}()
		heard = append(heard, got)
	}
	if res := runTalk(ctx, t, r, "send", "--user", "alice", "--to", "bob, carol", writeTone(t, 200*time.Millisecond)); res.code != 0 {
		t.Fatalf("send --to bob,carol: %+v", res)
	}
	for i, name := range []string{"bob", "carol"} {
		select {
		case <-heard[i]:
		case <-ctx.Done():
			t.Fatalf("%s was not called", name)
		}
	}
	select {
	case <-heard[2]:
		t.Fatal("dave was called")
	default:
	}
	for _, bad := range []struct{ to, want string }{
		{"bob,alice", "is you"},
		{"role:nurses", "no role"},
		{" , ", "names nobody"},
	} {
		res := runTalk(ctx, t, r, "send", "--user", "alice", "--to", bad.to, writeTone(t, 100*time.Millisecond))
		if res.code == 0 || !strings.Contains(res.stderr, bad.want) {
			t.Errorf("--to %q: %+v, want %q", bad.to, res, bad.want)
		}
	}
}
