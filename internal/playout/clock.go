package playout

import "time"

// Clock is the time a consumer hands the jitter buffers (Tick's and
// TickTalkers' now) when its ticks do not come exactly on time. Sound
// cards (and miniaudio's null backend even more) call back irregularly,
// sometimes several periods at once, and their clock drifts from the wall
// clock; a tick loop on a busy machine wakes late and then runs the ticks
// it missed at once. Each tick consumes exactly one period of audio, so
// the clock advances by one period per tick and is pulled slowly (1/32 of
// the error per tick) towards the wall clock: a drifting device looks like
// slowly growing or shrinking delay, which the buffers correct, and ticks
// run late in a burst ask for audio when it was due, instead of bursts of
// late packets and concealment. After a gap (a stalled or reopened device,
// ticks stopped while nobody talked) of more than 250 ms it jumps to the
// wall clock.
//
// The zero value is ready; a Clock is used by one goroutine (the one
// ticking).
type Clock struct {
	t time.Time
}

// clockJump is the error beyond which the clock jumps to the wall clock.
const clockJump = 250 * time.Millisecond

// Tick returns the time of a tick of period that the consumer runs at
// wall time wall.
func (c *Clock) Tick(wall time.Time, period time.Duration) time.Time {
	if c.t.IsZero() {
		c.t = wall
		return wall
	}
	c.t = c.t.Add(period)
	d := wall.Sub(c.t)
	if d > clockJump || d < -clockJump {
		c.t = wall
	} else {
		c.t = c.t.Add(d / 32)
	}
	return c.t
}
