package jitter_test

import (
	"testing"
	"time"

	"github.com/hark-intercom/hark/jitter"
)

// FuzzBuffer feeds arbitrary packets and ticks and checks the buffer's
// promises: no panic, every decision covers a positive number of samples,
// Conceal and FEC cover whole 2.5 ms steps within 120 ms, Play returns a
// packet that was pushed, nothing plays twice, and a time-stretch request
// (when the first input byte is odd: WithTimeStretch and pause hints from
// the payload) is on a Play and at most a quarter of it.
func FuzzBuffer(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 3, 0, 2, 0, 0, 7, 1, 5})
	f.Add([]byte{255, 255, 1, 0, 0, 0, 0, 128, 2, 2, 2, 2, 2, 2})
	f.Add([]byte{129, 1, 0, 0, 2, 0, 129, 2, 0, 1, 2, 0, 21, 0, 0, 0, 0, 49, 3, 3, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		stretch := len(data) > 0 && data[0]&1 != 0
		b := jitter.New(jitter.WithMaxPackets(16), jitter.WithTimeStretch(stretch))
		now := t0
		pushed := map[[2]uint32]int{}
		played := map[[2]uint32]int{}
		for len(data) >= 6 {
			op := data[0]
			seq := uint16(data[1]) | uint16(data[2])<<8
			ts := uint32(data[3])*960 + uint32(data[4])<<24
			flags := data[5]
			data = data[6:]
			now = now.Add(time.Duration(op%32) * time.Millisecond)
			if op&0x80 != 0 {
				dur := []uint32{0, 480, 960, 2880}[flags&3]
				k := [2]uint32{uint32(seq), ts}
				pushed[k]++
				b.Push(jitter.Packet{Seq: seq, Timestamp: ts, Duration: dur, Start: flags&4 != 0, End: flags&8 != 0,
					Payload: []byte{flags}, Arrival: now})
				continue
			}
			d, err := b.Next(now, 120*(1+int(flags%8)))
			if d.Samples <= 0 {
				t.Fatalf("decision %+v, %v", d, err)
			}
			switch d.Action {
			case jitter.Conceal, jitter.FEC:
				if d.Samples%120 != 0 || d.Samples > 5760 {
					t.Fatalf("%v of %d samples", d.Action, d.Samples)
				}
			}
			if d.Stretch != 0 && (!stretch || d.Action != jitter.Play || 4*max(d.Stretch, -d.Stretch) > d.Samples+d.Skip) {
				t.Fatalf("stretch %d on %+v", d.Stretch, d)
			}
			if d.Action == jitter.Play {
				if stretch && flags&16 != 0 {
					b.SetQuiet(flags&32 != 0)
				}
				k := [2]uint32{uint32(d.Packet.Seq), d.Packet.Timestamp}
				if pushed[k] == 0 {
					t.Fatalf("played a packet never pushed: %+v", d.Packet)
				}
				played[k]++
				if played[k] > pushed[k] {
					t.Fatalf("packet %+v played %d times, pushed %d", d.Packet, played[k], pushed[k])
				}
			}
		}
		_ = b.Stats()
	})
}
