package codec

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// voiced is a voiced, vibrato signal with a syllable-rate envelope: Opus
// codes it with SILK, so in-band FEC is produced when asked for.
func voiced(n int) []int16 {
	pcm := make([]int16, n)
	phase := 0.0
	for i := range pcm {
		tt := float64(i) / SampleRate
		f0 := 150 + 30*math.Sin(2*math.Pi*0.7*tt)
		phase += 2 * math.Pi * f0 / SampleRate
		env := 0.6 + 0.4*math.Sin(2*math.Pi*3.3*tt)
		v := math.Sin(phase) + 0.5*math.Sin(2*phase) + 0.25*math.Sin(3*phase)
		pcm[i] = int16(7000 * env * v)
	}
	return pcm
}

func encodeAll(t *testing.T, cfg EncoderConfig, pcm []int16) [][]byte {
	t.Helper()
	enc, err := NewEncoder(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var pkts [][]byte
	for i := 0; i+cfg.FrameSamples <= len(pcm); i += cfg.FrameSamples {
		p, err := enc.Encode(pcm[i:i+cfg.FrameSamples], nil)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, p)
	}
	return pkts
}

// TestPacketHasFECRealPackets: libopus's packets carry LBRR data when the
// encoder's FEC is on (SILK, speech), never when it is off or in CELT mode.
func TestPacketHasFECRealPackets(t *testing.T) {
	src := voiced(2 * SampleRate)
	for _, frame := range []int{480, 960, 1920, 2880} {
		on := encodeAll(t, EncoderConfig{FrameSamples: frame, FEC: true, LossPerc: 10}, src)
		off := encodeAll(t, EncoderConfig{FrameSamples: frame, FEC: false, LossPerc: 10}, src)
		var nOn, nOff, silk int
		for i := range on {
			if on[i][0]>>3 < 16 {
				silk++
			}
			h, err := PacketHasFEC(on[i])
			if err != nil {
				t.Fatalf("frame %d packet %d: %v", frame, i, err)
			}
			if h {
				nOn++
			}
			if HasFEC(off[i]) {
				nOff++
			}
		}
		t.Logf("%d-sample frames: %d packets (%d SILK/hybrid), FEC on: %d with LBRR; FEC off: %d", frame, len(on), silk, nOn, nOff)
		if nOff != 0 {
			t.Errorf("%d-sample frames: %d packets encoded without FEC report FEC", frame, nOff)
		}
		// The first packet has nothing before it to protect. libopus adds
		// LBRR only for frames it judges active speech, so the quieter
		// stretches of the envelope go without: about 60% here.
		if nOn < len(on)/3 {
			t.Errorf("%d-sample frames: only %d of %d packets encoded with FEC report it", frame, nOn, len(on))
		}
		if HasFEC(on[0]) {
			t.Errorf("%d-sample frames: the first packet reports FEC for a packet that never existed", frame)
		}
	}
	// 2.5 ms frames are CELT-only: never FEC.
	for i, p := range encodeAll(t, EncoderConfig{FrameSamples: 120, FEC: true, LossPerc: 10}, src[:SampleRate/10]) {
		if HasFEC(p) {
			t.Fatalf("CELT packet %d (TOC %#x) reports FEC", i, p[0])
		}
	}
}

// TestPacketHasFECMatchesDecoder checks the answer against what the decoder
// does, for every packet of a second of speech: where the next packet
// carries FEC data, DecodeFEC on it differs from concealment; where it
// carries none, DecodeFEC gives exactly the decoder's concealment.
func TestPacketHasFECMatchesDecoder(t *testing.T) {
	const frame = 960
	src := voiced(SampleRate)
	for _, fec := range []bool{true, false} {
		pkts := encodeAll(t, EncoderConfig{FrameSamples: frame, FEC: fec, LossPerc: 10}, src)
		withFEC := 0
		for lost := 1; lost+1 < len(pkts); lost++ {
			decode := func(useFEC bool) []int16 {
				dec, err := NewDecoder()
				if err != nil {
					t.Fatal(err)
				}
				pcm := make([]int16, frame)
				for i := 0; i < lost; i++ {
					if _, err := dec.Decode(pkts[i], pcm); err != nil {
						t.Fatal(err)
					}
				}
				if useFEC {
					_, err = dec.DecodeFEC(pkts[lost+1], pcm)
				} else {
					_, err = dec.DecodePLC(pcm)
				}
				if err != nil {
					t.Fatal(err)
				}
				return pcm
			}
			has := HasFEC(pkts[lost+1])
			if has {
				withFEC++
			}
			same := slices.Equal(decode(true), decode(false))
			if has && same {
				t.Errorf("encoder FEC %v, packet %d lost: the next packet reports FEC, but DecodeFEC on it only conceals", fec, lost)
			}
			// Without LBRR data DecodeFEC conceals in the next packet's
			// mode and bandwidth, so it equals plain concealment only
			// where the encoder did not switch (it starts in hybrid FB
			// and moves to SILK WB for this signal).
			if !has && !same && pkts[lost-1][0]>>3 == pkts[lost+1][0]>>3 {
				t.Errorf("encoder FEC %v, packet %d lost: the next packet reports no FEC, but DecodeFEC on it recovers something other than concealment", fec, lost)
			}
		}
		t.Logf("encoder FEC %v: %d of %d losses recoverable from the next packet", fec, withFEC, len(pkts)-2)
		if fec != (withFEC > 0) {
			t.Errorf("encoder FEC %v, but %d packets carry FEC", fec, withFEC)
		}
	}
}

