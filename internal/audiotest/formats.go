package audiotest

import "github.com/hark-intercom/hark/internal/wav"

// NamedFormat is a WAV format with a name for subtests.
type NamedFormat struct {
	Name string
	F    wav.Format
}

// WAVFormats are the WAV formats `talk send` must take: every sample kind
// (8-bit unsigned, 16/24/32-bit integer, 32-bit float), mono and stereo,
// 8 to 48 kHz, and files with extra chunks. The end-to-end test sends each
// through real processes; voicefile's offline test the same way on a fake
// clock.
var WAVFormats = []NamedFormat{
	{"u8-mono-8k", wav.Format{Rate: 8000, Channels: 1, Bits: 8}},
	{"u8-stereo-22k", wav.Format{Rate: 22050, Channels: 2, Bits: 8}},
	{"s16-mono-16k", wav.Format{Rate: 16000, Channels: 1, Bits: 16}},
	{"s16-stereo-44k", wav.Format{Rate: 44100, Channels: 2, Bits: 16}},
	{"s16-mono-48k-LIST", wav.Format{Rate: 48000, Channels: 1, Bits: 16, ExtraChunks: true}},
	{"s24-mono-48k", wav.Format{Rate: 48000, Channels: 1, Bits: 24}},
	{"s24-stereo-32k", wav.Format{Rate: 32000, Channels: 2, Bits: 24}},
	{"s32-mono-11k", wav.Format{Rate: 11025, Channels: 1, Bits: 32}},
	{"s32-stereo-24k-LIST", wav.Format{Rate: 24000, Channels: 2, Bits: 32, ExtraChunks: true}},
	{"f32-mono-12k", wav.Format{Rate: 12000, Channels: 1, Bits: 32, Float: true}},
	{"f32-stereo-48k", wav.Format{Rate: 48000, Channels: 2, Bits: 32, Float: true}},
}
