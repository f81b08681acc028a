package wav

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"github.com/hark-intercom/hark/internal/resample"
)

// Encode writes pcm (interleaved 16-bit samples, channels per frame) as a
// canonical 44-byte-header PCM WAV to w. len(pcm) must be a multiple of
// channels.
func Encode(w io.Writer, sampleRate, channels int, pcm []int16) error {
	return EncodeFormat(w, Format{Rate: sampleRate, Channels: channels, Bits: 16}, pcm)
}

// EncodeFrom writes a fixture in format f from a mono 16-bit source at
// monoRate: the source is resampled to f.Rate and copied to every channel.
func EncodeFrom(w io.Writer, f Format, mono []int16, monoRate int) error {
	src := mono
	if monoRate != f.Rate {
		var err error
		src, err = resample.Int16(mono, monoRate, f.Rate)
		if err != nil {
			return err
		}
	}
	if f.Channels < 1 {
		return fmt.Errorf("%w: %d channels", ErrUnsupportedFormat, f.Channels)
	}
	inter := make([]int16, 0, len(src)*f.Channels)
	for _, v := range src {
		for c := 0; c < f.Channels; c++ {
			inter = append(inter, v)
		}
	}
	return EncodeFormat(w, f, inter)
}

func validateEncode(f Format) (tag uint16, err error) {
	if f.Channels < 1 || f.Channels > MaxChannels {
		return 0, fmt.Errorf("%w: %d channels", ErrUnsupportedFormat, f.Channels)
	}
	if f.Rate < MinRate || f.Rate > MaxRate {
		return 0, fmt.Errorf("%w: sample rate %d Hz", ErrUnsupportedFormat, f.Rate)
	}
	switch {
	case f.Law != Linear:
		if f.Bits != 8 || f.Float {
			return 0, fmt.Errorf("%w: G.711 must be 8-bit integer", ErrUnsupportedFormat)
		}
		if f.Law == ALaw {
			return tagALaw, nil
		}
		return tagMuLaw, nil
	case f.Float:
		if f.Bits != 32 && f.Bits != 64 {
			return 0, fmt.Errorf("%w: %d-bit float", ErrUnsupportedFormat, f.Bits)
		}
		return tagFloat, nil
	default:
		if f.Bits != 8 && f.Bits != 16 && f.Bits != 24 && f.Bits != 32 {
			return 0, fmt.Errorf("%w: %d-bit PCM", ErrUnsupportedFormat, f.Bits)
		}
		return tagPCM, nil
	}
}

// fmtChunk returns the body of the fmt chunk for f.
func fmtChunk(f Format, tag uint16) []byte {
	le := binary.LittleEndian
	blockAlign := f.Channels * f.Bits / 8
	var b []byte
	hdrTag := tag
	if f.Extensible {
		hdrTag = tagExtensible
	}
	b = le.AppendUint16(b, hdrTag)
	b = le.AppendUint16(b, uint16(f.Channels))
	b = le.AppendUint32(b, uint32(f.Rate))
	b = le.AppendUint32(b, uint32(f.Rate*blockAlign))
	b = le.AppendUint16(b, uint16(blockAlign))
	b = le.AppendUint16(b, uint16(f.Bits))
	if f.Extensible {
		valid := f.ValidBits
		if valid == 0 {
			valid = f.Bits
		}
		b = le.AppendUint16(b, 22)
		b = le.AppendUint16(b, uint16(valid))
		var mask uint32
		if f.Channels <= 18 {
			mask = 1<<f.Channels - 1
		}
		b = le.AppendUint32(b, mask)
		b = le.AppendUint16(b, tag)
		b = append(b, guidSuffix...)
	} else if tag != tagPCM {
		b = le.AppendUint16(b, 0) // cbSize
	}
	return b
}

func appendChunk(b []byte, id string, body []byte) []byte {
	b = append(b, id...)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// EncodeFormat writes pcm (interleaved 16-bit samples, f.Channels per
// frame, at f.Rate) to w in format f: 8-bit unsigned, 16/24/32-bit integer,
// 32/64-bit float, A-law or µ-law, with an optional extensible header, extra
// chunks and streamed (0xFFFFFFFF) sizes. It is meant for test fixtures and
// for sending WAV blobs; samples are converted exactly where the format
// allows (8-bit and G.711 are lossy).
func EncodeFormat(w io.Writer, f Format, pcm []int16) error {
	tag, err := validateEncode(f)
	if err != nil {
		return err
	}
	if len(pcm)%f.Channels != 0 {
		return fmt.Errorf("wav: %d samples is not a whole number of %d-channel frames", len(pcm), f.Channels)
	}
	bps := f.Bits / 8
	dataLen := int64(len(pcm)) * int64(bps)
	if dataLen > math.MaxUint32-1024 {
		return fmt.Errorf("%w: %d bytes do not fit in a WAV file", ErrTooLarge, dataLen)
	}
	le := binary.LittleEndian

	var pre []byte // chunks between "WAVE" and the data chunk header
	if f.ExtraChunks {
		pre = appendChunk(pre, "JUNK", make([]byte, 28))
	}
	pre = appendChunk(pre, "fmt ", fmtChunk(f, tag))
	if f.ExtraChunks {
		pre = appendChunk(pre, "fact", le.AppendUint32(nil, uint32(len(pcm)/f.Channels)))
		pre = appendChunk(pre, "LIST", append([]byte("INFO"), appendChunk(nil, "ISFT", []byte("hark test\x00"))...))
		pre = appendChunk(pre, "odd ", []byte{1, 2, 3}) // odd size: pad byte follows
	}
	var post []byte                   // chunks after the data
	if f.ExtraChunks && !f.Streamed { // a streamed file's data runs to the end
		post = appendChunk(post, "LIST", append([]byte("INFO"), appendChunk(nil, "ICMT", []byte("trailer"))...))
	}
	pad := dataLen & 1
	if f.Streamed {
		pad = 0
	}
	riffSize := uint32(4 + int64(len(pre)) + 8 + dataLen + pad + int64(len(post)))
	dataSize := uint32(dataLen)
	if f.Streamed {
		riffSize, dataSize = 0xFFFFFFFF, 0xFFFFFFFF
	}
	bw := bufio.NewWriterSize(w, 32<<10)
	var hdr []byte
	hdr = append(hdr, "RIFF"...)
	hdr = le.AppendUint32(hdr, riffSize)
	hdr = append(hdr, "WAVE"...)
	hdr = append(hdr, pre...)
	hdr = append(hdr, "data"...)
	hdr = le.AppendUint32(hdr, dataSize)
	bw.Write(hdr)
	var buf [8]byte
	for _, v := range pcm {
		b := buf[:bps]
		switch {
		case f.Law == ALaw:
			b[0] = alawEncode(v)
		case f.Law == MuLaw:
			b[0] = mulawEncode(v)
		case f.Float && bps == 4:
			le.PutUint32(b, math.Float32bits(float32(v)/32768))
		case f.Float:
			le.PutUint64(b, math.Float64bits(float64(v)/32768))
		case bps == 1:
			b[0] = byte((int(v) + 32768 + 128) >> 8) // rounded
			if v >= 32767-127 {
				b[0] = 255
			}
		case bps == 2:
			le.PutUint16(b, uint16(v))
		case bps == 3:
			x := uint32(int32(v) << 8)
			b[0], b[1], b[2] = byte(x), byte(x>>8), byte(x>>16)
		default:
			le.PutUint32(b, uint32(int32(v)<<16))
		}
		bw.Write(b)
	}
	if pad == 1 {
		bw.WriteByte(0)
	}
	bw.Write(post)
	return bw.Flush()
}
