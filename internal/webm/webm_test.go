package webm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/hraban/opus"
)

func readChunks(t testing.TB, dir string) [][]byte {
	t.Helper()
	names, err := filepath.Glob(filepath.Join("testdata", dir, "*.bin"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no chunks in %s: %v", dir, err)
	}
	sort.Strings(names)
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestChromiumChunks(t *testing.T) {
	for _, set := range []string{"webm-20ms.chunks", "webm-100ms.chunks"} {
		t.Run(set, func(t *testing.T) {
			chunks := readChunks(t, set)
			d := New(Config{})
			var pkts []Packet
			for i, c := range chunks {
				p, err := d.Push(c)
				if err != nil {
					t.Fatalf("chunk %d: %v", i, err)
				}
				// Packets come out as soon as their block is complete: with one
				// frame per blob, each blob after the headers completes a block
				// (the blob ends with the next block's first ID byte).
				if set == "webm-20ms.chunks" && i >= 2 && i < len(chunks)-1 && len(p) != 1 {
					t.Errorf("chunk %d yielded %d packets, want 1", i, len(p))
				}
				pkts = append(pkts, p...)
			}
			info := d.Info()
			if !info.HeaderSeen || info.Codec != "opus" || info.Channels != 1 || info.Container != "webm" {
				t.Fatalf("info = %+v", info)
			}
			if len(pkts) != 111 {
				t.Fatalf("got %d packets, want 111", len(pkts))
			}
			for i, p := range pkts {
				if want := int64(i) * 2880; p.Timestamp != want {
					t.Fatalf("packet %d timestamp %d, want %d", i, p.Timestamp, want)
				}
				if p.Samples != 2880 {
					t.Fatalf("packet %d lasts %d samples, want 2880 (60 ms)", i, p.Samples)
				}
			}
			if last := pkts[110].Timestamp; last != 6600*48 {
				t.Fatalf("last timestamp %d, want 6600 ms", last)
			}
			checkAudio(t, pkts, 0.8)
		})
	}
}

// TestByteByByte feeds the stream one byte at a time and in one piece.
func TestByteByByte(t *testing.T) {
	whole, err := os.ReadFile("testdata/webm-20ms.webm")
	if err != nil {
		t.Fatal(err)
	}
	d := NewWebM(Config{})
	var n int
	var ts []int64
	for i := range whole {
		p, err := d.Push(whole[i : i+1])
		if err != nil {
			t.Fatalf("byte %d: %v", i, err)
		}
		n += len(p)
		for _, q := range p {
			ts = append(ts, q.Timestamp)
		}
	}
	d2 := NewWebM(Config{})
	p2, err := d2.Push(whole)
	if err != nil {
		t.Fatal(err)
	}
	if n != 111 || len(p2) != 111 {
		t.Fatalf("byte by byte %d packets, whole %d, want 111", n, len(p2))
	}
	for i := range p2 {
		if p2[i].Timestamp != ts[i] {
			t.Fatalf("packet %d: %d vs %d", i, p2[i].Timestamp, ts[i])
		}
	}
}

func TestFFmpegFiles(t *testing.T) {
	ogg, _ := os.ReadFile("testdata/ffmpeg-20ms.ogg")
	d := New(Config{})
	var pkts []Packet
	for i := 0; i < len(ogg); i += 333 {
		p, err := d.Push(ogg[i:min(i+333, len(ogg))])
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, p...)
	}
	if info := d.Info(); info.Container != "ogg" || info.Channels != 1 || info.PreSkip != 312 {
		t.Fatalf("ogg info %+v", info)
	}
	if len(pkts) < 99 || len(pkts) > 101 {
		t.Fatalf("ogg: %d packets of 20 ms for 2 s", len(pkts))
	}
	for i, p := range pkts {
		if p.Samples != 960 || p.Timestamp != int64(i*960) {
			t.Fatalf("ogg packet %d: %+v", i, p)
		}
	}

	st, _ := os.ReadFile("testdata/ffmpeg-stereo.webm")
	d = New(Config{})
	pkts, err := d.Push(st)
	if err != nil {
		t.Fatal(err)
	}
	if info := d.Info(); info.Channels != 2 || len(pkts) < 99 {
		t.Fatalf("stereo webm: %+v, %d packets", info, len(pkts))
	}

	vb, _ := os.ReadFile("testdata/vorbis.webm")
	_, err = New(Config{}).Push(vb)
	if !errors.Is(err, ErrUnsupported) || !bytes.Contains([]byte(err.Error()), []byte("A_VORBIS")) {
		t.Fatalf("vorbis: err = %v, want unsupported A_VORBIS", err)
	}
}

func TestBadInput(t *testing.T) {
	whole, _ := os.ReadFile("testdata/webm-20ms.webm")
	// The first Cluster starts at 0x91 in this file (1F 43 B6 75).
	clusterAt := bytes.Index(whole, []byte{0x1F, 0x43, 0xB6, 0x75})
	if clusterAt < 0 {
		t.Fatal("no cluster")
	}
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"garbage", []byte("hello, this is not a recording at all"), ErrNotRecognized},
		{"mp4 without ftyp", append([]byte{0, 0, 0, 0x10}, []byte("moovxxxxyyyy")...), ErrNotRecognized},
		{"huge block", append(append([]byte{}, whole[:clusterAt+15]...), 0xA3, 0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0), ErrTooLarge},
		{"unknown-size block", append(append([]byte{}, whole[:clusterAt+15]...), 0xA3, 0xFF), ErrUnsupported},
		{"garbage after header", append(append([]byte{}, whole[:clusterAt+12+3]...), 0x00, 0x00, 0x00), ErrCorrupt},
		{"cluster before tracks", append(append([]byte{}, whole[:0x30]...), whole[clusterAt:]...), ErrCorrupt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := New(Config{})
			_, err := d.Push(c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			// Sticky.
			if _, err2 := d.Push([]byte{1, 2, 3}); err2 == nil {
				t.Fatal("demuxer accepted input after an error")
			}
		})
	}

	// A second EBML header restarts the stream (a restarted recorder).
	d0 := New(Config{})
	hdrEnd := bytes.Index(whole, []byte{0x18, 0x53, 0x80, 0x67})
	twice := append(append(append([]byte{}, whole[:hdrEnd]...), whole[:hdrEnd]...), whole[hdrEnd:]...)
	if pk, err := d0.Push(twice); err != nil || len(pk) != 111 {
		t.Fatalf("restarted stream: %d packets, %v", len(pk), err)
	}
	if pk, err := New(Config{}).Push([]byte{0x1A, 0x45, 0xDF, 0xA3, 0x80, 0x1A, 0x45, 0xDF, 0xA3, 0x80}); err != nil || len(pk) != 0 {
		t.Fatalf("two empty headers: %v", err)
	}

	// A truncated stream is not an error: the packets so far come out and the
	// demuxer waits for more.
	d := New(Config{})
	pkts, err := d.Push(whole[:len(whole)/2])
	if err != nil || len(pkts) < 50 {
		t.Fatalf("truncated: %d packets, %v", len(pkts), err)
	}
}

