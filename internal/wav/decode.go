package wav

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
)

const (
	tagPCM        = 0x0001
	tagFloat      = 0x0003
	tagALaw       = 0x0006
	tagMuLaw      = 0x0007
	tagExtensible = 0xFFFE
)

// guidSuffix is the common tail of the KSDATAFORMAT_SUBTYPE_* GUIDs; the
// first two bytes of the GUID hold the format tag.
var guidSuffix = []byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// ReadFile decodes the WAV file at path (see [Decode]).
func ReadFile(path string) (*Audio, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	a, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// Decode reads a whole WAV file from r, up to [DefaultMaxData] bytes of
// audio data. See the package documentation for what is accepted.
func Decode(r io.Reader) (*Audio, error) {
	return DecodeLimit(r, DefaultMaxData)
}

// DecodeLimit is [Decode] with a limit on the size of the audio data in
// bytes; larger data gives an error wrapping [ErrTooLarge]. Memory use is
// bounded by the bytes actually read, whatever the header claims.
func DecodeLimit(r io.Reader, maxData int64) (*Audio, error) {
	br := bufio.NewReaderSize(r, 4096)
	var hdr [12]byte
	if n, err := io.ReadFull(br, hdr[:]); err != nil {
		return nil, fmt.Errorf("%w: only %d bytes, a WAV header needs 12", ErrNotWAV, n)
	}
	riff := string(hdr[0:4])
	rf64 := riff == "RF64" || riff == "BW64"
	if (riff != "RIFF" && !rf64) || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("%w: starts with %q, want \"RIFF....WAVE\"", ErrNotWAV, hdr[:])
	}

	var (
		f       Format
		haveFmt bool
		ds64    int64 = -1 // data size from an RF64 ds64 chunk
	)
	for {
		var ch [8]byte
		if _, err := io.ReadFull(br, ch[:]); err != nil {
			if !haveFmt {
				return nil, fmt.Errorf("%w: no fmt and data chunks", ErrNoData)
			}
			return nil, fmt.Errorf("%w: file ends without a data chunk", ErrNoData)
		}
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		switch id {
		case "fmt ":
			if size < 16 || size > maxFmtSize {
				return nil, fmt.Errorf("%w: fmt chunk of %d bytes (expected 16 to %d)", ErrMalformed, size, maxFmtSize)
			}
			buf := make([]byte, size+size&1)
			n, err := io.ReadFull(br, buf)
			if err != nil && !(err == io.ErrUnexpectedEOF && int64(n) >= size) {
				return nil, fmt.Errorf("%w: file ends inside the fmt chunk", ErrMalformed)
			}
			var perr error
			f, perr = parseFmt(buf[:size])
			if perr != nil {
				return nil, perr
			}
			haveFmt = true
		case "ds64":
			if !rf64 || size < 24 || size > maxFmtSize {
				if err := skip(br, size); err != nil {
					return nil, fmt.Errorf("%w: file ends inside a %q chunk", ErrNoData, id)
				}
				continue
			}
			buf := make([]byte, size+size&1)
			if _, err := io.ReadFull(br, buf[:size]); err != nil {
				return nil, fmt.Errorf("%w: file ends inside the ds64 chunk", ErrMalformed)
			}
			if size&1 == 1 {
				br.ReadByte()
			}
			v := binary.LittleEndian.Uint64(buf[8:16])
			if v <= math.MaxInt64 {
				ds64 = int64(v)
			}
		case "data":
			if !haveFmt {
				return nil, fmt.Errorf("%w: data chunk comes before any fmt chunk", ErrNoData)
			}
			return readData(br, f, size, ds64, maxData)
		default:
			if err := skip(br, size); err != nil {
				if !haveFmt {
					return nil, fmt.Errorf("%w: file ends inside a %q chunk before fmt", ErrNoData, id)
				}
				return nil, fmt.Errorf("%w: file ends inside a %q chunk before data", ErrNoData, id)
			}
		}
	}
}

