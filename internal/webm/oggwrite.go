package webm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
)

// OggOpusHeader describes the stream WriteOggOpus writes.
type OggOpusHeader struct {
	// PreSkip is the number of 48 kHz samples a player drops at the start
	// (RFC 7845 §4.2); 0 keeps everything.
	PreSkip int
	// Vendor names the program that wrote the file; Comments are
	// "KEY=value" user comments (RFC 7845 §5.2), e.g. "ARTIST=bob".
	Vendor   string
	Comments []string
}

// maxPageSegments and maxPagePackets bound one Ogg page: a page has at most
// 255 lacing values, and players seek by page, so pages stay short (about
// a second of 20 ms packets).
const (
	maxPageSegments = 255
	maxPagePackets  = 50
)

// WriteOggOpus writes mono Opus packets, which must follow each other
// without gaps (each starts where the one before ended), as an Ogg Opus
// file (RFC 7845) to w, without re-encoding: the identification and comment
// headers, then the audio in pages of up to 50 packets whose granule
// positions count the samples (read from each packet's TOC byte, plus the
// pre-skip) up to the end of their last packet; the last page is marked end
// of stream. A packet
// whose duration cannot be read from its TOC byte is an error.
func WriteOggOpus(w io.Writer, h OggOpusHeader, packets [][]byte) error {
	if h.PreSkip < 0 || h.PreSkip > 0xFFFF {
		return fmt.Errorf("ogg: pre-skip %d out of range", h.PreSkip)
	}
	ow := &oggWriter{w: w, serial: rand.Uint32()}
	head := make([]byte, 19)
	copy(head, "OpusHead")
	head[8] = 1 // version
	head[9] = 1 // channels
	binary.LittleEndian.PutUint16(head[10:], uint16(h.PreSkip))
	binary.LittleEndian.PutUint32(head[12:], 48000) // input rate (informational)
	if err := ow.page([][]byte{head}, 0, 0x02); err != nil {
		return err
	}
	tags := []byte("OpusTags")
	tags = binary.LittleEndian.AppendUint32(tags, uint32(len(h.Vendor)))
	tags = append(tags, h.Vendor...)
	tags = binary.LittleEndian.AppendUint32(tags, uint32(len(h.Comments)))
	for _, c := range h.Comments {
		tags = binary.LittleEndian.AppendUint32(tags, uint32(len(c)))
		tags = append(tags, c...)
	}
	if len(tags) > maxPageSegments*255-1 {
		return errors.New("ogg: the comments are too long for one page")
	}
	if err := ow.page([][]byte{tags}, 0, 0); err != nil {
		return err
	}
	var granule uint64
	var page [][]byte
	segs := 0
	for i, p := range packets {
		n := OpusSamples(p)
		if n == 0 {
			return fmt.Errorf("ogg: packet %d is not a valid Opus packet", i)
		}
		need := len(p)/255 + 1
		if need > maxPageSegments {
			return fmt.Errorf("ogg: packet %d of %d bytes is too large", i, len(p))
		}
		if len(page) > 0 && (segs+need > maxPageSegments || len(page) == maxPagePackets) {
			if err := ow.page(page, granule+uint64(h.PreSkip), 0); err != nil {
				return err
			}
			page, segs = page[:0], 0
		}
		page = append(page, p)
		segs += need
		granule += uint64(n)
	}
	return ow.page(page, granule+uint64(h.PreSkip), 0x04)
}

// oggWriter writes the pages of one logical stream.
type oggWriter struct {
	w      io.Writer
	serial uint32
	seq    uint32
}

// page writes packets (each complete) as one page.
func (o *oggWriter) page(packets [][]byte, granule uint64, flags byte) error {
	var lacing []byte
	size := 0
	for _, p := range packets {
		for n := len(p); ; n -= 255 {
			if n < 255 {
				lacing = append(lacing, byte(n))
				break
			}
			lacing = append(lacing, 255)
		}
		size += len(p)
	}
	b := make([]byte, 0, oggHeaderLen+len(lacing)+size)
	b = append(b, "OggS"...)
	b = append(b, 0, flags)
	b = binary.LittleEndian.AppendUint64(b, granule)
	b = binary.LittleEndian.AppendUint32(b, o.serial)
	b = binary.LittleEndian.AppendUint32(b, o.seq)
	b = append(b, 0, 0, 0, 0) // checksum, below
	b = append(b, byte(len(lacing)))
	b = append(b, lacing...)
	for _, p := range packets {
		b = append(b, p...)
	}
	binary.LittleEndian.PutUint32(b[22:], oggCRC(b))
	o.seq++
	_, err := o.w.Write(b)
	return err
}
