package gateway

import (
	"testing"
	"time"
)

func TestTalkerAccept(t *testing.T) {
	now := time.Unix(1000, 0)
	var tk talker
	check := func(seq uint16, start bool, wantOK bool, wantGap int) {
		t.Helper()
		ok, gap := tk.accept(seq, start, now)
		if ok != wantOK || (ok && gap != wantGap) {
			t.Fatalf("seq %d: ok=%v gap=%d, want %v %d", seq, ok, gap, wantOK, wantGap)
		}
		if ok {
			tk.lastSeen = now
		}
	}
	check(65530, true, true, 0)
	check(65530, false, false, 0) // duplicate from another member
	check(65531, false, true, 0)
	check(1, false, true, 5) // wrapped, 5 lost (65532..0)
	check(65533, false, false, 0)
	check(2, false, true, 0)
	check(2, false, false, 0)
	check(60000, false, false, 0) // a very late copy must not reset the stream
	check(3, false, true, 0)
	check(40000, true, true, 0) // a new transmission from a reconnected talker
	now = now.Add(2 * time.Second)
	check(7, false, true, 0) // after a pause anything goes
}
