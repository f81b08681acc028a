package codec

import (
	"errors"
	"math"
	"testing"
)

func sine(n, off int, freq float64) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(8000 * math.Sin(2*math.Pi*freq*float64(i+off)/SampleRate))
	}
	return pcm
}

func TestPacketSamples(t *testing.T) {
	cases := []struct {
		name string
		pkt  []byte
		want int
		err  bool
	}{
		{"empty", nil, 0, true},
		{"silk nb 10ms", []byte{0 << 3}, 480, false},
		{"silk wb 60ms", []byte{11 << 3}, 2880, false},
		{"hybrid fb 20ms", []byte{15 << 3}, 960, false},
		{"celt 2.5ms", []byte{16 << 3}, 120, false},
		{"celt fb 20ms", []byte{31 << 3, 1, 2}, 960, false},
		{"code1 20ms x2", []byte{1<<3 | 1, 1, 2}, 1920, false},
		{"code1 odd", []byte{1<<3 | 1, 1, 2, 3}, 0, true},
		{"code2", []byte{1<<3 | 2, 1, 2, 3}, 1920, false},
		{"code2 short", []byte{1<<3 | 2}, 0, true},
		{"code3 3x20", []byte{1<<3 | 3, 3}, 2880, false},
		{"code3 zero", []byte{1<<3 | 3, 0}, 0, true},
		{"code3 short", []byte{1<<3 | 3}, 0, true},
		{"code3 too long", []byte{3<<3 | 3, 3}, 0, true}, // 3 x 60 ms
		{"code3 6x20", []byte{1<<3 | 3, 6}, 5760, false},
	}
	for _, c := range cases {
		got, err := PacketSamples(c.pkt)
		if c.err {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: err = %v, want ErrMalformed", c.name, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: got %d, %v; want %d", c.name, got, err, c.want)
		}
	}
}

func FuzzPacketSamples(f *testing.F) {
	f.Add([]byte{0x08})
	f.Add([]byte{0x0b, 0x03})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		n, err := PacketSamples(pkt)
		if err == nil && (n <= 0 || n > MaxPacketSamples || n%120 != 0) {
			t.Fatalf("PacketSamples(%x) = %d without error", pkt, n)
		}
	})
}

func TestEncoderConfigErrors(t *testing.T) {
	for _, cfg := range []EncoderConfig{
		{FrameSamples: 100},
		{FrameSamples: 960, Bitrate: 1},
		{FrameSamples: 960, LossPerc: 101},
	} {
		if _, err := NewEncoder(cfg); err == nil {
			t.Errorf("NewEncoder(%+v) accepted a bad config", cfg)
		}
	}
}

func TestRoundTripAndConceal(t *testing.T) {
	for _, frame := range []int{480, 960, 2880} {
		enc, err := NewEncoder(EncoderConfig{FrameSamples: frame, FEC: true})
		if err != nil {
			t.Fatal(err)
		}
		dec, err := NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := enc.Encode(make([]int16, frame+1), nil); err == nil {
			t.Fatal("Encode accepted a wrong-length frame")
		}
		var pkts [][]byte
		buf := make([]byte, 0, 64)
		for i := 0; i < 10; i++ {
			prefix := len(buf)
			buf, err = enc.Encode(sine(frame, i*frame, 440), buf)
			if err != nil {
				t.Fatal(err)
			}
			pkts = append(pkts, buf[prefix:])
		}
		for i, p := range pkts {
			n, err := PacketSamples(p)
			if err != nil || n != frame {
				t.Fatalf("frame %d: PacketSamples = %d, %v; want %d", frame, n, err, frame)
			}
			// A long len-sized buffer with a larger cap must not make the
			// decoder produce more than len(pcm).
			big := make([]int16, frame, 2*MaxPacketSamples)
			got, err := dec.Decode(p, big)
			if err != nil || got != frame {
				t.Fatalf("frame %d packet %d: Decode = %d, %v", frame, i, got, err)
			}
		}
		pcm := make([]int16, frame, 4*frame)
		if n, err := dec.DecodePLC(pcm); err != nil || n != frame {
			t.Fatalf("DecodePLC = %d, %v", n, err)
		}
		if n, err := dec.DecodeFEC(pkts[5], pcm); err != nil || n != frame {
			t.Fatalf("DecodeFEC = %d, %v", n, err)
		}
		if _, err := dec.DecodePLC(make([]int16, 100)); err == nil {
			t.Fatal("DecodePLC accepted 100 samples")
		}
		if _, err := dec.Decode(nil, pcm); !errors.Is(err, ErrEmptyPacket) {
			t.Fatalf("Decode(nil) = %v", err)
		}
	}
}

