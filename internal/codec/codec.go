// Package codec wraps libopus (through github.com/hraban/opus) with the
// settings Hark uses for voice: 48 kHz, mono, VOIP application, in-band FEC.
//
// It hides two quirks of the binding: the binding sizes its output by
// cap(pcm) rather than len(pcm) (this package always re-slices to
// pcm[:n:n]), and Decode(nil) is an error (use DecodePLC).
//
// Encoders and decoders are not safe for concurrent use; use one per
// goroutine (one decoder per talker).
package codec

import (
	"errors"
	"fmt"

	"github.com/hraban/opus"
)

// Audio format used everywhere in Hark.
const (
	SampleRate = 48000 // samples per second
	Channels   = 1

	// MaxPacketSamples is the longest Opus packet, 120 ms at 48 kHz.
	MaxPacketSamples = 5760
	// MaxPacketBytes is the largest Opus packet libopus produces for one frame
	// (RFC 6716 §3.2.1 limits a frame to 1275 bytes).
	MaxPacketBytes = 1275
	// DefaultBitrate is the encoder bitrate when EncoderConfig.Bitrate is 0.
	DefaultBitrate = 24000
	// DefaultLossPerc is the expected loss the encoder protects against with
	// in-band FEC when EncoderConfig.LossPerc is 0.
	DefaultLossPerc = 10
)

// FrameDecoder is what playout needs from a decoder. *Decoder implements it;
// tests use fakes. All methods write at most len(pcm) samples and return how
// many they wrote.
type FrameDecoder interface {
	// Decode decodes one Opus packet into pcm.
	Decode(pkt []byte, pcm []int16) (int, error)
	// DecodePLC conceals len(pcm) samples of lost audio.
	DecodePLC(pcm []int16) (int, error)
	// DecodeFEC recovers the len(pcm) samples that precede pkt from pkt's
	// in-band FEC data (falls back to PLC when pkt carries none).
	DecodeFEC(pkt []byte, pcm []int16) (int, error)
}

// FrameEncoder is what a sender needs from an encoder. *Encoder implements it.
type FrameEncoder interface {
	Encode(pcm []int16, out []byte) ([]byte, error)
	FrameSamples() int
}

// EncoderConfig configures NewEncoder. The zero value is not valid:
// FrameSamples must be set.
type EncoderConfig struct {
	// FrameSamples is the frame length in samples at 48 kHz: 120, 240, 480
	// (10 ms), 960 (20 ms), 1920 (40 ms) or 2880 (60 ms).
	FrameSamples int
	// Bitrate in bits per second; 0 means DefaultBitrate.
	Bitrate int
	// FEC turns on Opus in-band forward error correction.
	FEC bool
	// LossPerc is the packet loss (percent, 0–100) the encoder plans for; it
	// controls how much FEC is sent. 0 means DefaultLossPerc.
	LossPerc int
}

// Encoder encodes 48 kHz mono PCM frames into Opus packets.
// Not safe for concurrent use.
type Encoder struct {
	enc   *opus.Encoder
	frame int
}

var _ FrameEncoder = (*Encoder)(nil)

// ValidFrameSamples reports whether n is a frame length Opus can encode.
func ValidFrameSamples(n int) bool {
	switch n {
	case 120, 240, 480, 960, 1920, 2880:
		return true
	}
	return false
}

// NewEncoder makes a VOIP-mode encoder for 48 kHz mono.
func NewEncoder(cfg EncoderConfig) (*Encoder, error) {
	if !ValidFrameSamples(cfg.FrameSamples) {
		return nil, fmt.Errorf("codec: frame length of %d samples is not supported by Opus (use 480 for 10 ms or 960 for 20 ms)", cfg.FrameSamples)
	}
	if cfg.Bitrate == 0 {
		cfg.Bitrate = DefaultBitrate
	}
	if cfg.Bitrate < 6000 || cfg.Bitrate > 510000 {
		return nil, fmt.Errorf("codec: bitrate %d bit/s is outside Opus's range of 6000 to 510000", cfg.Bitrate)
	}
	if cfg.LossPerc == 0 {
		cfg.LossPerc = DefaultLossPerc
	}
	if cfg.LossPerc < 0 || cfg.LossPerc > 100 {
		return nil, fmt.Errorf("codec: expected packet loss %d%% must be between 0 and 100", cfg.LossPerc)
	}
	enc, err := opus.NewEncoder(SampleRate, Channels, opus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("codec: creating Opus encoder: %w", err)
	}
	if err := enc.SetBitrate(cfg.Bitrate); err != nil {
		return nil, fmt.Errorf("codec: setting bitrate: %w", err)
	}
	if err := enc.SetInBandFEC(cfg.FEC); err != nil {
		return nil, fmt.Errorf("codec: setting in-band FEC: %w", err)
	}
	if err := enc.SetPacketLossPerc(cfg.LossPerc); err != nil {
		return nil, fmt.Errorf("codec: setting expected packet loss: %w", err)
	}
	return &Encoder{enc: enc, frame: cfg.FrameSamples}, nil
}

