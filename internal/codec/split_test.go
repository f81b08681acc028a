package codec

import (
	"bytes"
	"errors"
	"slices"
	"testing"
)

// frames encodes n 20 ms frames of a tone at bitrate and returns n frames
// that share one TOC byte (the first n with the TOC of the first).
func frames(t testing.TB, n, bitrate int) (byte, [][]byte) {
	t.Helper()
	enc, err := NewEncoder(EncoderConfig{FrameSamples: 960, Bitrate: bitrate})
	if err != nil {
		t.Fatal(err)
	}
	var toc byte
	var out [][]byte
	for i := 0; len(out) < n && i < 200; i++ {
		p, err := enc.Encode(sine(960, i*960, 440+float64(i%7)*50), make([]byte, 0, MaxPacketBytes))
		if err != nil {
			t.Fatal(err)
		}
		if p[0]&3 != 0 {
			t.Fatalf("the encoder made a code %d packet", p[0]&3)
		}
		if len(out) == 0 {
			toc = p[0]
		}
		if p[0] == toc {
			out = append(out, append([]byte(nil), p[1:]...))
		}
	}
	if len(out) < n {
		t.Fatalf("no %d frames with one TOC", n)
	}
	return toc, out
}

// codeLen appends a frame length in the RFC 6716 §3.2.1 coding.
func codeLen(b []byte, n int) []byte {
	if n < 252 {
		return append(b, byte(n))
	}
	first := 252 + (n-252)%4 // length = 4×second + first
	return append(b, byte(first), byte((n-first)/4))
}

// multi builds packets of every frame count code from frames.
func multi(toc byte, f [][]byte) map[string][]byte {
	a, b, c := f[0], f[1], f[2]
	code2 := codeLen([]byte{toc&^3 | 2}, len(a))
	code2 = append(append(code2, a...), b...)
	cbr := append([]byte{toc&^3 | 3, 3}, slices.Concat(a, a, a)...)
	padded := append([]byte{toc&^3 | 3, 0x40 | 3, 255, 46}, slices.Concat(a, a, a, make([]byte, 300))...)
	vbr := []byte{toc&^3 | 3, 0x80 | 3}
	vbr = codeLen(codeLen(vbr, len(a)), len(b))
	vbr = append(vbr, slices.Concat(a, b, c)...)
	return map[string][]byte{
		"code 0":         append([]byte{toc &^ 3}, a...),
		"code 1":         append([]byte{toc&^3 | 1}, slices.Concat(a, a)...),
		"code 2":         code2,
		"code 3 CBR":     cbr,
		"code 3 padding": padded,
		"code 3 VBR":     vbr,
	}
}

func TestCodeLen(t *testing.T) {
	for _, n := range []int{0, 251, 252, 255, 256, 1000, 1275} {
		got, used, err := frameLen(codeLen(nil, n))
		if err != nil || got != n || used != len(codeLen(nil, n)) {
			t.Errorf("%d: got %d (%d bytes), %v", n, got, used, err)
		}
	}
}

// Every frame count code splits into the frames it was made of, and the
// split packets decode to exactly the samples of the whole packet.
func TestSplitFrames(t *testing.T) {
	for _, bitrate := range []int{24000, 160000} { // one- and two-byte frame lengths
		toc, f := frames(t, 3, bitrate)
		want := map[string][][]byte{
			"code 0": {f[0]}, "code 1": {f[0], f[0]}, "code 2": {f[0], f[1]},
			"code 3 CBR": {f[0], f[0], f[0]}, "code 3 padding": {f[0], f[0], f[0]}, "code 3 VBR": {f[0], f[1], f[2]},
		}
		for name, pkt := range multi(toc, f) {
			out, per, err := SplitFrames(pkt, nil)
			if err != nil {
				t.Fatalf("%d bit/s, %s: %v", bitrate, name, err)
			}
			if per != 960 || len(out) != len(want[name]) {
				t.Fatalf("%d bit/s, %s: %d packets of %d samples", bitrate, name, len(out), per)
			}
			for i, p := range out {
				if p[0] != toc&^3 || !bytes.Equal(p[1:], want[name][i]) {
					t.Errorf("%d bit/s, %s: packet %d differs", bitrate, name, i)
				}
			}
			// Decoding the split packets gives the whole packet's samples.
			whole, parts := decoder(t), decoder(t)
			ref := make([]int16, MaxPacketSamples)
			n, err := whole.Decode(pkt, ref)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var got []int16
			buf := make([]int16, MaxPacketSamples)
			for _, p := range out {
				k, err := parts.Decode(p, buf)
				if err != nil {
					t.Fatalf("%s: split packet: %v", name, err)
				}
				got = append(got, buf[:k]...)
			}
			if !slices.Equal(got, ref[:n]) {
				t.Errorf("%d bit/s, %s: the split packets decode differently", bitrate, name)
			}
		}
	}
}

func decoder(t *testing.T) *Decoder {
	d, err := NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// Malformed packets are refused (every length the RFC constrains), never
// read past their end.
func TestSplitFramesMalformed(t *testing.T) {
	const toc = 0xF8 // CELT FB 20 ms
	for name, pkt := range map[string][]byte{
		"empty":                 {},
		"code 0 too long":       append([]byte{toc}, make([]byte, 1276)...),
		"code 1 odd":            {toc | 1, 1, 2, 3},
		"code 2 no length":      {toc | 2},
		"code 2 cut length":     {toc | 2, 253},
		"code 2 length too big": {toc | 2, 5, 1, 2},
		"code 3 no count":       {toc | 3},
		"code 3 zero frames":    {toc | 3, 0},
		"code 3 over 120 ms":    {toc | 3, 7},
		"code 3 padding cut":    {toc | 3, 0x40 | 1, 255},
		"code 3 padding big":    {toc | 3, 0x40 | 1, 10, 1, 2},
		"code 3 CBR uneven":     {toc | 3, 2, 1, 2, 3},
		"code 3 VBR too long":   {toc | 3, 0x80 | 2, 9, 1, 2},
		"code 3 VBR cut":        {toc | 3, 0x80 | 3, 1},
	} {
		if out, _, err := SplitFrames(pkt, nil); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: %d packets, %v", name, len(out), err)
		}
	}
}

// FuzzSplitFrames: no panic; what splits adds up to the packet's duration.
func FuzzSplitFrames(f *testing.F) {
	toc, fr := frames(f, 3, 64000)
	for _, p := range multi(toc, fr) {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, pkt []byte) {
		out, per, err := SplitFrames(pkt, nil)
		if err != nil {
			return
		}
		total, err := PacketSamples(pkt)
		if err != nil || total != per*len(out) {
			t.Fatalf("%d packets of %d samples from a packet of %d (%v)", len(out), per, total, err)
		}
		for _, p := range out {
			if p[0]&3 != 0 || len(p)-1 > maxFrameBytes {
				t.Fatalf("split packet %x…", p[:1])
			}
		}
	})
}
