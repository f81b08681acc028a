// Package webm demuxes the audio recordings browsers make with MediaRecorder,
// incrementally, as the bytes arrive over a websocket: WebM/Matroska (Chromium,
// Firefox), Ogg (Firefox) and fragmented MP4 with Opus (Safari, WebKit; see MP4). It yields Opus packets with their timestamps as soon
// as each one is complete, without re-encoding anything.
//
// Both demuxers are push parsers: call Push with each received chunk, in order.
// Chunk boundaries need not match container elements (Chromium cuts its blobs in
// the middle of EBML elements); only the concatenation of all chunks has to parse.
// Live streams are supported: WebM Segment and Cluster elements of unknown size.
//
// Why our own parser and not github.com/at-wat/ebml-go: its reader runs in a
// goroutine behind an io.Reader, panics (killing the process) on a truncated
// stream unless a fatal handler is installed, and has no limit on element sizes.
// A gateway feeds it bytes from strangers, so we want a small synchronous state
// machine with a hard memory bound, one clear error, and nothing running in the
// background. Only the handful of elements needed to find Opus packets are
// interpreted; every other element is skipped without being buffered.
//
// Memory: a demuxer buffers at most one element it needs whole (a block, the
// track list) plus the bytes of one Push; elements larger than
// Config.MaxElementSize are refused with ErrTooLarge.
//
// A Demuxer is not safe for concurrent use. After Push returns an error the
// demuxer is dead: every later Push returns the same error.
package webm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// SampleRate is the rate of every timestamp and duration this package reports.
// Opus always runs at 48 kHz internally, whatever rate its input had.
const SampleRate = 48000

// DefaultMaxElementSize is the largest element (a block, a track list, or an
// element being skipped) a demuxer accepts when Config.MaxElementSize is zero.
const DefaultMaxElementSize = 1 << 20

// Errors returned (wrapped, test with errors.Is) by Push.
var (
	// ErrNotRecognized: the bytes are not a container this package reads.
	ErrNotRecognized = errors.New("not a WebM or Ogg recording")
	// ErrUnsupported: a valid container with content we do not handle
	// (a codec other than Opus such as Safari's AAC, laced or encrypted
	// blocks, a plain MP4 whose index comes last, ...).
	ErrUnsupported = errors.New("unsupported recording")
	// ErrTooLarge: an element or page exceeds Config.MaxElementSize.
	ErrTooLarge = errors.New("element too large")
	// ErrCorrupt: the stream is damaged or is not what it claims to be.
	ErrCorrupt = errors.New("corrupt recording")
)

// Packet is one Opus packet from a recording.
type Packet struct {
	// Data is the Opus packet. It is freshly allocated: the caller owns it.
	Data []byte
	// Timestamp is the presentation time of the packet's first sample, in 48 kHz
	// samples from the container's time zero (WebM: cluster timecode + block offset;
	// Ogg: sum of the durations of the packets before it).
	Timestamp int64
	// Samples is the packet's duration in 48 kHz samples, read from its Opus TOC
	// byte; 0 if the packet is malformed.
	Samples int
}

// Info describes the audio stream once the container's headers have been read.
type Info struct {
	Container  string // "webm" or "ogg"
	Codec      string // "opus"
	Channels   int    // from OpusHead (1 or 2)
	InputRate  int    // the rate the encoder was fed (OpusHead; informational), 0 if unknown
	PreSkip    int    // samples to drop at the start (OpusHead)
	TrackInfo  string // free text for logs, e.g. "A_OPUS track 1"
	HeaderSeen bool   // true once the headers have been parsed
}

// Config tunes a demuxer. The zero value is usable.
type Config struct {
	// MaxElementSize bounds any single element or Ogg packet in bytes;
	// 0 means DefaultMaxElementSize.
	MaxElementSize int
}

func (c Config) maxElem() int {
	if c.MaxElementSize <= 0 {
		return DefaultMaxElementSize
	}
	return c.MaxElementSize
}

// Demuxer is the push interface shared by the WebM and Ogg demuxers.
type Demuxer interface {
	// Push appends p (which the demuxer does not retain) to the stream and returns
	// the packets that became complete, in stream order.
	Push(p []byte) ([]Packet, error)
	// Info describes the stream; Info().HeaderSeen is false until the headers
	// have been parsed.
	Info() Info
}

