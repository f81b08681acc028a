package webm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"strings"
	"testing"
)

// demuxAll pushes data in pieces of step bytes and returns every packet.
func demuxAll(t testing.TB, d Demuxer, data []byte, step int) ([]Packet, error) {
	var out []Packet
	for i := 0; i < len(data); i += step {
		pkts, err := d.Push(data[i:min(i+step, len(data))])
		out = append(out, pkts...)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// TestMP4WebKit: WebKitGTK's MediaRecorder, audio/mp4;codecs=opus (its
// mock microphone's tone, 1.35 s): every packet ffprobe lists, with the
// container's timestamps, whole or in pieces of any size, nothing lost.
// WebKit writes the last fragment's header (moof) twice in a row, the
// first copy pointing into the second: ffprobe lists 86 packets, the last
// 18 twice (same timestamps); there are 68.
func TestMP4WebKit(t *testing.T) {
	data, err := os.ReadFile("testdata/webkit-opus.mp4")
	if err != nil {
		t.Fatal(err)
	}
	var first []Packet
	for _, step := range []int{len(data), 1, 7, 100, 4096} {
		d := New(Config{MaxElementSize: 64 << 10})
		pkts, err := demuxAll(t, d, data, step)
		if err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if in := d.Info(); in.Container != "mp4" || in.Codec != "opus" || in.Channels != 1 || !in.HeaderSeen {
			t.Errorf("info %+v", in)
		}
		if dr := d.(*auto).d.(*MP4).Dropped(); dr != 0 {
			t.Errorf("step %d: %d samples dropped", step, dr)
		}
		// ffprobe -show_packets: pts 1, 649, 1609, 2569 … 64009.
		if len(pkts) != 68 {
			t.Fatalf("step %d: %d packets, want 68", step, len(pkts))
		}
		for i, want := range []struct {
			ts   int64
			size int
		}{{1, 721}, {649, 511}, {1609, 525}, {2569, 647}} {
			if pkts[i].Timestamp != want.ts || len(pkts[i].Data) != want.size {
				t.Errorf("packet %d: ts %d, %d bytes; want %d, %d", i, pkts[i].Timestamp, len(pkts[i].Data), want.ts, want.size)
			}
		}
		if last := pkts[67]; last.Timestamp != 64009 || len(last.Data) != 454 {
			t.Errorf("last packet: ts %d, %d bytes", last.Timestamp, len(last.Data))
		}
		for i, p := range pkts {
			if p.Samples != 960 {
				t.Fatalf("packet %d: %d samples", i, p.Samples)
			}
		}
		if first == nil {
			first = pkts
		} else {
			for i := range pkts {
				if !bytes.Equal(pkts[i].Data, first[i].Data) || pkts[i].Timestamp != first[i].Timestamp {
					t.Fatalf("step %d: packet %d differs from the whole file's", step, i)
				}
			}
		}
	}
}

// TestMP4FFmpeg: ffmpeg's fragmented MP4 of source.wav decodes to the speech.
func TestMP4FFmpeg(t *testing.T) {
	data, err := os.ReadFile("testdata/ffmpeg-frag.mp4")
	if err != nil {
		t.Fatal(err)
	}
	pkts, err := demuxAll(t, New(Config{}), data, 333)
	if err != nil {
		t.Fatal(err)
	}
	if len(pkts) < 95 {
		t.Fatalf("%d packets for 2 s", len(pkts))
	}
	checkAudio(t, pkts, 0.9)
}

// TestMP4Refused: AAC, a plain (not fragmented) MP4 and audio before the
// index are refused with a sentence that says what to do.
func TestMP4Refused(t *testing.T) {
	for _, c := range []struct {
		file, want string
	}{
		{"testdata/webkit-aac.mp4", "does not decode AAC"},
		{"testdata/ffmpeg-plain.mp4", "a plain MP4 file"},
	} {
		data, err := os.ReadFile(c.file)
		if err != nil {
			t.Fatal(err)
		}
		_, err = demuxAll(t, New(Config{}), data, 1000)
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want ErrUnsupported saying %q", c.file, err, c.want)
		}
	}
	// mdat before moov.
	b := box("ftyp", []byte("isom\x00\x00\x02\x00isom"))
	b = append(b, box("mdat", make([]byte, 100))...)
	if _, err := New(Config{}).Push(b); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "before the index") {
		t.Errorf("mdat first: %v", err)
	}
}