// TestFECRecoversBetterThanPLC encodes speech-like audio with FEC, drops one
// packet and checks that recovering it from the next packet's FEC data is
// closer to the original than plain concealment.
func TestFECRecoversBetterThanPLC(t *testing.T) {
	const frame = 960
	enc, err := NewEncoder(EncoderConfig{FrameSamples: frame, FEC: true, LossPerc: 20})
	if err != nil {
		t.Fatal(err)
	}
	// A voiced, vibrato signal so SILK is chosen and FEC is emitted.
	const frames = 50
	src := make([]int16, frames*frame)
	for i := range src {
		tt := float64(i) / SampleRate
		f := 180 + 40*math.Sin(2*math.Pi*3*tt)
		src[i] = int16(6000*math.Sin(2*math.Pi*f*tt) + 3000*math.Sin(2*math.Pi*2.1*f*tt))
	}
	var pkts [][]byte
	for i := 0; i < frames; i++ {
		p, err := enc.Encode(src[i*frame:(i+1)*frame], nil)
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, p)
	}
	const lost = 30
	run := func(useFEC bool) []int16 {
		dec, err := NewDecoder()
		if err != nil {
			t.Fatal(err)
		}
		out := make([]int16, frames*frame)
		for i := 0; i < frames; i++ {
			dst := out[i*frame : (i+1)*frame]
			switch {
			case i == lost && useFEC:
				_, err = dec.DecodeFEC(pkts[i+1], dst)
			case i == lost:
				_, err = dec.DecodePLC(dst)
			default:
				_, err = dec.Decode(pkts[i], dst)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	errOf := func(out []int16) float64 {
		// Compare the lost frame against a clean decode (same codec delay).
		clean := func() []int16 {
			dec, _ := NewDecoder()
			o := make([]int16, frames*frame)
			for i := 0; i < frames; i++ {
				if _, err := dec.Decode(pkts[i], o[i*frame:(i+1)*frame]); err != nil {
					t.Fatal(err)
				}
			}
			return o
		}()
		var e float64
		for i := lost * frame; i < (lost+1)*frame; i++ {
			d := float64(out[i]) - float64(clean[i])
			e += d * d
		}
		return e
	}
	plc, fec := errOf(run(false)), errOf(run(true))
	t.Logf("squared error of the lost frame: PLC %.3g, FEC %.3g", plc, fec)
	if !(fec < plc) {
		t.Fatalf("FEC recovery (%.3g) is not better than PLC (%.3g)", fec, plc)
	}
}

func BenchmarkEncode20ms(b *testing.B) {
	enc, err := NewEncoder(EncoderConfig{FrameSamples: 960, FEC: true})
	if err != nil {
		b.Fatal(err)
	}
	pcm := sine(960, 0, 440)
	buf := make([]byte, 0, MaxPacketBytes)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := enc.Encode(pcm, buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode20ms(b *testing.B) {
	enc, _ := NewEncoder(EncoderConfig{FrameSamples: 960, FEC: true})
	pkt, _ := enc.Encode(sine(960, 0, 440), nil)
	dec, _ := NewDecoder()
	pcm := make([]int16, 960)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dec.Decode(pkt, pcm); err != nil {
			b.Fatal(err)
		}
	}
}