// EBML element IDs this package interprets (with their length marker bits, as
// written in the Matroska specification).
const (
	idEBML           = 0x1A45DFA3
	idDocType        = 0x4282
	idEBMLReadVer    = 0x42F7
	idSegment        = 0x18538067
	idInfo           = 0x1549A966
	idTimecodeScale  = 0x2AD7B1
	idTracks         = 0x1654AE6B
	idTrackEntry     = 0xAE
	idTrackNumber    = 0xD7
	idTrackType      = 0x83
	idCodecID        = 0x86
	idCodecPrivate   = 0x63A2
	idAudio          = 0xE1
	idSamplingFreq   = 0xB5
	idChannels       = 0x9F
	idContentEncs    = 0x6D80
	idCluster        = 0x1F43B675
	idTimecode       = 0xE7
	idSimpleBlock    = 0xA3
	idBlockGroup     = 0xA0
	idBlock          = 0xA1
	trackTypeAudio   = 2
	unknownSize      = -1
	maxHeaderElement = 64 << 10 // EBML header, Info and Tracks are small
)

// WebM is an incremental WebM/Matroska demuxer for one Opus audio track.
// Create it with NewWebM; the zero value is not usable.
type WebM struct {
	cfg  Config
	buf  []byte // unconsumed input
	err  error  // sticky
	skip int64  // bytes of a skipped element still to drop
	pos  int64  // stream offset of buf[0], for error messages

	started   bool   // EBML header seen
	inSegment bool   // Segment header seen
	scale     uint64 // TimecodeScale, ns per tick
	track     uint64 // the Opus track number, 0 until Tracks parsed
	cluster   int64  // current cluster timecode in ticks
	haveTC    bool   // cluster timecode seen since the last Cluster header
	info      Info
}

// NewWebM returns a WebM demuxer.
func NewWebM(cfg Config) *WebM {
	return &WebM{cfg: cfg, scale: 1000000, info: Info{Container: "webm"}}
}

// Info implements Demuxer.
func (d *WebM) Info() Info { return d.info }