func TestOpusSamples(t *testing.T) {
	cases := map[byte]int{
		0x00: 480, 0x08: 960, 0x10: 1920, 0x18: 2880, // SILK 10/20/40/60
		0x70: 480, 0x78: 960, 0x80: 120, 0x98: 960, // hybrid 10, 20 ms, CELT 2.5 ms, CELT 20 ms
		0x99: 1920, // CELT 20 ms, 2 frames
	}
	for toc, want := range cases {
		if got := OpusSamples([]byte{toc, 0}); got != want {
			t.Errorf("TOC %#x: %d, want %d", toc, got, want)
		}
	}
	if got := OpusSamples([]byte{0x0B, 3}); got != 3*960 {
		t.Errorf("code 3: %d", got)
	}
	if got := OpusSamples([]byte{0x1B, 0x3F}); got != 0 {
		t.Errorf("overlong: %d", got)
	}
}

func FuzzDemux(f *testing.F) {
	whole, _ := os.ReadFile("testdata/webm-20ms.webm")
	f.Add(whole[:3000], uint16(7))
	ogg, _ := os.ReadFile("testdata/ffmpeg-20ms.ogg")
	f.Add(ogg[:2000], uint16(100))
	st, _ := os.ReadFile("testdata/ffmpeg-stereo.webm")
	f.Add(st[:1500], uint16(1))
	mp4, _ := os.ReadFile("testdata/webkit-opus.mp4")
	f.Add(mp4[:3000], uint16(33))
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		d := New(Config{MaxElementSize: 4096})
		step := int(cut%512) + 1
		for i := 0; i < len(data); i += step {
			pkts, err := d.Push(data[i:min(i+step, len(data))])
			for _, p := range pkts {
				if len(p.Data) > 4096 {
					t.Fatalf("packet of %d bytes beyond the limit", len(p.Data))
				}
			}
			if err != nil {
				if !errors.Is(err, ErrNotRecognized) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
					t.Fatalf("unclassified error: %v", err)
				}
				return
			}
		}
	})
}