// skip discards a chunk body and its pad byte; the pad byte may be missing
// at the end of the file.
func skip(br *bufio.Reader, size int64) error {
	n, err := io.CopyN(io.Discard, br, size)
	if n < size {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return err
	}
	if size&1 == 1 {
		br.ReadByte()
	}
	return nil
}

func parseFmt(b []byte) (Format, error) {
	le := binary.LittleEndian
	tag := le.Uint16(b[0:2])
	f := Format{
		Channels: int(le.Uint16(b[2:4])),
		Rate:     int(le.Uint32(b[4:8])),
		Bits:     int(le.Uint16(b[14:16])),
	}
	blockAlign := int(le.Uint16(b[12:14]))
	if tag == tagExtensible {
		f.Extensible = true
		if len(b) < 40 || le.Uint16(b[16:18]) < 22 {
			return f, fmt.Errorf("%w: WAVE_FORMAT_EXTENSIBLE header of %d bytes is too short (needs 40)", ErrMalformed, len(b))
		}
		f.ValidBits = int(le.Uint16(b[18:20]))
		guid := b[24:40]
		if !bytes.Equal(guid[2:], guidSuffix) {
			return f, fmt.Errorf("%w: unknown extensible sub-format % x", ErrUnsupportedFormat, guid)
		}
		tag = le.Uint16(guid[0:2])
		if f.ValidBits == f.Bits {
			f.ValidBits = 0
		}
	}
	switch {
	case f.Channels == 0:
		return f, fmt.Errorf("%w: header says 0 channels", ErrMalformed)
	case f.Channels > MaxChannels:
		return f, fmt.Errorf("%w: %d channels (at most %d supported)", ErrUnsupportedFormat, f.Channels, MaxChannels)
	case f.Rate == 0:
		return f, fmt.Errorf("%w: header says a sample rate of 0 Hz", ErrMalformed)
	case f.Rate < MinRate || f.Rate > MaxRate:
		return f, fmt.Errorf("%w: sample rate %d Hz (supported: %d to %d Hz)", ErrUnsupportedFormat, f.Rate, MinRate, MaxRate)
	}
	switch tag {
	case tagPCM:
		if f.Bits < 1 || f.Bits > 32 {
			return f, fmt.Errorf("%w: %d-bit integer PCM (supported: 8, 16, 24, 32)", ErrUnsupportedFormat, f.Bits)
		}
		// Odd depths (12, 20 bits) are stored in whole bytes, left-justified.
		if f.Bits%8 != 0 {
			f.ValidBits = f.Bits
			f.Bits = (f.Bits + 7) / 8 * 8
		}
	case tagFloat:
		f.Float = true
		if f.Bits != 32 && f.Bits != 64 {
			return f, fmt.Errorf("%w: %d-bit float (supported: 32, 64)", ErrUnsupportedFormat, f.Bits)
		}
	case tagALaw, tagMuLaw:
		f.Law = ALaw
		if tag == tagMuLaw {
			f.Law = MuLaw
		}
		if f.Bits != 8 {
			return f, fmt.Errorf("%w: %d-bit G.711 (must be 8)", ErrMalformed, f.Bits)
		}
	default:
		return f, fmt.Errorf("%w: format tag 0x%04x (%s); supported: PCM, float, A-law, µ-law", ErrUnsupportedFormat, tag, tagName(tag))
	}
	if want := f.Channels * f.Bits / 8; blockAlign != want {
		return f, fmt.Errorf("%w: block align %d does not match %d channels × %d bytes", ErrMalformed, blockAlign, f.Channels, f.Bits/8)
	}
	return f, nil
}

func tagName(tag uint16) string {
	switch tag {
	case 0x0002:
		return "Microsoft ADPCM"
	case 0x0011:
		return "IMA ADPCM"
	case 0x0031:
		return "GSM 6.10"
	case 0x0050:
		return "MPEG"
	case 0x0055:
		return "MP3"
	case 0x00FF, 0x1610:
		return "AAC"
	case 0x6750, 0x674f:
		return "Vorbis"
	case 0x704F:
		return "Opus"
	}
	return "unknown"
}