// Push implements Demuxer.
func (d *WebM) Push(p []byte) ([]Packet, error) {
	if d.err != nil {
		return nil, d.err
	}
	if d.skip > 0 {
		n := int64(len(p))
		if n > d.skip {
			n = d.skip
		}
		d.skip -= n
		d.pos += n
		p = p[n:]
	}
	d.buf = append(d.buf, p...)
	var out []Packet
	off := 0
	for {
		n, pkts, err := d.step(d.buf[off:])
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
	// Compact; release the memory of a large element once it is consumed.
	rest := len(d.buf) - off
	if rest == 0 && cap(d.buf) > 64<<10 {
		d.buf = nil
	} else {
		copy(d.buf, d.buf[off:])
		d.buf = d.buf[:rest]
	}
	return out, nil
}

func (d *WebM) fail(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %s (WebM byte offset %d)", kind, fmt.Sprintf(format, args...), d.pos)
}

// step consumes at most one element (or element header) from b. It returns the
// number of bytes consumed, 0 if it needs more input.
func (d *WebM) step(b []byte) (int, []Packet, error) {
	if d.skip > 0 {
		n := int64(len(b))
		if n > d.skip {
			n = d.skip
		}
		d.skip -= n
		return int(n), nil, nil
	}
	if len(b) == 0 {
		return 0, nil, nil
	}
	id, idLen, err := readID(b)
	if err != nil {
		return 0, nil, d.fail(ErrCorrupt, "%v", err)
	}
	if idLen == 0 {
		return 0, nil, nil
	}
	if !d.started && id != idEBML {
		if len(b) >= 4 && string(b[:4]) == "OggS" {
			return 0, nil, d.fail(ErrUnsupported, "this is an Ogg stream, not WebM")
		}
		return 0, nil, d.fail(ErrNotRecognized, "the stream does not start with an EBML header (first bytes % x)", b[:min(len(b), 4)])
	}
	size, sizeLen, err := readSize(b[idLen:])
	if err != nil {
		return 0, nil, d.fail(ErrCorrupt, "element %#x: %v", id, err)
	}
	if sizeLen == 0 {
		return 0, nil, nil
	}
	hdr := idLen + sizeLen

	switch id {
	case idSegment:
		if d.inSegment {
			// A second Segment: a chained stream. Keep the track, it must match again.
			d.track = 0
		}
		d.inSegment = true
		return hdr, nil, nil
	case idCluster:
		if d.track == 0 {
			return 0, nil, d.fail(ErrCorrupt, "audio data (Cluster) before the track list")
		}
		d.haveTC = false
		return hdr, nil, nil
	}
	if size == unknownSize {
		return 0, nil, d.fail(ErrUnsupported, "element %#x has an unknown size; only Segment and Cluster may", id)
	}

	limit := d.cfg.maxElem()
	switch id {
	case idEBML, idInfo, idTracks:
		limit = maxHeaderElement
	}
	if size > int64(limit) {
		return 0, nil, d.fail(ErrTooLarge, "element %#x is %d bytes, the limit is %d", id, size, limit)
	}

	switch id {
	case idEBML, idInfo, idTracks, idTimecode, idSimpleBlock, idBlockGroup:
	default: // anything else: skip without buffering
		d.skip = size
		return hdr, nil, nil
	}
	total := hdr + int(size)
	if len(b) < total {
		return 0, nil, nil
	}
	body := b[hdr:total]
	var pkts []Packet
	switch id {
	case idEBML:
		err = d.parseEBMLHeader(body)
	case idInfo:
		err = d.parseInfo(body)
	case idTracks:
		err = d.parseTracks(body)
	case idTimecode:
		var tc uint64
		tc, err = readUint(body)
		if err == nil && tc > math.MaxInt64/2 {
			err = errors.New("cluster timecode out of range")
		}
		d.cluster, d.haveTC = int64(tc), true
	case idSimpleBlock:
		pkts, err = d.parseBlock(body)
	case idBlockGroup:
		err = children(body, func(cid uint32, data []byte) error {
			if cid != idBlock {
				return nil
			}
			p, err := d.parseBlock(data)
			pkts = append(pkts, p...)
			return err
		})
	}
	if err != nil {
		if errors.Is(err, ErrUnsupported) || errors.Is(err, ErrCorrupt) {
			return 0, nil, fmt.Errorf("%w (WebM byte offset %d)", err, d.pos)
		}
		return 0, nil, d.fail(ErrCorrupt, "element %#x: %v", id, err)
	}
	return total, pkts, nil
}

func (d *WebM) parseEBMLHeader(b []byte) error {
	if d.started {
		// A new stream begins (the recorder was restarted): forget the old
		// one's headers (not the input buffer, which Push is walking).
		d.inSegment, d.scale, d.track, d.cluster, d.haveTC = false, 1000000, 0, 0, false
		d.info = Info{Container: "webm"}
	}
	d.started = true
	docType := "matroska" // the EBML default
	err := children(b, func(id uint32, data []byte) error {
		switch id {
		case idDocType:
			docType = string(trimNUL(data))
		case idEBMLReadVer:
			v, err := readUint(data)
			if err != nil {
				return err
			}
			if v > 1 {
				return fmt.Errorf("%w: EBML read version %d", ErrUnsupported, v)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if docType != "webm" && docType != "matroska" {
		return fmt.Errorf("%w: document type %q is neither webm nor matroska", ErrUnsupported, docType)
	}
	return nil
}

func (d *WebM) parseInfo(b []byte) error {
	return children(b, func(id uint32, data []byte) error {
		if id != idTimecodeScale {
			return nil
		}
		v, err := readUint(data)
		if err != nil {
			return err
		}
		if v == 0 || v > 1e12 {
			return fmt.Errorf("timecode scale %d out of range", v)
		}
		d.scale = v
		return nil
	})
}

type trackEntry struct {
	number, typ uint64
	codec       string
	private     []byte
	rate        float64
	channels    uint64
	encoded     bool
}

func (d *WebM) parseTracks(b []byte) error {
	var tracks []trackEntry
	err := children(b, func(id uint32, data []byte) error {
		if id != idTrackEntry {
			return nil
		}
		var t trackEntry
		err := children(data, func(id uint32, v []byte) error {
			var err error
			switch id {
			case idTrackNumber:
				t.number, err = readUint(v)
			case idTrackType:
				t.typ, err = readUint(v)
			case idCodecID:
				t.codec = string(trimNUL(v))
			case idCodecPrivate:
				t.private = v
			case idContentEncs:
				t.encoded = true
			case idAudio:
				err = children(v, func(id uint32, v []byte) error {
					var err error
					switch id {
					case idSamplingFreq:
						t.rate, err = readFloat(v)
					case idChannels:
						t.channels, err = readUint(v)
					}
					return err
				})
			}
			return err
		})
		tracks = append(tracks, t)
		return err
	})
	if err != nil {
		return err
	}
	var other []string
	for _, t := range tracks {
		if t.typ != trackTypeAudio {
			continue
		}
		if t.codec != "A_OPUS" {
			other = append(other, t.codec)
			continue
		}
		if t.number == 0 {
			return errors.New("the Opus track has no track number")
		}
		if t.encoded {
			return fmt.Errorf("%w: the Opus track is compressed or encrypted (ContentEncodings)", ErrUnsupported)
		}
		head, err := parseOpusHead(t.private)
		if err != nil {
			return err
		}
		if t.channels != 0 && int(t.channels) != head.Channels {
			return fmt.Errorf("track says %d channels, OpusHead says %d", t.channels, head.Channels)
		}
		if t.rate != 0 && t.rate != SampleRate {
			// Matroska's Opus mapping requires 48000 here; a browser writing
			// something else is broken, but the packets are still Opus.
			head.TrackInfo = fmt.Sprintf("A_OPUS track %d (claims %.0f Hz)", t.number, t.rate)
		} else {
			head.TrackInfo = fmt.Sprintf("A_OPUS track %d", t.number)
		}
		head.Container = "webm"
		d.info = head
		d.track = t.number
		return nil
	}
	if len(other) > 0 {
		return fmt.Errorf("%w: the audio is %s; only Opus (A_OPUS) is supported", ErrUnsupported, other[0])
	}
	return fmt.Errorf("%w: the recording has no audio track", ErrUnsupported)
}

// parseBlock parses a SimpleBlock or Block body.
func (d *WebM) parseBlock(b []byte) ([]Packet, error) {
	if d.track == 0 {
		return nil, errors.New("block before the track list")
	}
	track, n, err := readVint(b)
	if err != nil || n == 0 {
		return nil, errors.New("block with a bad track number")
	}
	if track != d.track {
		return nil, nil // another track (video, a second audio track)
	}
	if len(b) < n+3 {
		return nil, errors.New("block too short")
	}
	if !d.haveTC {
		return nil, errors.New("block before its cluster's timecode")
	}
	rel := int64(int16(binary.BigEndian.Uint16(b[n:])))
	flags := b[n+2]
	frames, err := unlace(b[n+3:], (flags>>1)&3)
	if err != nil {
		return nil, err
	}
	ts, err := d.samples(d.cluster + rel)
	if err != nil {
		return nil, err
	}
	out := make([]Packet, 0, len(frames))
	for _, f := range frames {
		s := OpusSamples(f)
		out = append(out, Packet{Data: append([]byte(nil), f...), Timestamp: ts, Samples: s})
		ts += int64(s)
	}
	return out, nil
}

// samples converts a timecode in ticks to 48 kHz samples without overflowing.
func (d *WebM) samples(tc int64) (int64, error) {
	neg := tc < 0
	u := uint64(tc)
	if neg {
		u = uint64(-tc)
	}
	hi, lo := bits.Mul64(u, d.scale*SampleRate)
	if hi >= 1e9 {
		return 0, errors.New("timestamp out of range")
	}
	q, _ := bits.Div64(hi, lo, 1e9)
	if q > math.MaxInt64 {
		return 0, errors.New("timestamp out of range")
	}
	if neg {
		return -int64(q), nil
	}
	return int64(q), nil
}

// unlace splits a block's frames according to its lacing mode
// (0 none, 1 Xiph, 2 fixed-size, 3 EBML).
func unlace(b []byte, mode byte) ([][]byte, error) {
	if mode == 0 {
		return [][]byte{b}, nil
	}
	if len(b) < 1 {
		return nil, errors.New("laced block without a frame count")
	}
	count := int(b[0]) + 1
	b = b[1:]
	sizes := make([]int, count)
	switch mode {
	case 2:
		if len(b)%count != 0 {
			return nil, errors.New("fixed-size lacing does not divide the block")
		}
		for i := range sizes {
			sizes[i] = len(b) / count
		}
	case 1:
		total := 0
		for i := 0; i < count-1; i++ {
			s := 0
			for {
				if len(b) == 0 {
					return nil, errors.New("truncated Xiph lacing")
				}
				v := int(b[0])
				b = b[1:]
				s += v
				if v != 255 {
					break
				}
			}
			sizes[i] = s
			total += s
		}
		if total > len(b) {
			return nil, errors.New("the block's Xiph lacing sizes exceed the block")
		}
		sizes[count-1] = len(b) - total
	case 3:
		first, n, err := readVint(b)
		if err != nil || n == 0 {
			return nil, errors.New("bad EBML lacing")
		}
		b = b[n:]
		prev := int64(first)
		total := prev
		sizes[0] = int(prev)
		for i := 1; i < count-1; i++ {
			raw, n, err := readVint(b)
			if err != nil || n == 0 {
				return nil, errors.New("bad EBML lacing")
			}
			b = b[n:]
			// Signed difference: subtract the bias 2^(7n-1)-1.
			diff := int64(raw) - (int64(1)<<(7*n-1) - 1)
			prev += diff
			if prev < 0 || prev > int64(len(b)) {
				return nil, errors.New("bad EBML lacing size")
			}
			sizes[i] = int(prev)
			total += prev
		}
		if total > int64(len(b)) || total < 0 {
			return nil, errors.New("EBML lacing sizes exceed the block")
		}
		sizes[count-1] = len(b) - int(total)
	}
	out := make([][]byte, count)
	for i, s := range sizes {
		if s > len(b) {
			return nil, errors.New("lacing sizes exceed the block")
		}
		out[i], b = b[:s], b[s:]
	}
	return out, nil
}

// readID reads an element ID (marker bits kept). n == 0 means more input is needed.
func readID(b []byte) (id uint32, n int, err error) {
	if len(b) == 0 {
		return 0, 0, nil
	}
	l := bits.LeadingZeros8(b[0]) + 1
	if l > 4 {
		return 0, 0, fmt.Errorf("invalid element ID starting with byte %#02x", b[0])
	}
	if len(b) < l {
		return 0, 0, nil
	}
	for i := 0; i < l; i++ {
		id = id<<8 | uint32(b[i])
	}
	return id, l, nil
}

// readSize reads an element size; unknownSize for the reserved all-ones value.
// n == 0 means more input is needed.
func readSize(b []byte) (size int64, n int, err error) {
	if len(b) == 0 {
		return 0, 0, nil
	}
	l := bits.LeadingZeros8(b[0]) + 1
	if l > 8 {
		return 0, 0, errors.New("invalid element size (byte 0x00)")
	}
	if len(b) < l {
		return 0, 0, nil
	}
	v, _, _ := readVint(b)
	if v == (uint64(1)<<(7*l))-1 {
		return unknownSize, l, nil
	}
	if v > math.MaxInt64/2 {
		return 0, 0, errors.New("element size out of range")
	}
	return int64(v), l, nil
}

// readVint reads a variable-length integer with its marker removed.
func readVint(b []byte) (v uint64, n int, err error) {
	if len(b) == 0 {
		return 0, 0, nil
	}
	l := bits.LeadingZeros8(b[0]) + 1
	if l > 8 {
		return 0, 0, errors.New("invalid variable-length integer")
	}
	if len(b) < l {
		return 0, 0, nil
	}
	v = uint64(b[0]) & (0xFF >> l)
	for i := 1; i < l; i++ {
		v = v<<8 | uint64(b[i])
	}
	return v, l, nil
}

// children iterates the child elements of a fully buffered master element.
func children(b []byte, fn func(id uint32, data []byte) error) error {
	for len(b) > 0 {
		id, n, err := readID(b)
		if err != nil {
			return err
		}
		if n == 0 {
			return errors.New("truncated child element")
		}
		size, m, err := readSize(b[n:])
		if err != nil {
			return err
		}
		if m == 0 || size == unknownSize || size > int64(len(b)-n-m) {
			return fmt.Errorf("child element %#x overruns its parent", id)
		}
		if err := fn(id, b[n+m:n+m+int(size)]); err != nil {
			return err
		}
		b = b[n+m+int(size):]
	}
	return nil
}

func readUint(b []byte) (uint64, error) {
	if len(b) > 8 {
		return 0, errors.New("integer longer than 8 bytes")
	}
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v, nil
}

func readFloat(b []byte) (float64, error) {
	switch len(b) {
	case 0:
		return 0, nil
	case 4:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case 8:
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	}
	return 0, fmt.Errorf("float of %d bytes", len(b))
}

func trimNUL(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}
