package webm

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Ogg is an incremental Ogg/Opus demuxer (RFC 3533, RFC 7845) for the first
// Opus logical stream in the physical stream; other logical streams are ignored.
// Create it with NewOgg; the zero value is not usable.
type Ogg struct {
	cfg     Config
	buf     []byte // unconsumed input (at most one page)
	err     error  // sticky
	pos     int64  // stream offset of buf[0]
	serial  uint32 // the Opus stream's serial number
	have    bool   // serial is set
	npkt    int    // packets completed in the Opus stream (0 = OpusHead, 1 = OpusTags)
	partial []byte // a packet continued on the next page
	ts      int64  // timestamp of the next audio packet
	info    Info
}

// NewOgg returns an Ogg/Opus demuxer.
func NewOgg(cfg Config) *Ogg {
	return &Ogg{cfg: cfg, info: Info{Container: "ogg"}}
}

// Info implements Demuxer.
func (d *Ogg) Info() Info { return d.info }

const oggHeaderLen = 27

// Push implements Demuxer.
func (d *Ogg) Push(p []byte) ([]Packet, error) {
	if d.err != nil {
		return nil, d.err
	}
	d.buf = append(d.buf, p...)
	var out []Packet
	off := 0
	for {
		n, pkts, err := d.page(d.buf[off:])
		out = append(out, pkts...)
		if err != nil {
			d.err = err
			d.buf = nil
			return out, err
		}
		if n == 0 {
			break
		}
		off += n
		d.pos += int64(n)
	}
	rest := len(d.buf) - off
	copy(d.buf, d.buf[off:])
	d.buf = d.buf[:rest]
	return out, nil
}

func (d *Ogg) fail(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %s (Ogg byte offset %d)", kind, fmt.Sprintf(format, args...), d.pos)
}

// page parses one complete page from b; 0 bytes consumed means more input is needed.
func (d *Ogg) page(b []byte) (int, []Packet, error) {
	if len(b) < 4 {
		if !bytes.HasPrefix([]byte("OggS"), b) {
			return 0, nil, d.fail(ErrCorrupt, "expected an Ogg page (\"OggS\"), found % x", b)
		}
		return 0, nil, nil
	}
	if string(b[:4]) != "OggS" {
		if d.pos == 0 {
			return 0, nil, d.fail(ErrNotRecognized, "the stream does not start with an Ogg page (first bytes % x)", b[:4])
		}
		return 0, nil, d.fail(ErrCorrupt, "expected an Ogg page (\"OggS\"), found % x", b[:4])
	}
	if len(b) < oggHeaderLen {
		return 0, nil, nil
	}
	if b[4] != 0 {
		return 0, nil, d.fail(ErrUnsupported, "Ogg version %d", b[4])
	}
	flags := b[5]
	serial := binary.LittleEndian.Uint32(b[14:])
	nseg := int(b[26])
	if len(b) < oggHeaderLen+nseg {
		return 0, nil, nil
	}
	lacing := b[oggHeaderLen : oggHeaderLen+nseg]
	bodyLen := 0
	for _, l := range lacing {
		bodyLen += int(l)
	}
	total := oggHeaderLen + nseg + bodyLen
	if len(b) < total {
		return 0, nil, nil
	}
	pg := b[:total]
	want := binary.LittleEndian.Uint32(pg[22:])
	if oggCRC(pg) != want {
		return 0, nil, d.fail(ErrCorrupt, "Ogg page checksum mismatch")
	}
	body := pg[oggHeaderLen+nseg:]

	if !d.have {
		if flags&0x02 == 0 {
			if d.pos == 0 {
				return 0, nil, d.fail(ErrCorrupt, "the first Ogg page does not begin a stream")
			}
			return total, nil, nil // another logical stream's page
		}
		if !bytes.HasPrefix(body, []byte("OpusHead")) {
			return total, nil, nil // a non-Opus stream begins; keep looking
		}
		d.serial, d.have = serial, true
	}
	if serial != d.serial {
		return total, nil, nil
	}
	if flags&0x01 == 0 && len(d.partial) > 0 {
		// The continuation was lost: drop the broken packet.
		d.partial = d.partial[:0]
	}
	var out []Packet
	start := 0
	for i, l := range lacing {
		end := start + int(l)
		if len(d.partial)+end-start > d.cfg.maxElem() {
			return 0, out, d.fail(ErrTooLarge, "an Ogg packet exceeds %d bytes", d.cfg.maxElem())
		}
		d.partial = append(d.partial, body[start:end]...)
		start = end
		if l == 255 && i == len(lacing)-1 {
			break // continues on the next page
		}
		if l == 255 {
			continue
		}
		pkt, err := d.packet(d.partial)
		if err != nil {
			return 0, out, err
		}
		if pkt != nil {
			out = append(out, *pkt)
		}
		d.partial = d.partial[:0]
	}
	if flags&0x04 != 0 { // end of stream: a new chained stream may follow
		d.have, d.npkt, d.partial = false, 0, d.partial[:0]
	}
	return total, out, nil
}

// packet handles one complete packet of the Opus stream.
func (d *Ogg) packet(p []byte) (*Packet, error) {
	n := d.npkt
	d.npkt++
	switch n {
	case 0:
		head, err := parseOpusHead(p)
		if err != nil {
			return nil, fmt.Errorf("%w (Ogg byte offset %d)", err, d.pos)
		}
		head.Container = "ogg"
		head.TrackInfo = fmt.Sprintf("Ogg Opus stream %#x", d.serial)
		d.info = head
		return nil, nil
	case 1:
		if !bytes.HasPrefix(p, []byte("OpusTags")) {
			return nil, d.fail(ErrCorrupt, "the second Ogg Opus packet is not OpusTags")
		}
		return nil, nil
	}
	s := OpusSamples(p)
	pkt := &Packet{Data: append([]byte(nil), p...), Timestamp: d.ts, Samples: s}
	d.ts += int64(s)
	return pkt, nil
}

var oggTable = func() (t [256]uint32) {
	for i := range t {
		r := uint32(i) << 24
		for j := 0; j < 8; j++ {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04C11DB7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// oggCRC computes a page's checksum with its checksum field taken as zero.
func oggCRC(page []byte) uint32 {
	var crc uint32
	for i, c := range page {
		if i >= 22 && i < 26 {
			c = 0
		}
		crc = crc<<8 ^ oggTable[byte(crc>>24)^c]
	}
	return crc
}