func readData(br *bufio.Reader, f Format, size, ds64, maxData int64) (*Audio, error) {
	a := &Audio{SampleRate: f.Rate, Channels: f.Channels, Format: f}
	want := size
	if size == 0xFFFFFFFF && ds64 >= 0 {
		want = ds64
	}
	if size == 0 || (size == 0xFFFFFFFF && ds64 < 0) {
		a.Streamed = true
		want = -1
	}
	var raw []byte
	var err error
	if want < 0 {
		raw, err = io.ReadAll(io.LimitReader(br, maxData+1))
		if int64(len(raw)) > maxData {
			return nil, fmt.Errorf("%w: more than %d bytes of audio data", ErrTooLarge, maxData)
		}
	} else {
		if want > maxData {
			// The header may lie; only fail if the data really is there.
			raw, err = io.ReadAll(io.LimitReader(br, maxData+1))
			if int64(len(raw)) > maxData {
				return nil, fmt.Errorf("%w: %d bytes of audio data (limit %d)", ErrTooLarge, want, maxData)
			}
		} else {
			raw, err = io.ReadAll(io.LimitReader(br, want))
		}
		if int64(len(raw)) < want {
			a.Truncated = true
		}
	}
	if err != nil {
		return nil, fmt.Errorf("reading WAV data: %w", err)
	}
	if a.Streamed && len(raw) == 0 {
		a.Streamed = false // an empty file with size 0 is just empty
	}
	frameBytes := f.Channels * f.Bits / 8
	frames := len(raw) / frameBytes
	if len(raw)%frameBytes != 0 {
		a.Truncated = true
	}
	a.Samples = convert(raw[:frames*frameBytes], f, frames)
	return a, nil
}

// convert turns interleaved raw samples into planar float32.
func convert(raw []byte, f Format, frames int) [][]float32 {
	nch := f.Channels
	all := make([]float32, frames*nch)
	out := make([][]float32, nch)
	for c := range out {
		out[c] = all[c*frames : (c+1)*frames : (c+1)*frames]
	}
	bps := f.Bits / 8
	// decode one sample from b (len bps); chosen once per file.
	var dec func(b []byte) float32
	le := binary.LittleEndian
	switch {
	case f.Law == ALaw:
		dec = func(b []byte) float32 { return float32(alawTable[b[0]]) / 32768 }
	case f.Law == MuLaw:
		dec = func(b []byte) float32 { return float32(mulawTable[b[0]]) / 32768 }
	case f.Float && bps == 4:
		dec = func(b []byte) float32 {
			v := math.Float32frombits(le.Uint32(b))
			if v != v || math.IsInf(float64(v), 0) {
				return 0
			}
			return v
		}
	case f.Float:
		dec = func(b []byte) float32 {
			d := math.Float64frombits(le.Uint64(b))
			if math.IsNaN(d) || math.IsInf(d, 0) {
				return 0
			}
			return float32(d)
		}
	case bps == 1:
		dec = func(b []byte) float32 { return float32(int(b[0])-128) / 128 }
	case bps == 2:
		// The common case gets a tight loop below.
	case bps == 3:
		dec = func(b []byte) float32 {
			x := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
			return float32(x) / (1 << 23)
		}
	default:
		dec = func(b []byte) float32 { return float32(float64(int32(le.Uint32(b))) / (1 << 31)) }
	}
	if dec == nil {
		for c := 0; c < nch; c++ {
			ch := out[c]
			for n, i := 0, 2*c; n < frames; n, i = n+1, i+2*nch {
				ch[n] = float32(int16(uint16(raw[i])|uint16(raw[i+1])<<8)) / 32768
			}
		}
		return out
	}
	for c := 0; c < nch; c++ {
		ch := out[c]
		stride := bps * nch
		for n, i := 0, bps*c; n < frames; n, i = n+1, i+stride {
			ch[n] = dec(raw[i : i+bps])
		}
	}
	return out
}
