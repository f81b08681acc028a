package relay

import (
	"testing"
	"time"
)

// The door opens a place with each prompt login up to its most, and takes
// a quarter away with each slow one (or one whose place expired or whose
// connection ended first), down to its fewest.
func TestLoginDoor(t *testing.T) {
	d := newLoginDoor(4, 10, 100*time.Millisecond)
	if n := d.places(); n != 4 {
		t.Fatalf("starts with %d places, want 4", n)
	}
	for range 20 {
		d.over(50*time.Millisecond, true)
	}
	if n := d.places(); n != 10 {
		t.Fatalf("%d places after prompt logins, want the most, 10", n)
	}
	steps := []struct {
		held     time.Duration
		finished bool
		want     int64
	}{
		{200 * time.Millisecond, true, 8}, // slow: 10 - 10/4
		{0, false, 6},                     // ended before its login: 8 - 8/4
		{100 * time.Millisecond, true, 7}, // prompt (at the limit)
		{time.Second, false, 6},           // its place expired: 7 - 7/4
		{time.Second, true, 5},
		{time.Second, true, 4},
		{time.Second, true, 4}, // not below the fewest
	}
	for i, s := range steps {
		d.over(s.held, s.finished)
		if n := d.places(); n != s.want {
			t.Fatalf("step %d (held %v, finished %v): %d places, want %d", i, s.held, s.finished, n, s.want)
		}
	}
	if m := d.most.Load(); m != 10 {
		t.Errorf("most %d, want 10", m)
	}
}
