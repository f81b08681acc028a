package jitter_test

import (
	"cmp"
	"slices"
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/netsim"
	"github.com/hark-intercom/hark/jitter"
)

// dueTrace is a recorded 20 ms talker whose packets arrive as they are
// sent (transit 0), except: packet 100 comes 40 ms late, teaching the
// buffer a target above the delay it plays at, and packet 102 comes
// late102 after packet 103 (0: it is lost).
func dueTrace(late102 time.Duration) *netsim.Trace {
	tr := &netsim.Trace{ClockRate: 48000}
	const n = 150
	for i := range n {
		send := time.Duration(i+1) * 20 * time.Millisecond
		tr.Sent = append(tr.Sent, netsim.Sent{Seq: uint16(i), Timestamp: uint32(i * 960), Duration: 960,
			Start: i == 0, End: i == n-1, Send: send})
		arrive := send
		switch i {
		case 100:
			arrive += 40 * time.Millisecond
		case 102:
			if late102 == 0 {
				continue
			}
			arrive += late102
		}
		tr.Arrivals = append(tr.Arrivals, netsim.Arrival{Index: i, Arrive: arrive})
	}
	slices.SortStableFunc(tr.Arrivals, func(a, b netsim.Arrival) int { return cmp.Compare(a.Arrive, b.Arrive) })
	return tr
}

// TestFECOnlyWhenDue replays dueTrace: the buffer has just learned a
// higher target (packet 100 came 40 ms late) and is concealing its way up
// to it when packet 103 is there and packet 102 is not. Packet 102 is not
// due yet: its time comes only when the delay reaches the target. A
// buffer that decodes 103's FEC data for it at once replaces a packet
// that merely came a few milliseconds after 103 (a network that reorders)
// with its lower-quality copy, and drops the packet itself as late. The
// FEC copy is for when 102 is due and not there: lost, or later than the
// target allows.
func TestFECOnlyWhenDue(t *testing.T) {
	for _, c := range []struct {
		name    string
		late102 time.Duration
		fec     bool // 102 is recovered from 103's FEC data
		late    uint64
	}{
		{"packet 102 comes 25 ms late, before it is due", 25 * time.Millisecond, false, 1},
		{"packet 102 is lost", 0, true, 1},
		{"packet 102 comes 70 ms late, after it was due", 70 * time.Millisecond, true, 2},
	} {
		r := simulate(t, dueTrace(c.late102), jitter.New(), 480, 0, nil)
		checkOrder(t, r)
		var fecAt time.Duration = -1
		for k, d := range r.decisions {
			if d.Action == jitter.FEC {
				fecAt = r.times[k]
			}
		}
		t.Logf("%s: FEC decision at %v; %d packets late; stats %+v", c.name, fecAt, r.stats.Late, r.stats)
		if c.fec != (r.stats.FECRecovered == 1) || r.stats.FECRecovered > 1 {
			t.Errorf("%s: %d packets recovered from FEC data, want %d", c.name, r.stats.FECRecovered, map[bool]int{true: 1}[c.fec])
		}
		if !c.fec && r.played[102] != 1 {
			t.Errorf("%s: packet 102 played %d times, want once (it came before it was due)", c.name, r.played[102])
		}
		// Packet 100 is late in every case (it came 40 ms after its slot,
		// when the delay was 20 ms).
		if r.stats.Late != c.late {
			t.Errorf("%s: %d packets late, want %d", c.name, r.stats.Late, c.late)
		}
	}
}