// FrameSamples returns the frame length the encoder was configured with.
func (e *Encoder) FrameSamples() int { return e.frame }

// Encode encodes exactly FrameSamples samples of pcm and appends the Opus
// packet to out, returning the extended slice (like append: the result may
// share out's storage, and out is grown when it has fewer than
// MaxPacketBytes spare bytes). pcm is only read.
func (e *Encoder) Encode(pcm []int16, out []byte) ([]byte, error) {
	if len(pcm) != e.frame {
		return out, fmt.Errorf("codec: encode needs exactly %d samples, got %d", e.frame, len(pcm))
	}
	l := len(out)
	if cap(out)-l < MaxPacketBytes {
		grown := make([]byte, l, l+MaxPacketBytes)
		copy(grown, out)
		out = grown
	}
	n, err := e.enc.Encode(pcm, out[l:l+MaxPacketBytes])
	if err != nil {
		return out[:l], fmt.Errorf("codec: encode: %w", err)
	}
	return out[:l+n], nil
}

// Decoder decodes Opus packets into 48 kHz mono PCM. Not safe for concurrent
// use.
type Decoder struct {
	dec *opus.Decoder
}

var _ FrameDecoder = (*Decoder)(nil)

// NewDecoder makes a 48 kHz mono decoder.
func NewDecoder() (*Decoder, error) {
	dec, err := opus.NewDecoder(SampleRate, Channels)
	if err != nil {
		return nil, fmt.Errorf("codec: creating Opus decoder: %w", err)
	}
	return &Decoder{dec: dec}, nil
}

// ErrEmptyPacket is returned by Decode and DecodeFEC for a zero-length packet.
var ErrEmptyPacket = errors.New("codec: empty Opus packet (use DecodePLC for a lost packet)")

// Decode decodes pkt into pcm and returns the number of samples written.
// pcm must be at least as long as the packet's duration (see PacketSamples);
// only len(pcm) matters, not cap(pcm).
func (d *Decoder) Decode(pkt []byte, pcm []int16) (int, error) {
	if len(pkt) == 0 {
		return 0, ErrEmptyPacket
	}
	if len(pcm) == 0 {
		return 0, errors.New("codec: decode into an empty buffer")
	}
	n, err := d.dec.Decode(pkt, pcm[:len(pcm):len(pcm)])
	if err != nil {
		return 0, fmt.Errorf("codec: decode: %w", err)
	}
	return n, nil
}

// DecodePLC conceals exactly len(pcm) samples of lost audio (Opus packet loss
// concealment). len(pcm) must be a multiple of 120 (2.5 ms) and at most
// MaxPacketSamples.
func (d *Decoder) DecodePLC(pcm []int16) (int, error) {
	if err := checkConcealLen(len(pcm)); err != nil {
		return 0, err
	}
	if err := d.dec.DecodePLC(pcm[:len(pcm):len(pcm)]); err != nil {
		return 0, fmt.Errorf("codec: concealment: %w", err)
	}
	return len(pcm), nil
}

// DecodeFEC recovers the len(pcm) samples of lost audio that immediately
// precede pkt, using pkt's in-band FEC data. When pkt carries no FEC data
// libopus conceals instead. pkt itself must still be decoded afterwards with
// Decode. len(pcm) must be a multiple of 120 and at most MaxPacketSamples.
func (d *Decoder) DecodeFEC(pkt []byte, pcm []int16) (int, error) {
	if len(pkt) == 0 {
		return 0, ErrEmptyPacket
	}
	if err := checkConcealLen(len(pcm)); err != nil {
		return 0, err
	}
	if err := d.dec.DecodeFEC(pkt, pcm[:len(pcm):len(pcm)]); err != nil {
		return 0, fmt.Errorf("codec: FEC decode: %w", err)
	}
	return len(pcm), nil
}

func checkConcealLen(n int) error {
	if n <= 0 || n > MaxPacketSamples || n%120 != 0 {
		return fmt.Errorf("codec: cannot conceal %d samples: need a multiple of 120 (2.5 ms) up to %d", n, MaxPacketSamples)
	}
	return nil
}
