package main

import (
	"strings"
	"testing"

	"github.com/hark-intercom/hark/internal/client"
	"github.com/hark-intercom/hark/internal/relaytest"
	"github.com/hark-intercom/hark/proto"
)

// A user name the relay cannot take is refused before connecting, saying
// which characters are allowed (not "wrong user name or password").
func TestBadUserName(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	res := runTalk(testCtx(t), t, r, "who", "--user", "ann smith")
	if res.code != exitUsage || !strings.Contains(res.stderr, `talk: --user: the user name "ann smith" contains ' ': use letters, digits and . _ - @ only`) {
		t.Errorf("status %d\n%s", res.code, res.stderr)
	}
	if r.Stats().Logins != 0 {
		t.Error("talk connected with a bad name")
	}
}

// In open mode a name that is online is refused in words; the session
// that has it goes on.
func TestNameTaken(t *testing.T) {
	r := relaytest.Start(t, relaytest.Open())
	ctx := testCtx(t)
	bob, _ := dialClient(ctx, t, r, "bob", "", "lobby")
	res := runTalk(ctx, t, r, "who", "--user", "bob")
	if res.code == 0 || !strings.Contains(res.stderr, "bob is already logged in: choose another name") {
		t.Errorf("status %d\n%s", res.code, res.stderr)
	}
	if bob.Err() != nil {
		t.Errorf("bob was knocked off: %v", bob.Err())
	}
}

// talk kick --ban keeps the name out for that long, saying so to the
// kicked user and to a later login.
func TestKickBan(t *testing.T) {
	r := relaytest.Start(t)
	r.AddUser("carol", "c", proto.RoleAdmin)
	r.AddUser("bob", "b", 0)
	ctx := testCtx(t)
	_, bobEvents := dialClient(ctx, t, r, "bob", "b", "lobby")
	res := runTalk(ctx, t, r, "kick", "bob", "--ban", "10m", "--user", "carol", "--password", "c")
	if res.code != 0 || res.stderr != "disconnected bob (if online) and banned the name for 10m0s\n" {
		t.Fatalf("kick --ban: status %d\n%s", res.code, res.stderr)
	}
	for e := range bobEvents {
		if e.State != client.StateClosed {
			continue
		}
		if e.Err == nil || !strings.Contains(e.Err.Error(), "an admin (carol) disconnected you and banned you for 10m0s") {
			t.Errorf("bob closed with %v", e.Err)
		}
		break
	}
	res = runTalk(ctx, t, r, "who", "--user", "bob", "--password", "b")
	if res.code == 0 || !strings.Contains(res.stderr, "an admin banned bob from this relay for ") {
		t.Errorf("bob again: status %d\n%s", res.code, res.stderr)
	}
	res = runTalk(ctx, t, r, "kick", "bob", "--ban", "500ms", "--user", "carol", "--password", "c")
	if res.code != exitUsage {
		t.Errorf("--ban 500ms: status %d\n%s", res.code, res.stderr)
	}
}
