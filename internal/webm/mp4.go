package webm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// MP4 is an incremental demuxer for fragmented MP4 (ISO BMFF, ISO/IEC
// 14496-12) with one Opus audio track, as Safari's and WebKit's
// MediaRecorder write it for "audio/mp4;codecs=opus": ftyp, a moov with an
// empty sample table and mvex, then moof+mdat fragments. The Opus packets
// ("Encapsulation of Opus in ISO Base Media File Format") are yielded
// untouched, each as soon as its last byte has arrived.
//
// AAC ("mp4a", what Safari records for plain "audio/mp4") is refused with
// ErrUnsupported: decoding it would take a GPL or non-free decoder library
// (Debian has FAAD2 and FFmpeg's, both GPL in Debian's builds, and
// fdk-aac in non-free), and the page never needs it: it asks for Opus in
// MP4, or sends live PCM. A plain (not fragmented) MP4 is refused too: its
// index (moov) is written after the audio, so nothing could be sent live.
//
// Memory: moov and moof boxes are buffered whole, up to
// Config.MaxElementSize, and so is one sample; mdat is read as it streams
// by, and every other box is skipped without being buffered.
//
// Create it with NewMP4; the zero value is not usable. Not safe for
// concurrent use; after Push returns an error the demuxer is dead.
type MP4 struct {
	cfg  Config
	buf  []byte // unconsumed input
	pos  int64  // stream offset of buf[0]
	err  error  // sticky
	info Info

	track     uint32 // the Opus track's ID (0 until the moov)
	timescale uint32 // its media timescale
	trex      trackDefaults

	// The current box being skipped or streamed (mdat): its end offset.
	skipEnd int64
	inMdat  bool

	lastMoof []byte       // the previous moof, to recognise a repeated one
	samples  []fragSample // samples of the last moof not yet seen whole
	sample   []byte       // bytes of samples[0] gathered so far
	dropped  int          // samples announced by a moof that never came

	seenFtyp bool
}

type trackDefaults struct {
	duration, size uint32
}

// fragSample is one sample of a track fragment: where it is in the stream
// and when it plays.
type fragSample struct {
	off  int64 // stream offset of its first byte
	size uint32
	ts   int64 // in the track's timescale
}

// NewMP4 returns a fragmented-MP4 Opus demuxer.
func NewMP4(cfg Config) *MP4 { return &MP4{cfg: cfg, info: Info{Container: "mp4"}} }

// Info implements Demuxer.
func (d *MP4) Info() Info { return d.info }

// Dropped is the number of samples a fragment header announced whose bytes
// were not in the fragment's data (a damaged or cut recording).
func (d *MP4) Dropped() int { return d.dropped }

func (d *MP4) fail(kind error, format string, args ...any) error {
	d.err = fmt.Errorf("%w: MP4: %s", kind, fmt.Sprintf(format, args...))
	d.buf, d.samples, d.sample = nil, nil, nil
	return d.err
}