// TestRangeDecoderFirstBits: the symbols at the head of a SILK frame have
// probability ½, so they are the first bits of the frame (the shortcut
// libopus 1.5's opus_packet_has_lbrr takes). The range decoder must agree.
func TestRangeDecoderFirstBits(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		buf := make([]byte, 1+r.IntN(8))
		for i := range buf {
			buf[i] = byte(r.Uint32())
		}
		d := newRangeDecoder(buf)
		for bit := 0; bit < 8*len(buf) && bit < 24; bit++ {
			want := buf[bit/8]>>(7-bit%8)&1 == 1
			if got := d.bitLogp(1); got != want {
				t.Fatalf("%x: bit %d decoded %v, want %v", buf, bit, got, want)
			}
		}
	}
}

// TestPacketHasFECLayout covers the header layout: which bit is the LBRR
// flag for 10–60 ms, mono and stereo, and the packet framing codes.
func TestPacketHasFECLayout(t *testing.T) {
	cases := []struct {
		name string
		pkt  []byte
		want bool
		err  bool
	}{
		{"empty", nil, false, true},
		{"silk 20ms, VAD only", []byte{1 << 3, 0x80, 0}, false, false},
		{"silk 20ms, LBRR", []byte{1 << 3, 0x40, 0}, true, false},
		{"silk 10ms, LBRR", []byte{0 << 3, 0x40}, true, false},
		{"silk 40ms, 2 VAD flags then LBRR", []byte{2 << 3, 0xc0}, false, false},
		{"silk 40ms, LBRR", []byte{2 << 3, 0x20}, true, false},
		{"silk 60ms, LBRR", []byte{3 << 3, 0x10}, true, false},
		{"silk 60ms, VAD flags", []byte{3 << 3, 0xe0}, false, false},
		{"stereo 20ms, side LBRR", []byte{1<<3 | 4, 0x10}, true, false},
		{"stereo 20ms, side VAD", []byte{1<<3 | 4, 0xa0}, false, false},
		{"hybrid 20ms, LBRR", []byte{13 << 3, 0x40, 1, 2}, true, false},
		{"celt, bits set", []byte{31 << 3, 0xff}, false, false},
		{"dtx (empty frame)", []byte{1 << 3}, false, false},
		{"code 1, first of two", []byte{1<<3 | 1, 0x40, 0x00}, true, false},
		{"code 1, second only", []byte{1<<3 | 1, 0x00, 0x40}, false, false},
		{"code 1 odd", []byte{1<<3 | 1, 0x40}, false, true},
		{"code 2", []byte{1<<3 | 2, 1, 0x40, 0, 0}, true, false},
		{"code 2, empty first", []byte{1<<3 | 2, 0, 0x40}, false, false},
		{"code 2 overrun", []byte{1<<3 | 2, 5, 0x40}, false, true},
		{"code 2 long length cut", []byte{1<<3 | 2, 252}, false, true},
		{"code 3 cbr x2", []byte{1<<3 | 3, 2, 0x40, 0}, true, false},
		{"code 3 cbr uneven", []byte{1<<3 | 3, 2, 0x40, 0, 0}, false, true},
		{"code 3 cbr padded", []byte{1<<3 | 3, 0x40 | 1, 2, 0x40, 0, 0}, true, false},
		{"code 3 vbr", []byte{1<<3 | 3, 0x80 | 2, 1, 0x40, 0, 0}, true, false},
		{"code 3 vbr x3", []byte{1<<3 | 3, 0x80 | 3, 1, 1, 0x00, 0x40, 0x40}, false, false},
		{"code 3 vbr overrun", []byte{1<<3 | 3, 0x80 | 2, 9, 0x40}, false, true},
		{"code 3 padding cut", []byte{1<<3 | 3, 0x40 | 1, 255}, false, true},
		{"code 3 no count", []byte{1<<3 | 3}, false, true},
		{"code 3 zero frames", []byte{1<<3 | 3, 0}, false, true},
	}
	for _, c := range cases {
		got, err := PacketHasFEC(c.pkt)
		if c.err {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: err = %v, want ErrMalformed", c.name, err)
			}
			if HasFEC(c.pkt) {
				t.Errorf("%s: HasFEC true for a malformed packet", c.name)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: got %v, %v; want %v", c.name, got, err, c.want)
		}
	}
}

func FuzzPacketHasFEC(f *testing.F) {
	f.Add([]byte{0x08, 0x40})
	f.Add([]byte{0x0b, 0x83, 1, 1, 0, 0x40})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		h, err := PacketHasFEC(pkt)
		if err != nil && h {
			t.Fatalf("PacketHasFEC(%x) = true with error %v", pkt, err)
		}
		if len(pkt) > 0 && pkt[0]>>3 >= 16 && h {
			t.Fatalf("CELT packet %x reports FEC", pkt)
		}
	})
}

func BenchmarkPacketHasFEC(b *testing.B) {
	pkt := []byte{1 << 3, 0x40, 1, 2, 3, 4, 5, 6, 7, 8}
	for b.Loop() {
		if !HasFEC(pkt) {
			b.Fatal("no FEC")
		}
	}
}
