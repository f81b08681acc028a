package wav

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// source returns a mono test signal: a 440 Hz tone plus low noise, using
// most of the 16-bit range, with a few extreme samples.
func source(n, rate int) []int16 {
	rng := rand.New(rand.NewPCG(7, 9))
	out := make([]int16, n)
	for i := range out {
		v := 20000*math.Sin(2*math.Pi*440*float64(i)/float64(rate)) + rng.NormFloat64()*2000
		out[i] = int16(max(-32768, min(32767, v)))
	}
	if n > 4 {
		out[1], out[2] = 32767, -32768
	}
	return out
}

type fixture struct {
	name string
	f    Format
	tol  float64 // max abs error relative to full scale
}

func fixtures() []fixture {
	var out []fixture
	base := []fixture{
		{"u8", Format{Bits: 8}, 1.0 / 128},
		{"s16", Format{Bits: 16}, 0},
		{"s24", Format{Bits: 24}, 0},
		{"s32", Format{Bits: 32}, 0},
		{"f32", Format{Bits: 32, Float: true}, 0},
		{"f64", Format{Bits: 64, Float: true}, 0},
		{"alaw", Format{Bits: 8, Law: ALaw}, 1100.0 / 32768},
		{"mulaw", Format{Bits: 8, Law: MuLaw}, 1100.0 / 32768},
	}
	for _, b := range base {
		for _, ch := range []int{1, 2} {
			for _, rate := range []int{8000, 44100} {
				f := b.f
				f.Channels, f.Rate = ch, rate
				out = append(out, fixture{fmt.Sprintf("%s-%dch-%d", b.name, ch, rate), f, b.tol})
			}
		}
		f := b.f
		f.Channels, f.Rate, f.Extensible, f.ExtraChunks = 2, 48000, true, true
		out = append(out, fixture{b.name + "-ext-extra", f, b.tol})
		f = b.f
		f.Channels, f.Rate, f.Streamed = 1, 16000, true
		out = append(out, fixture{b.name + "-streamed", f, b.tol})
	}
	six := Format{Bits: 16, Channels: 6, Rate: 22050, Extensible: true}
	out = append(out, fixture{"s16-6ch", six, 0})
	return out
}