// TestMP4Built: fragments made here (buildFMP4, the encoder the fuzz test
// is seeded from): packets come out untouched with their timestamps; a
// fragment whose data is cut short loses only its own missing samples,
// counted; a moof beyond the size limit is refused.
func TestMP4Built(t *testing.T) {
	pkts := [][]byte{{0x78, 1, 2, 3}, {0x78, 4, 5}, {0x78, 6}, {0x78, 7, 8, 9, 10}, {0x78, 11}}
	data := buildFMP4(pkts, 2, 0)
	got, err := demuxAll(t, New(Config{}), data, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(pkts) {
		t.Fatalf("%d packets, want %d", len(got), len(pkts))
	}
	for i, p := range got {
		if !bytes.Equal(p.Data, pkts[i]) || p.Timestamp != int64(i*960) || p.Samples != 960 {
			t.Errorf("packet %d: %x ts %d samples %d", i, p.Data, p.Timestamp, p.Samples)
		}
	}
	// The second fragment's mdat lacks its last sample's bytes.
	cut := buildFMP4(pkts, 2, 1)
	d := NewMP4(Config{})
	got, err = demuxAll(t, d, cut, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || d.Dropped() != 1 || !bytes.Equal(got[2].Data, pkts[2]) || !bytes.Equal(got[3].Data, pkts[4]) {
		t.Errorf("cut fragment: %d packets, %d dropped", len(got), d.Dropped())
	}
	if _, err := demuxAll(t, NewMP4(Config{MaxElementSize: 64}), data, 1000); !errors.Is(err, ErrTooLarge) {
		t.Errorf("moov over the limit: %v", err)
	}
}

func box(typ string, body ...[]byte) []byte {
	n := 8
	for _, b := range body {
		n += len(b)
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(n))
	out = append(out, typ...)
	for _, b := range body {
		out = append(out, b...)
	}
	return out
}

func u32(v ...uint32) []byte {
	var b []byte
	for _, x := range v {
		b = binary.BigEndian.AppendUint32(b, x)
	}
	return b
}

// buildFMP4 writes Opus packets (20 ms each) as a fragmented MP4 the way
// recorders do: ftyp, moov (empty sample table, mvex), then one moof+mdat
// per perFrag packets; the mdat of the second fragment is short by
// cutLast samples.
func buildFMP4(pkts [][]byte, perFrag, cutLast int) []byte {
	const track = 1
	dops := box("dOps", []byte{0, 1, 0x01, 0x38}, u32(48000), []byte{0, 0, 0})
	entry := box("Opus", make([]byte, 6), []byte{0, 1}, make([]byte, 8), []byte{0, 1, 0, 16, 0, 0, 0, 0}, u32(48000<<16), dops)
	stsd := box("stsd", u32(0, 1), entry)
	stbl := box("stbl", stsd, box("stts", u32(0, 0)), box("stsc", u32(0, 0)), box("stsz", u32(0, 0, 0)), box("stco", u32(0, 0)))
	mdia := box("mdia", box("mdhd", u32(0, 0, 0, 48000, 0, 0)), box("hdlr", u32(0, 0), []byte("soun"), u32(0, 0, 0), []byte("hark\x00")),
		box("minf", stbl))
	trak := box("trak", box("tkhd", u32(3, 0, 0, track, 0, 0)), mdia)
	moov := box("moov", box("mvhd", u32(0, 0, 0, 1000, 0)), trak, box("mvex", box("trex", u32(0, track, 1, 960, 0, 0))))
	out := append(box("ftyp", []byte("iso6"), u32(0), []byte("iso6mp41")), moov...)
	var ts uint32
	for f := 0; f*perFrag < len(pkts); f++ {
		frag := pkts[f*perFrag : min((f+1)*perFrag, len(pkts))]
		// trun: data offset, sizes (durations from trex).
		trunBody := u32(0x000201, uint32(len(frag)), 0)
		var data []byte
		for _, p := range frag {
			trunBody = append(trunBody, u32(uint32(len(p)))...)
			data = append(data, p...)
		}
		traf := box("traf", box("tfhd", u32(0x020000, track)), box("tfdt", u32(0, ts)), box("trun", trunBody))
		moof := box("moof", box("mfhd", u32(0, uint32(f+1))), traf)
		// The data offset is from the moof's start to the mdat's payload.
		off := bytes.Index(moof, []byte("trun")) + 4 + 8
		binary.BigEndian.PutUint32(moof[off:], uint32(len(moof)+8))
		if f == 1 && cutLast > 0 {
			n := 0
			for _, p := range frag[len(frag)-cutLast:] {
				n += len(p)
			}
			data = data[:len(data)-n]
		}
		out = append(out, moof...)
		out = append(out, box("mdat", data)...)
		ts += uint32(960 * len(frag))
	}
	return out
}

// FuzzMP4: no input makes the MP4 demuxer panic, exceed its size limit or
// return an error of no kind; and the packets do not depend on how the
// stream is cut into pushes.
func FuzzMP4(f *testing.F) {
	f.Add(buildFMP4([][]byte{{0x78, 1}, {0x78, 2, 3}, {0x78}}, 2, 0), uint16(3))
	f.Add(buildFMP4([][]byte{{0x78, 1}, {0x78, 2, 3}, {0x78, 4}, {0x78, 5}}, 2, 1), uint16(1))
	for _, name := range []string{"webkit-opus.mp4", "ffmpeg-frag.mp4", "webkit-aac.mp4", "ffmpeg-plain.mp4"} {
		b, _ := os.ReadFile("testdata/" + name)
		f.Add(b[:min(len(b), 4000)], uint16(100))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint16) {
		const limit = 4096
		whole, werr := demuxAll(t, NewMP4(Config{MaxElementSize: limit}), data, max(len(data), 1))
		step := int(cut%512) + 1
		parts, perr := demuxAll(t, NewMP4(Config{MaxElementSize: limit}), data, step)
		for _, err := range []error{werr, perr} {
			if err != nil && !errors.Is(err, ErrNotRecognized) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unclassified error: %v", err)
			}
		}
		for _, p := range append(whole, parts...) {
			if len(p.Data) > limit {
				t.Fatalf("packet of %d bytes beyond the limit", len(p.Data))
			}
		}
		if (werr == nil) != (perr == nil) {
			t.Fatalf("whole: %v; in pieces of %d: %v", werr, step, perr)
		}
		if werr == nil {
			if len(whole) != len(parts) {
				t.Fatalf("whole: %d packets; in pieces of %d: %d", len(whole), step, len(parts))
			}
			for i := range whole {
				if !bytes.Equal(whole[i].Data, parts[i].Data) || whole[i].Timestamp != parts[i].Timestamp {
					t.Fatalf("packet %d differs when pushed in pieces of %d", i, step)
				}
			}
		}
	})
}