// Push implements Demuxer.
func (d *MP4) Push(p []byte) ([]Packet, error) {
	if d.err != nil {
		return nil, d.err
	}
	d.buf = append(d.buf, p...)
	var out []Packet
	for len(d.buf) > 0 {
		// Inside a box that is streamed (mdat) or skipped.
		if d.skipEnd > d.pos {
			n := int(min(int64(len(d.buf)), d.skipEnd-d.pos))
			if d.inMdat {
				out = d.mdatBytes(d.buf[:n], d.pos, out)
			}
			d.consume(n)
			if d.pos == d.skipEnd && d.inMdat {
				d.inMdat = false
				d.endMdat()
			}
			continue
		}
		size, typ, hdr, ok, err := boxHeader(d.buf)
		if err != nil {
			return out, d.fail(ErrCorrupt, "%v at byte %d", err, d.pos)
		}
		if !ok {
			break // wait for the rest of the header
		}
		if !d.seenFtyp && typ != "ftyp" {
			return out, d.fail(ErrNotRecognized, "the stream does not start with an ftyp box (%q)", typ)
		}
		switch typ {
		case "ftyp", "moov", "moof":
			if size < 0 {
				return out, d.fail(ErrCorrupt, "%s box without a size", typ)
			}
			if size > int64(d.cfg.maxElem()) {
				return out, d.fail(ErrTooLarge, "%s box of %d bytes (limit %d)", typ, size, d.cfg.maxElem())
			}
			if int64(len(d.buf)) < size {
				return out, nil // wait for the whole box
			}
			body := d.buf[hdr:size]
			var err error
			switch typ {
			case "ftyp":
				d.seenFtyp = true
			case "moov":
				err = d.parseMoov(body)
			case "moof":
				err = d.parseMoof(d.buf[:size], body, d.pos)
			}
			if err != nil {
				d.err = err
				d.buf = nil
				return out, err
			}
			d.consume(int(size))
		case "mdat":
			if d.track == 0 {
				return out, d.fail(ErrUnsupported, "the audio (mdat) comes before the index (moov): a plain MP4 file, not a live recording; record with MediaRecorder's timeslice or send WAV")
			}
			d.inMdat = true
			if size < 0 {
				d.skipEnd = 1<<63 - 1 // to the end of the stream
			} else {
				d.skipEnd = d.pos + size
			}
			d.consume(hdr)
		default: // free, skip, udta, styp, sidx, mfra, …: not needed
			if size < 0 {
				d.skipEnd = 1<<63 - 1
			} else {
				d.skipEnd = d.pos + size
			}
			d.consume(hdr)
		}
	}
	return out, nil
}

func (d *MP4) consume(n int) {
	rest := len(d.buf) - n
	copy(d.buf, d.buf[n:])
	d.buf = d.buf[:rest]
	d.pos += int64(n)
}

// boxHeader reads a box header: size (-1: to the end of the stream), type
// and header length; ok is false until the header is complete.
func boxHeader(b []byte) (size int64, typ string, hdr int, ok bool, err error) {
	if len(b) < 8 {
		return 0, "", 0, false, nil
	}
	size = int64(binary.BigEndian.Uint32(b))
	typ = string(b[4:8])
	hdr = 8
	switch size {
	case 0:
		size = -1
	case 1:
		if len(b) < 16 {
			return 0, "", 0, false, nil
		}
		u := binary.BigEndian.Uint64(b[8:])
		if u > 1<<62 {
			return 0, "", 0, false, fmt.Errorf("box %q of %d bytes", typ, u)
		}
		size, hdr = int64(u), 16
	}
	if size >= 0 && size < int64(hdr) {
		return 0, "", 0, false, fmt.Errorf("box %q of %d bytes, shorter than its header", typ, size)
	}
	for _, c := range []byte(typ) {
		if c < 0x20 || c > 0x7e {
			return 0, "", 0, false, fmt.Errorf("box type % x is not text", []byte(typ))
		}
	}
	return size, typ, hdr, true, nil
}

// eachBox calls fn for each box in b; it fails on a box that overruns b.
func eachBox(b []byte, fn func(typ string, body []byte) error) error {
	for len(b) > 0 {
		size, typ, hdr, ok, err := boxHeader(b)
		if err != nil {
			return err
		}
		if !ok || size > int64(len(b)) {
			return fmt.Errorf("box %q overruns its parent", typ)
		}
		if size < 0 {
			size = int64(len(b))
		}
		if err := fn(typ, b[hdr:size]); err != nil {
			return err
		}
		b = b[size:]
	}
	return nil
}

// fullBox splits a full box's version and flags from its body.
func fullBox(b []byte) (version byte, flags uint32, rest []byte, err error) {
	if len(b) < 4 {
		return 0, 0, nil, fmt.Errorf("full box of %d bytes", len(b))
	}
	return b[0], uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]), b[4:], nil
}

