package webm

import (
	"bytes"
	"fmt"
)

// New returns a demuxer that recognises the container from its first bytes:
// WebM/Matroska, Ogg or fragmented MP4 with Opus (Safari's, see MP4);
// anything else fails with ErrNotRecognized.
func New(cfg Config) Demuxer { return &auto{cfg: cfg} }

type auto struct {
	cfg  Config
	head []byte // bytes seen before the container was known
	d    Demuxer
	err  error
}

var (
	magicEBML = []byte{0x1A, 0x45, 0xDF, 0xA3}
	magicOgg  = []byte("OggS")
)

func (a *auto) Info() Info {
	if a.d == nil {
		return Info{}
	}
	return a.d.Info()
}

// Dropped is the count of samples a fragmented MP4 announced but did not
// hold (0 for the other containers, which announce nothing).
func (a *auto) Dropped() int {
	if m, ok := a.d.(*MP4); ok {
		return m.Dropped()
	}
	return 0
}

func (a *auto) Push(p []byte) ([]Packet, error) {
	if a.d != nil {
		return a.d.Push(p)
	}
	if a.err != nil {
		return nil, a.err
	}
	a.head = append(a.head, p...)
	h := a.head
	if len(h) == 0 {
		return nil, nil
	}
	switch {
	case len(h) >= 4 && bytes.Equal(h[:4], magicEBML):
		a.d = NewWebM(a.cfg)
	case len(h) >= 4 && bytes.Equal(h[:4], magicOgg):
		a.d = NewOgg(a.cfg)
	case len(h) >= 8 && string(h[4:8]) == "ftyp":
		a.d = NewMP4(a.cfg)
	case bytes.HasPrefix(magicEBML, h) || bytes.HasPrefix(magicOgg, h):
		// wait for more bytes
	case len(h) < 8 && h[0] == 0:
		// may be an MP4 box size; wait
	default:
		a.err = fmt.Errorf("%w (first bytes % x)", ErrNotRecognized, h[:min(len(h), 8)])
	}
	if a.err != nil {
		a.head = nil
		return nil, a.err
	}
	if a.d == nil {
		return nil, nil
	}
	h, a.head = a.head, nil
	return a.d.Push(h)
}
