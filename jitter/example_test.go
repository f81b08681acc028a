package jitter_test

import (
	"fmt"
	"time"

	"github.com/hark-intercom/hark/jitter"
)

// A talker sends five 20 ms packets; the third is lost. The consumer ticks
// every 20 ms and asks the buffer what to play: the first packet starts
// after two frames (a floor that keeps the next packet at hand for FEC),
// the lost one is recovered from its successor's FEC data, and after the
// End packet the buffer goes quiet without concealing.
func Example() {
	b := jitter.New(jitter.WithMinDelay(40 * time.Millisecond))
	start := time.Unix(0, 0)
	for tick := 0; tick < 9; tick++ {
		now := start.Add(time.Duration(tick) * 20 * time.Millisecond)
		// Packet i (20 ms of audio) arrives at (i+1)×20 ms; packet 2 is lost.
		if i := tick - 1; i >= 0 && i < 5 && i != 2 {
			b.Push(jitter.Packet{
				Seq: uint16(100 + i), Timestamp: uint32(i * 960), Duration: 960,
				Start: i == 0, End: i == 4,
				Payload: []byte{byte(i)},
				Arrival: now,
			})
		}
		d, err := b.Next(now, 960)
		switch {
		case err != nil:
			fmt.Println(tick, d.Action, err)
		case d.Action == jitter.Play || d.Action == jitter.FEC:
			fmt.Println(tick, d.Action, d.Packet.Seq, d.Samples)
		default:
			fmt.Println(tick, d.Action, d.Samples)
		}
	}
	// Output:
	// 0 silence jitter: buffer empty, nobody is talking
	// 1 silence jitter: transmission buffering, not started yet
	// 2 play 100 960
	// 3 play 101 960
	// 4 fec 103 960
	// 5 play 103 960
	// 6 play 104 960
	// 7 silence jitter: buffer empty, nobody is talking
	// 8 silence jitter: buffer empty, nobody is talking
}