// parseMoov finds the sound track and reads its sample entry.
func (d *MP4) parseMoov(b []byte) error {
	if d.track != 0 {
		return fmt.Errorf("%w: MP4: a second moov box", ErrCorrupt)
	}
	var found bool
	var trex = map[uint32]trackDefaults{}
	err := eachBox(b, func(typ string, body []byte) error {
		switch typ {
		case "trak":
			if found {
				return nil // the first sound track is the one
			}
			t, err := parseTrak(body)
			if err != nil {
				return err
			}
			if t == nil {
				return nil // not sound
			}
			found = true
			d.track, d.timescale = t.id, t.timescale
			d.info.Codec, d.info.Channels, d.info.PreSkip, d.info.InputRate = "opus", t.channels, t.preSkip, t.inputRate
			d.info.TrackInfo = fmt.Sprintf("Opus track %d in MP4", t.id)
			if t.samples > 0 {
				return fmt.Errorf("%w: MP4: the index lists the samples (a plain MP4 file, not a live recording); record with MediaRecorder's timeslice or send WAV", ErrUnsupported)
			}
		case "mvex":
			return eachBox(body, func(typ string, body []byte) error {
				if typ != "trex" {
					return nil
				}
				_, _, r, err := fullBox(body)
				if err != nil || len(r) < 20 {
					return fmt.Errorf("%w: MP4: trex box too short", ErrCorrupt)
				}
				trex[binary.BigEndian.Uint32(r)] = trackDefaults{duration: binary.BigEndian.Uint32(r[8:]), size: binary.BigEndian.Uint32(r[12:])}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return wrapCorrupt(err)
	}
	if !found {
		return fmt.Errorf("%w: MP4: no sound track", ErrUnsupported)
	}
	d.trex = trex[d.track]
	d.info.HeaderSeen = true
	return nil
}

// wrapCorrupt marks an error without a kind as ErrCorrupt.
func wrapCorrupt(err error) error {
	for _, k := range []error{ErrCorrupt, ErrUnsupported, ErrTooLarge, ErrNotRecognized} {
		if errors.Is(err, k) {
			return err
		}
	}
	return fmt.Errorf("%w: MP4: %v", ErrCorrupt, err)
}

type trakInfo struct {
	id, timescale                uint32
	channels, preSkip, inputRate int
	samples                      uint32 // stsz sample count (0 in a fragmented file)
}

// parseTrak returns the track's description, or nil if it is not sound.
func parseTrak(b []byte) (*trakInfo, error) {
	t := &trakInfo{}
	var sound bool
	var entry string
	var entryErr error
	err := eachBox(b, func(typ string, body []byte) error {
		switch typ {
		case "tkhd":
			v, _, r, err := fullBox(body)
			if err != nil {
				return err
			}
			off := 8 // creation and modification times
			if v == 1 {
				off = 16
			}
			if len(r) < off+4 {
				return fmt.Errorf("tkhd box too short")
			}
			t.id = binary.BigEndian.Uint32(r[off:])
		case "mdia":
			return eachBox(body, func(typ string, body []byte) error {
				switch typ {
				case "mdhd":
					v, _, r, err := fullBox(body)
					if err != nil {
						return err
					}
					off := 8
					if v == 1 {
						off = 16
					}
					if len(r) < off+4 {
						return fmt.Errorf("mdhd box too short")
					}
					t.timescale = binary.BigEndian.Uint32(r[off:])
				case "hdlr":
					_, _, r, err := fullBox(body)
					if err != nil || len(r) < 8 {
						return fmt.Errorf("hdlr box too short")
					}
					sound = string(r[4:8]) == "soun"
				case "minf":
					return eachBox(body, func(typ string, body []byte) error {
						if typ != "stbl" {
							return nil
						}
						return eachBox(body, func(typ string, body []byte) error {
							switch typ {
							case "stsd":
								entry, entryErr = t.parseStsd(body)
							case "stsz":
								_, _, r, err := fullBox(body)
								if err != nil || len(r) < 8 {
									return fmt.Errorf("stsz box too short")
								}
								t.samples = binary.BigEndian.Uint32(r[4:])
							}
							return nil
						})
					})
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !sound {
		return nil, nil
	}
	if entryErr != nil {
		return nil, entryErr
	}
	switch {
	case entry == "":
		return nil, fmt.Errorf("the sound track has no sample description")
	case entry == "mp4a":
		return nil, fmt.Errorf("%w: MP4 with AAC audio (Safari's plain audio/mp4): this gateway forwards Opus and does not decode AAC; the page records Opus in MP4 (audio/mp4;codecs=opus) or sends live PCM", ErrUnsupported)
	case entry != "Opus":
		return nil, fmt.Errorf("%w: MP4 with %q audio (only Opus)", ErrUnsupported, entry)
	}
	if t.timescale == 0 {
		return nil, fmt.Errorf("the sound track has a timescale of 0")
	}
	return t, nil
}

// parseStsd reads the first sample entry: its format, and for Opus its
// dOps box (big-endian fields, unlike OpusHead).
func (t *trakInfo) parseStsd(b []byte) (string, error) {
	_, _, r, err := fullBox(b)
	if err != nil || len(r) < 4 {
		return "", fmt.Errorf("%w: MP4: stsd box too short", ErrCorrupt)
	}
	var format string
	var ferr error
	first := true
	err = eachBox(r[4:], func(typ string, e []byte) error {
		if !first {
			return nil
		}
		first = false
		format = typ
		if typ != "Opus" {
			return nil
		}
		// SampleEntry: 6 reserved, data_reference_index; AudioSampleEntry:
		// version (QuickTime: 1 and 2 add 16 and 36 bytes), 6 reserved,
		// channelcount, samplesize, pre_defined, reserved, samplerate.
		if len(e) < 28 {
			return errors.New("MP4: the Opus sample entry is too short")
		}
		off := 28
		switch binary.BigEndian.Uint16(e[8:]) {
		case 1:
			off += 16
		case 2:
			off += 36
		}
		if len(e) < off {
			return errors.New("MP4: the Opus sample entry is too short")
		}
		var seen bool
		err := eachBox(e[off:], func(typ string, body []byte) error {
			if typ != "dOps" {
				return nil
			}
			seen = true
			if len(body) < 11 {
				return errors.New("MP4: the dOps box is too short")
			}
			if body[0] != 0 {
				ferr = fmt.Errorf("%w: MP4: dOps version %d", ErrUnsupported, body[0])
				return nil
			}
			t.channels = int(body[1])
			t.preSkip = int(binary.BigEndian.Uint16(body[2:]))
			t.inputRate = int(binary.BigEndian.Uint32(body[4:]))
			if t.channels < 1 || t.channels > 2 {
				ferr = fmt.Errorf("%w: MP4: Opus with %d channels (only mono and stereo)", ErrUnsupported, t.channels)
			} else if body[10] != 0 {
				ferr = fmt.Errorf("%w: MP4: Opus channel mapping family %d", ErrUnsupported, body[10])
			}
			return nil
		})
		if err == nil && !seen {
			err = errors.New("MP4: an Opus sample entry without a dOps box")
		}
		return err
	})
	if err != nil {
		return "", wrapCorrupt(err)
	}
	return format, ferr
}

// parseMoof reads the fragment's sample table for our track. box is the
// whole moof (to recognise a repeat), start its stream offset.
func (d *MP4) parseMoof(box, body []byte, start int64) error {
	if d.track == 0 {
		return fmt.Errorf("%w: MP4: a fragment (moof) before the index (moov)", ErrCorrupt)
	}
	if bytes.Equal(box, d.lastMoof) {
		// WebKit writes some fragment headers twice in a row, the first
		// copy with no data of its own: its samples are the repeat's.
		d.samples, d.sample = nil, nil
	} else {
		d.endMdat() // samples of an earlier fragment still missing are lost
	}
	d.lastMoof = append(d.lastMoof[:0], box...)
	var samples []fragSample
	err := eachBox(body, func(typ string, body []byte) error {
		if typ != "traf" {
			return nil
		}
		s, err := d.parseTraf(body, start)
		samples = append(samples, s...)
		return err
	})
	if err != nil {
		return wrapCorrupt(err)
	}
	d.samples = samples
	return nil
}

func (d *MP4) parseTraf(b []byte, moofStart int64) ([]fragSample, error) {
	var (
		mine        bool
		base        = moofStart
		defDuration = d.trex.duration
		defSize     = d.trex.size
		decodeTime  int64
		out         []fragSample
	)
	err := eachBox(b, func(typ string, body []byte) error {
		switch typ {
		case "tfhd":
			_, flags, r, err := fullBox(body)
			if err != nil || len(r) < 4 {
				return fmt.Errorf("tfhd box too short")
			}
			mine = binary.BigEndian.Uint32(r) == d.track
			r = r[4:]
			need := func(n int) error {
				if len(r) < n {
					return fmt.Errorf("tfhd box too short")
				}
				return nil
			}
			if flags&0x1 != 0 { // base-data-offset
				if err := need(8); err != nil {
					return err
				}
				base = int64(binary.BigEndian.Uint64(r))
				r = r[8:]
			}
			if flags&0x2 != 0 { // sample-description-index
				if err := need(4); err != nil {
					return err
				}
				r = r[4:]
			}
			if flags&0x8 != 0 {
				if err := need(4); err != nil {
					return err
				}
				defDuration = binary.BigEndian.Uint32(r)
				r = r[4:]
			}
			if flags&0x10 != 0 {
				if err := need(4); err != nil {
					return err
				}
				defSize = binary.BigEndian.Uint32(r)
			}
		case "tfdt":
			v, _, r, err := fullBox(body)
			if err != nil {
				return err
			}
			if v == 1 {
				if len(r) < 8 {
					return fmt.Errorf("tfdt box too short")
				}
				decodeTime = int64(binary.BigEndian.Uint64(r) & (1<<62 - 1))
			} else {
				if len(r) < 4 {
					return fmt.Errorf("tfdt box too short")
				}
				decodeTime = int64(binary.BigEndian.Uint32(r))
			}
		case "trun":
			if !mine {
				return nil
			}
			_, flags, r, err := fullBox(body)
			if err != nil || len(r) < 4 {
				return fmt.Errorf("trun box too short")
			}
			n := binary.BigEndian.Uint32(r)
			r = r[4:]
			var dataOff int64
			if flags&0x1 != 0 {
				if len(r) < 4 {
					return fmt.Errorf("trun box too short")
				}
				dataOff = int64(int32(binary.BigEndian.Uint32(r)))
				r = r[4:]
			}
			if flags&0x4 != 0 { // first-sample-flags
				if len(r) < 4 {
					return fmt.Errorf("trun box too short")
				}
				r = r[4:]
			}
			per := 0
			for _, f := range []uint32{0x100, 0x200, 0x400, 0x800} {
				if flags&f != 0 {
					per += 4
				}
			}
			if uint64(n)*uint64(per) > uint64(len(r)) || (per == 0 && n > 1<<16) {
				return fmt.Errorf("trun lists %d samples in %d bytes", n, len(r))
			}
			off := base + dataOff
			for i := uint32(0); i < n; i++ {
				dur, size := defDuration, defSize
				if flags&0x100 != 0 {
					dur = binary.BigEndian.Uint32(r)
					r = r[4:]
				}
				if flags&0x200 != 0 {
					size = binary.BigEndian.Uint32(r)
					r = r[4:]
				}
				if flags&0x400 != 0 {
					r = r[4:]
				}
				if flags&0x800 != 0 {
					r = r[4:]
				}
				out = append(out, fragSample{off: off, size: size, ts: decodeTime})
				off += int64(size)
				decodeTime += int64(dur)
			}
		}
		return nil
	})
	return out, err
}

// mdatBytes takes the bytes b of an mdat at stream offset at and returns
// out with the samples completed by them.
func (d *MP4) mdatBytes(b []byte, at int64, out []Packet) []Packet {
	end := at + int64(len(b))
	for len(d.samples) > 0 {
		s := d.samples[0]
		if s.size > uint32(d.cfg.maxElem()) {
			d.samples = d.samples[1:]
			d.dropped++
			continue
		}
		have := int64(len(d.sample))
		from := s.off + have // the next byte of this sample we need
		if from < at {
			// Its bytes were before this data: lost.
			d.samples, d.sample = d.samples[1:], d.sample[:0]
			d.dropped++
			continue
		}
		if from >= end {
			break
		}
		take := min(int64(s.size)-have, end-from)
		d.sample = append(d.sample, b[from-at:from-at+take]...)
		if int64(len(d.sample)) < int64(s.size) {
			break
		}
		ts, sc := s.ts, int64(d.timescale)
		pkt := Packet{Data: append([]byte(nil), d.sample...), Timestamp: ts/sc*SampleRate + ts%sc*SampleRate/sc}
		pkt.Samples = OpusSamples(pkt.Data)
		out = append(out, pkt)
		d.samples, d.sample = d.samples[1:], d.sample[:0]
	}
	return out
}

// endMdat counts the samples of the fragment that its data did not hold.
func (d *MP4) endMdat() {
	d.dropped += len(d.samples)
	d.samples, d.sample = nil, nil
}