func encodeMono(t testing.TB, f Format, mono []int16) []byte {
	t.Helper()
	var b bytes.Buffer
	inter := make([]int16, 0, len(mono)*f.Channels)
	for _, v := range mono {
		for c := 0; c < f.Channels; c++ {
			inter = append(inter, v)
		}
	}
	if err := EncodeFormat(&b, f, inter); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestRoundTripAllFormats(t *testing.T) {
	for _, fx := range fixtures() {
		t.Run(fx.name, func(t *testing.T) {
			src := source(1001, fx.f.Rate) // odd length: odd data size for 8-bit mono
			a, err := Decode(bytes.NewReader(encodeMono(t, fx.f, src)))
			if err != nil {
				t.Fatal(err)
			}
			if a.SampleRate != fx.f.Rate || a.Channels != fx.f.Channels || a.Frames() != len(src) {
				t.Fatalf("got %d Hz %d ch %d frames, want %d Hz %d ch %d frames",
					a.SampleRate, a.Channels, a.Frames(), fx.f.Rate, fx.f.Channels, len(src))
			}
			g := a.Format
			if g.Bits != fx.f.Bits || g.Float != fx.f.Float || g.Law != fx.f.Law || g.Extensible != fx.f.Extensible {
				t.Errorf("format %v, want %v", g, fx.f)
			}
			if a.Truncated {
				t.Error("reported truncated")
			}
			if a.Streamed != fx.f.Streamed {
				t.Errorf("Streamed = %v", a.Streamed)
			}
			for c := range a.Samples {
				for i, v := range a.Samples[c] {
					want := float64(src[i]) / 32768
					if d := math.Abs(float64(v) - want); d > fx.tol+1e-9 && d > math.Abs(want)*0.07 {
						t.Fatalf("ch %d sample %d: %v, want %v", c, i, v, want)
					}
				}
			}
		})
	}
}

// Files written by sox must decode to what sox says they contain, and sox
// must accept ours.
func TestSoxInterop(t *testing.T) {
	sox, err := exec.LookPath("sox")
	if err != nil {
		t.Fatal("sox is needed by this test: install it with `apt-get install -y sox`")
	}
	dir := t.TempDir()
	src := source(4800, 48000)
	ref := filepath.Join(dir, "ref.wav")
	writeFile(t, ref, Format{Rate: 48000, Channels: 1, Bits: 16}, src)
	cases := [][]string{
		{"-b", "8", "-e", "unsigned-integer"},
		{"-b", "16", "-c", "2"},
		{"-b", "24"},
		{"-b", "32", "-e", "signed-integer"},
		{"-b", "32", "-e", "floating-point"},
		{"-b", "64", "-e", "floating-point"},
		{"-e", "a-law"},
		{"-e", "u-law"},
	}
	for i, c := range cases {
		out := filepath.Join(dir, fmt.Sprintf("sox%d.wav", i))
		args := append([]string{"-D", ref}, c...)
		args = append(args, out)
		if msg, err := exec.Command(sox, args...).CombinedOutput(); err != nil {
			t.Fatalf("sox %v: %v\n%s", args, err, msg)
		}
		a, err := ReadFile(out)
		if err != nil {
			t.Fatalf("sox %v: %v", c, err)
		}
		if a.Frames() != len(src) {
			t.Errorf("sox %v: %d frames, want %d", c, a.Frames(), len(src))
		}
		m := Mono(a)
		for j := 100; j < len(src); j += 97 {
			if d := math.Abs(float64(m[j]) - float64(src[j])/32768); d > 0.04 {
				t.Errorf("sox %v: sample %d off by %.4f", c, j, d)
				break
			}
		}
	}
	// sox reads every format we write.
	for _, fx := range fixtures() {
		p := filepath.Join(dir, fx.name+".wav")
		writeFile(t, p, fx.f, repeat(source(2000, fx.f.Rate), fx.f.Channels))
		msg, err := exec.Command(sox, "--i", "-s", p).Output()
		if err != nil {
			if fx.f.Streamed {
				continue // sox warns about 0xFFFFFFFF sizes on some versions
			}
			t.Errorf("%s: sox cannot read it: %v\n%s", fx.name, err, msg)
			continue
		}
		if !fx.f.Streamed && strings.TrimSpace(string(msg)) != "2000" {
			t.Errorf("%s: sox counts %s samples, want 2000", fx.name, strings.TrimSpace(string(msg)))
		}
	}
}

func repeat(mono []int16, ch int) []int16 {
	out := make([]int16, 0, len(mono)*ch)
	for _, v := range mono {
		for c := 0; c < ch; c++ {
			out = append(out, v)
		}
	}
	return out
}

func writeFile(t testing.TB, path string, f Format, pcm []int16) {
	t.Helper()
	var b bytes.Buffer
	if err := EncodeFormat(&b, f, pcm); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// canonical returns a 44-byte-header 16-bit mono file of n samples.
func canonical(t testing.TB, n int) []byte {
	var b bytes.Buffer
	if err := Encode(&b, 8000, 1, source(n, 8000)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func patched(b []byte, off int, v uint32, width int) []byte {
	c := bytes.Clone(b)
	if width == 2 {
		binary.LittleEndian.PutUint16(c[off:], uint16(v))
	} else {
		binary.LittleEndian.PutUint32(c[off:], v)
	}
	return c
}

func TestBadHeaders(t *testing.T) {
	good := canonical(t, 100)
	huge := append(bytes.Clone(good[:12]), "fmt "...)
	huge = binary.LittleEndian.AppendUint32(huge, 1<<30)
	huge = append(huge, good[20:]...)
	adpcm := patched(good, 20, 2, 2)
	cases := []struct {
		name string
		in   []byte
		want error
	}{
		{"empty", nil, ErrNotWAV},
		{"short", good[:8], ErrNotWAV},
		{"mp3", []byte("ID3\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), ErrNotWAV},
		{"riff-not-wave", append([]byte("RIFF\x00\x00\x00\x00AVI "), good[12:]...), ErrNotWAV},
		{"zero-channels", patched(good, 22, 0, 2), ErrMalformed},
		{"many-channels", patched(good, 22, 1000, 2), ErrUnsupportedFormat},
		{"zero-rate", patched(good, 24, 0, 4), ErrMalformed},
		{"absurd-rate", patched(good, 24, 4_000_000_000, 4), ErrUnsupportedFormat},
		{"tiny-rate", patched(good, 24, 5, 4), ErrUnsupportedFormat},
		{"block-align", patched(good, 32, 3, 2), ErrMalformed},
		{"bits-0", patched(good, 34, 0, 2), ErrUnsupportedFormat},
		{"bits-48", patched(good, 34, 48, 2), ErrUnsupportedFormat},
		{"float-16", patched(patched(good, 20, 3, 2), 34, 16, 2), ErrUnsupportedFormat},
		{"adpcm", adpcm, ErrUnsupportedFormat},
		{"huge-fmt", huge, ErrMalformed},
		{"small-fmt", patched(good, 16, 8, 4), ErrMalformed},
		{"no-data", good[:36], ErrNoData},
		{"fmt-cut", good[:30], ErrMalformed},
		{"data-before-fmt", append(append(bytes.Clone(good[:12]), good[36:]...), good[12:36]...), ErrNoData},
		{"extensible-short", patched(good, 20, 0xFFFE, 2), ErrMalformed},
	}
	for _, c := range cases {
		a, err := Decode(bytes.NewReader(c.in))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
			continue
		}
		if a != nil {
			t.Errorf("%s: audio returned with error", c.name)
		}
		if err.Error() == c.want.Error() {
			t.Errorf("%s: error %q says nothing about what was wrong", c.name, err)
		}
	}
	// Unknown extensible sub-format.
	var b bytes.Buffer
	EncodeFormat(&b, Format{Rate: 8000, Channels: 1, Bits: 16, Extensible: true}, make([]int16, 10))
	ext := b.Bytes()
	ext[44] = 0x55 // sub-format GUID 0x0055 (MP3), suffix intact
	if _, err := Decode(bytes.NewReader(ext)); !errors.Is(err, ErrUnsupportedFormat) {
		t.Errorf("extensible MP3: %v", err)
	}
	ext[50] ^= 0xFF // broken GUID suffix
	if _, err := Decode(bytes.NewReader(ext)); !errors.Is(err, ErrUnsupportedFormat) {
		t.Errorf("extensible bad GUID: %v", err)
	}
}

func TestTruncatedData(t *testing.T) {
	good := canonical(t, 1000)
	a, err := Decode(bytes.NewReader(good[:44+2*600+1])) // half a sample at the end
	if err != nil {
		t.Fatal(err)
	}
	if !a.Truncated || a.Frames() != 600 {
		t.Fatalf("Truncated=%v frames=%d, want true, 600", a.Truncated, a.Frames())
	}
	// Header claims 4 GB; only 2000 bytes exist. Must not allocate gigabytes.
	lying := patched(good, 40, 0xFFFFFFF0, 4)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	a, err = Decode(bytes.NewReader(lying))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if !a.Truncated || a.Frames() != 1000 {
		t.Fatalf("Truncated=%v frames=%d", a.Truncated, a.Frames())
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("allocated %d bytes for a 2 kB file", alloc)
	}
}

func TestStreamedSizes(t *testing.T) {
	good := canonical(t, 1000)
	for _, size := range []uint32{0, 0xFFFFFFFF} {
		a, err := Decode(bytes.NewReader(patched(patched(good, 40, size, 4), 4, size, 4)))
		if err != nil {
			t.Fatal(err)
		}
		if !a.Streamed || a.Truncated || a.Frames() != 1000 {
			t.Errorf("size %#x: streamed=%v truncated=%v frames=%d", size, a.Streamed, a.Truncated, a.Frames())
		}
	}
}

func TestLimit(t *testing.T) {
	good := canonical(t, 1000)
	if _, err := DecodeLimit(bytes.NewReader(good), 1000); !errors.Is(err, ErrTooLarge) {
		t.Errorf("sized: %v", err)
	}
	if _, err := DecodeLimit(bytes.NewReader(patched(good, 40, 0, 4)), 1000); !errors.Is(err, ErrTooLarge) {
		t.Errorf("streamed: %v", err)
	}
	if _, err := DecodeLimit(bytes.NewReader(good), 2000); err != nil {
		t.Errorf("at limit: %v", err)
	}
}

func TestRF64(t *testing.T) {
	src := source(500, 8000)
	var b bytes.Buffer
	b.WriteString("RF64\xff\xff\xff\xffWAVE")
	ds := make([]byte, 28)
	binary.LittleEndian.PutUint64(ds[8:], uint64(len(src)*2))
	b.Write(appendChunk(nil, "ds64", ds))
	b.Write(appendChunk(nil, "fmt ", fmtChunk(Format{Rate: 8000, Channels: 1, Bits: 16}, tagPCM)))
	b.WriteString("data\xff\xff\xff\xff")
	for _, v := range src {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.Write(appendChunk(nil, "LIST", []byte("INFOjunk"))) // must not be read as audio
	a, err := Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if a.Frames() != 500 || a.Streamed || a.Truncated {
		t.Errorf("frames=%d streamed=%v truncated=%v", a.Frames(), a.Streamed, a.Truncated)
	}
}

func TestToMono48k(t *testing.T) {
	// Stereo 44.1 kHz with different channels: L = tone, R = -tone/2 → mono = tone/4.
	n := 44100
	pcm := make([]int16, 0, 2*n)
	for i := 0; i < n; i++ {
		v := 16000 * math.Sin(2*math.Pi*1000*float64(i)/44100)
		pcm = append(pcm, int16(v), int16(-v/2))
	}
	var b bytes.Buffer
	if err := EncodeFormat(&b, Format{Rate: 44100, Channels: 2, Bits: 24}, pcm); err != nil {
		t.Fatal(err)
	}
	a, err := Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	m, err := ToMono48k(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 48000 {
		t.Fatalf("len %d, want 48000", len(m))
	}
	var s float64
	for _, v := range m[4800 : 48000-4800] {
		s += float64(v) * float64(v)
	}
	rms := math.Sqrt(s / float64(48000-9600))
	if want := 4000 / math.Sqrt2; math.Abs(rms-want) > want*0.01 {
		t.Errorf("rms %.1f, want %.1f", rms, want)
	}
	// 48 kHz mono 16-bit passes through unchanged.
	src := source(960, 48000)
	b.Reset()
	Encode(&b, 48000, 1, src)
	a, _ = Decode(&b)
	m, _ = ToMono48k(a)
	if !slicesEqual(m, src) {
		t.Error("48 kHz mono 16-bit is not passed through exactly")
	}
}

func slicesEqual(a, b []int16) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestEncodeErrors(t *testing.T) {
	var b bytes.Buffer
	for _, f := range []Format{
		{Rate: 48000, Channels: 0, Bits: 16},
		{Rate: 0, Channels: 1, Bits: 16},
		{Rate: 48000, Channels: 1, Bits: 12},
		{Rate: 48000, Channels: 1, Bits: 16, Float: true},
		{Rate: 48000, Channels: 1, Bits: 16, Law: ALaw},
	} {
		if err := EncodeFormat(&b, f, nil); !errors.Is(err, ErrUnsupportedFormat) {
			t.Errorf("%+v: %v", f, err)
		}
	}
	if err := Encode(&b, 48000, 2, make([]int16, 3)); err == nil {
		t.Error("odd sample count for stereo accepted")
	}
}

func TestEncodeFrom(t *testing.T) {
	src := source(4800, 48000)
	var b bytes.Buffer
	if err := EncodeFrom(&b, Format{Rate: 8000, Channels: 2, Bits: 8}, src, 48000); err != nil {
		t.Fatal(err)
	}
	a, err := Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if a.Frames() != 800 || a.Channels != 2 || a.SampleRate != 8000 {
		t.Fatalf("%d frames %d ch %d Hz", a.Frames(), a.Channels, a.SampleRate)
	}
}

// tempFile is an *os.File in a test directory.
func tempFile(t *testing.T) *os.File {
	f, err := os.Create(filepath.Join(t.TempDir(), "rec.wav"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestWriterValidAfterEveryFlush(t *testing.T) {
	f := tempFile(t)
	w, err := NewWriter(f, 48000, 1)
	if err != nil {
		t.Fatal(err)
	}
	check := func(wantFrames int) {
		t.Helper()
		a, err := ReadFile(f.Name())
		if err != nil {
			t.Fatal(err)
		}
		if a.Frames() != wantFrames || a.Truncated || a.Streamed {
			t.Fatalf("frames=%d truncated=%v streamed=%v, want %d frames", a.Frames(), a.Truncated, a.Streamed, wantFrames)
		}
	}
	check(0) // valid, empty, right after NewWriter
	src := source(960*10, 48000)
	for i := 0; i < 10; i++ {
		if err := w.Write(src[i*960 : (i+1)*960]); err != nil {
			t.Fatal(err)
		}
		if i%3 == 2 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			check((i + 1) * 960)
		}
	}
	// Simulate an interrupted recording: the file as it stands (flushed 9
	// frames) is valid even though Close never ran.
	check(9 * 960)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	a, _ := ReadFile(f.Name())
	m, _ := ToMono48k(a)
	if !slicesEqual(m, src) {
		t.Error("samples differ after Close")
	}
	if err := w.Write(src[:2]); !errors.Is(err, ErrClosed) {
		t.Errorf("write after close: %v", err)
	}
	if got, want := w.Frames(), int64(len(src)); got != want {
		t.Errorf("Frames() = %d, want %d", got, want)
	}
}

func TestWriterConcurrentFlush(t *testing.T) {
	f := tempFile(t)
	w, err := NewWriter(f, 16000, 2)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				if err := w.Flush(); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}()
	frame := repeat(source(320, 16000), 2)
	for i := 0; i < 200; i++ {
		if err := w.Write(frame); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if a.Frames() != 200*320 || a.Channels != 2 {
		t.Errorf("frames %d ch %d", a.Frames(), a.Channels)
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("disk full")
	}
	f.n--
	return len(p), nil
}
func (f *failWriter) Seek(int64, int) (int64, error) { return 0, nil }

func TestWriterErrorsAreSticky(t *testing.T) {
	w, err := NewWriter(&failWriter{n: 1}, 48000, 1)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]int16, 960))
	if err := w.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("flush: %v", err)
	}
	if err := w.Write(make([]int16, 960)); err == nil {
		t.Error("write after failure succeeded")
	}
	if err := w.Write(make([]int16, 3)); err == nil {
		t.Error("partial frame accepted")
	}
}

// FuzzDecode is seeded with every fixture format plus damaged variants.
// Decode must never panic, and what it returns must be consistent.
func FuzzDecode(f *testing.F) {
	for _, fx := range fixtures() {
		var b bytes.Buffer
		EncodeFormat(&b, fx.f, repeat(source(37, fx.f.Rate), fx.f.Channels))
		f.Add(b.Bytes())
		f.Add(b.Bytes()[:len(b.Bytes())/2])
	}
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVE"))
	f.Fuzz(func(t *testing.T, in []byte) {
		a, err := DecodeLimit(bytes.NewReader(in), 1<<20)
		if err != nil {
			if a != nil {
				t.Fatal("audio with error")
			}
			return
		}
		if a.Channels < 1 || a.Channels != len(a.Samples) || a.SampleRate < MinRate {
			t.Fatalf("bad audio %+v", a.Format)
		}
		for _, c := range a.Samples {
			if len(c) != a.Frames() {
				t.Fatal("ragged channels")
			}
		}
		if a.Frames()*a.Channels > len(in) {
			t.Fatalf("%d samples from %d bytes", a.Frames()*a.Channels, len(in))
		}
		if a.Frames() > 0 && a.Frames() < 20000 {
			if _, err := ToMono48k(a); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	var buf bytes.Buffer
	Encode(&buf, 48000, 1, source(48000*10, 48000))
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Decode(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCreateFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out.wav")
	w, err := CreateFile(p, 48000, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(source(480, 48000)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if w.file.Close() == nil {
		t.Error("file still open after Close")
	}
	a, err := ReadFile(p)
	if err != nil || a.Frames() != 480 {
		t.Fatalf("%v, %v", err, a)
	}
	if _, err := CreateFile(filepath.Join(t.TempDir(), "bad.wav"), 0, 1); !errors.Is(err, ErrUnsupportedFormat) {
		t.Errorf("rate 0: %v", err)
	}
	if _, err := CreateFile(filepath.Join(t.TempDir(), "no", "such", "dir.wav"), 48000, 1); err == nil {
		t.Error("create in missing directory succeeded")
	}
}

// A stream writer needs no Seek (a pipe): its header says "read to the
// end", and a reader gets every sample.
func TestStreamWriter(t *testing.T) {
	var b bytes.Buffer
	w, err := NewStreamWriter(struct{ io.Writer }{&b}, 48000, 1)
	if err != nil {
		t.Fatal(err)
	}
	src := source(960*5, 48000)
	for i := 0; i < 5; i++ {
		if err := w.Write(src[i*960 : (i+1)*960]); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	a, err := Decode(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if !a.Streamed || a.Frames() != len(src) {
		t.Fatalf("streamed=%v frames=%d, want %d", a.Streamed, a.Frames(), len(src))
	}
	if m, _ := ToMono48k(a); !slicesEqual(m, src) {
		t.Error("samples differ")
	}
}

// CreateFile with a bad format leaves an existing file alone.
func TestCreateFileKeepsExisting(t *testing.T) {
	p := filepath.Join(t.TempDir(), "precious.wav")
	if err := os.WriteFile(p, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateFile(p, 0, 1); !errors.Is(err, ErrUnsupportedFormat) {
		t.Fatalf("rate 0: %v", err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "precious" {
		t.Errorf("existing file now %q, %v", b, err)
	}
}