func BenchmarkWebMChunks(b *testing.B) {
	chunks := readChunks(b, "webm-20ms.chunks")
	var total int
	for _, c := range chunks {
		total += len(c)
	}
	b.SetBytes(int64(total))
	b.ReportAllocs()
	for b.Loop() {
		d := NewWebM(Config{})
		for _, c := range chunks {
			if _, err := d.Push(c); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// checkAudio decodes the packets and compares their 10 ms RMS envelope with
// source.wav's, at the best alignment within ±0.5 s.
func checkAudio(t *testing.T, pkts []Packet, min float64) {
	t.Helper()
	dec, err := opus.NewDecoder(48000, 1)
	if err != nil {
		t.Fatal(err)
	}
	var pcm []int16
	for _, p := range pkts {
		buf := make([]int16, p.Samples)
		n, err := dec.Decode(p.Data, buf)
		if err != nil {
			t.Fatalf("decode: %v", err)
		}
		pcm = append(pcm, buf[:n]...)
	}
	src := readWAV16(t, "testdata/source.wav")
	r := envelopeCorrelation(src, pcm, 480, 50)
	t.Logf("envelope correlation with source.wav: %.3f", r)
	if r < min {
		t.Fatalf("envelope correlation %.3f < %.2f", r, min)
	}
}

func readWAV16(t *testing.T, name string) []int16 {
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("data"))
	if i < 0 {
		t.Fatal("no data chunk")
	}
	b = b[i+8:]
	out := make([]int16, len(b)/2)
	for j := range out {
		out[j] = int16(binary.LittleEndian.Uint16(b[2*j:]))
	}
	return out
}

func envelope(x []int16, win int) []float64 {
	var e []float64
	for i := 0; i+win <= len(x); i += win {
		var s float64
		for _, v := range x[i : i+win] {
			s += float64(v) * float64(v)
		}
		e = append(e, math.Sqrt(s/float64(win)))
	}
	return e
}

func envelopeCorrelation(a, b []int16, win, maxLag int) float64 {
	ea, eb := envelope(a, win), envelope(b, win)
	best := -1.0
	for lag := -maxLag; lag <= maxLag; lag++ {
		var xs, ys []float64
		for i := range ea {
			j := i + lag
			if j >= 0 && j < len(eb) {
				xs, ys = append(xs, ea[i]), append(ys, eb[j])
			}
		}
		if r := pearson(xs, ys); r > best {
			best = r
		}
	}
	return best
}

func pearson(x, y []float64) float64 {
	n := float64(len(x))
	if n < 2 {
		return -1
	}
	var sx, sy, sxx, syy, sxy float64
	for i := range x {
		sx += x[i]
		sy += y[i]
		sxx += x[i] * x[i]
		syy += y[i] * y[i]
		sxy += x[i] * y[i]
	}
	cov := sxy - sx*sy/n
	vx, vy := sxx-sx*sx/n, syy-sy*sy/n
	if vx <= 0 || vy <= 0 {
		return -1
	}
	return cov / math.Sqrt(vx*vy)
}
