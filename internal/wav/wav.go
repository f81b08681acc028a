// Package wav reads and writes RIFF/WAVE audio files in pure Go.
//
// Reading ([Decode], [ReadFile]) accepts the WAV files people actually have:
// 8-bit unsigned, 16/24/32-bit integer, 32/64-bit float, A-law and µ-law PCM,
// WAVE_FORMAT_EXTENSIBLE headers, any number of channels (up to
// [MaxChannels]), sample rates from 1 kHz to 384 kHz, extra chunks (LIST,
// fact, JUNK, odd-sized chunks with their pad byte) before or after the
// data, streamed files whose data size is 0 or 0xFFFFFFFF (read to the end),
// RF64/BW64 files, and truncated files (the samples present are used and
// [Audio.Truncated] says so).
//
// A file whose header lies gets an error wrapping one of the sentinel errors
// ([ErrNotWAV], [ErrMalformed], [ErrUnsupportedFormat], [ErrNoData],
// [ErrTooLarge]); decoding never panics and never allocates more than a small
// multiple of the bytes actually present in the input.
//
// Decoded samples are planar float32: Audio.Samples[channel][frame], full
// scale ±1. [ToMono48k] turns any decoded file into the 48 kHz mono 16-bit
// PCM that Hark sends.
//
// Writing: [Encode] makes an in-memory 16-bit PCM WAV, [Writer] streams one
// to a file and keeps it valid after every Flush (an interrupted recording is
// still a playable file), and [EncodeFormat]/[EncodeFrom] write every format
// the reader accepts, for test fixtures.
package wav

import (
	"errors"
	"fmt"
	"time"
)

// Sentinel errors. Errors returned by this package wrap one of them (test
// with errors.Is) and carry a description of what was wrong.
var (
	// ErrNotWAV: the input does not start with a RIFF/WAVE header.
	ErrNotWAV = errors.New("not a WAV file")
	// ErrMalformed: the header contradicts itself or is cut short
	// (zero channels, block align mismatch, implausible fmt chunk, …).
	ErrMalformed = errors.New("malformed WAV file")
	// ErrUnsupportedFormat: a valid WAV in an encoding, bit depth, channel
	// count or sample rate this package does not handle.
	ErrUnsupportedFormat = errors.New("unsupported WAV format")
	// ErrNoData: the file has no data chunk (or no fmt chunk before it).
	ErrNoData = errors.New("WAV file has no audio data")
	// ErrTooLarge: the audio data exceeds the caller's limit.
	ErrTooLarge = errors.New("WAV audio data too large")
)

// Limits enforced by the decoder.
const (
	MinRate     = 1000
	MaxRate     = 384000
	MaxChannels = 64
	// DefaultMaxData is the largest data chunk [Decode] reads (256 MiB,
	// 46 minutes of 48 kHz 16-bit mono);
	// use [DecodeLimit] for another limit.
	DefaultMaxData = 256 << 20
	// maxFmtSize bounds the fmt chunk; real ones are 16, 18 or 40 bytes.
	maxFmtSize = 1024
)

// Companding names a logarithmic 8-bit encoding (G.711).
type Companding uint8

// Companding values.
const (
	Linear Companding = iota // plain PCM or float
	ALaw                     // G.711 A-law, 8 bits
	MuLaw                    // G.711 µ-law, 8 bits
)

// Format describes how audio is stored in a WAV file. The decoder fills it
// in from the file's header; [EncodeFormat] writes what it describes.
type Format struct {
	Rate     int // samples per second per channel
	Channels int
	// Bits is the container size of one sample: 8, 16, 24, 32 (integer or
	// float) or 64 (float).
	Bits int
	// ValidBits is the number of meaningful bits (WAVE_FORMAT_EXTENSIBLE);
	// 0 means Bits.
	ValidBits int
	Float     bool       // IEEE float samples (Bits 32 or 64)
	Law       Companding // A-law or µ-law (Bits 8)
	// Extensible: the header is WAVE_FORMAT_EXTENSIBLE.
	Extensible bool

	// Encoder options, ignored by the decoder.

	// ExtraChunks adds JUNK, fact, LIST (odd-sized, with its pad byte) and an
	// unknown odd-sized chunk around fmt and data, as many editors do.
	ExtraChunks bool
	// Streamed writes 0xFFFFFFFF as the RIFF and data sizes, like a
	// recorder that never went back to fix its header (no pad byte or
	// chunks after the data, which a reader would take for audio).
	Streamed bool
}

// String describes the format for people, e.g. "16-bit PCM, 2 channels, 44100 Hz".
func (f Format) String() string {
	enc := "PCM"
	switch {
	case f.Float:
		enc = "float"
	case f.Law == ALaw:
		enc = "A-law"
	case f.Law == MuLaw:
		enc = "µ-law"
	case f.Bits == 8:
		enc = "unsigned PCM"
	}
	ch := "mono"
	switch f.Channels {
	case 1:
	case 2:
		ch = "stereo"
	default:
		ch = fmt.Sprintf("%d channels", f.Channels)
	}
	s := fmt.Sprintf("%d-bit %s, %s, %d Hz", f.Bits, enc, ch, f.Rate)
	if f.ValidBits != 0 && f.ValidBits != f.Bits {
		s += fmt.Sprintf(" (%d valid bits)", f.ValidBits)
	}
	if f.Extensible {
		s += ", extensible header"
	}
	return s
}

// Audio is a decoded WAV file.
type Audio struct {
	SampleRate int
	Channels   int
	// Format is the storage format found in the file.
	Format Format
	// Samples holds one slice per channel (Samples[ch][frame]), all of the
	// same length, full scale ±1. Float files may exceed ±1; NaN and
	// infinities are replaced by 0.
	Samples [][]float32
	// Truncated reports that the file ended before the data size its header
	// announced, or in the middle of a sample frame; the complete frames
	// present are in Samples.
	Truncated bool
	// Streamed reports a data size of 0 or 0xFFFFFFFF (a recorder that never
	// patched its header): the data was read to the end of the input.
	Streamed bool
}

// Frames returns the number of samples per channel.
func (a *Audio) Frames() int {
	if len(a.Samples) == 0 {
		return 0
	}
	return len(a.Samples[0])
}

// Duration returns the length of the audio.
func (a *Audio) Duration() time.Duration {
	if a.SampleRate <= 0 {
		return 0
	}
	return time.Duration(int64(a.Frames()) * int64(time.Second) / int64(a.SampleRate))
}
