package protov1

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// FrameHeaderLen is the length prefix of a control message.
const FrameHeaderLen = 2

// AppendMessage appends m, framed (length, type, body), to b. It checks every
// field against its limit and the whole against [MaxMessageSize], and returns
// b unchanged with an error wrapping [ErrTooLong] or [ErrBadValue] if one is
// exceeded.
func AppendMessage(b []byte, m Message) ([]byte, error) {
	var c checker
	m.check(&c)
	if c.err != nil {
		return b, fmt.Errorf("%v: %w", m.Type(), c.err)
	}
	start := len(b)
	b = append(b, 0, 0, byte(m.Type()))
	b = m.AppendBody(b)
	n := len(b) - start - FrameHeaderLen
	if n > MaxMessageSize {
		return b[:start], fmt.Errorf("%v: %w: %d bytes, limit %d", m.Type(), ErrTooLong, n, MaxMessageSize)
	}
	binary.BigEndian.PutUint16(b[start:], uint16(n))
	return b, nil
}

// ParseMessage parses one unframed message: the type byte and the body. For a
// type this version does not know it returns an [*Unknown] and an error
// wrapping [ErrUnknownType]. Strings and lists in the result do not alias b.
func ParseMessage(b []byte) (Message, error) {
	if len(b) == 0 {
		return nil, ErrEmptyMessage
	}
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("%w: message of %d bytes, limit %d", ErrTooLong, len(b), MaxMessageSize)
	}
	t := MsgType(b[0])
	m := newMessage(t)
	if m == nil {
		u := &Unknown{T: t, Body: append([]byte(nil), b[1:]...)}
		return u, fmt.Errorf("%w %d", ErrUnknownType, uint8(t))
	}
	d := decoder{b: b[1:], typ: t}
	m.parse(&d)
	if d.err != nil {
		return nil, d.err
	}
	return m, nil
}

// Reader reads framed control messages from a stream. It is not safe for
// concurrent use. Its zero value is not usable; call [NewReader].
type Reader struct {
	r       io.Reader
	buf     []byte
	skipped uint64
}

// NewReader returns a Reader on r. Reads are made in whole frames with
// io.ReadFull, so r need not be buffered.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, buf: make([]byte, 0, 512)}
}

// Skipped is the number of messages of unknown type skipped so far.
func (r *Reader) Skipped() uint64 { return r.skipped }

// Next returns the next message of a known type, skipping unknown types.
// Errors from the stream are returned as they are (io.EOF at a clean end,
// io.ErrUnexpectedEOF inside a frame). A frame that is empty or over
// [MaxMessageSize] is fatal to the stream (the framing is lost) and returns
// an error wrapping [ErrFraming]; a frame whose body does
// not parse returns its error but the stream stays usable: the caller may
// report it and call Next again.
func (r *Reader) Next() (Message, error) {
	for {
		var hdr [FrameHeaderLen]byte
		if _, err := io.ReadFull(r.r, hdr[:]); err != nil {
			return nil, err
		}
		n := int(binary.BigEndian.Uint16(hdr[:]))
		if n == 0 {
			return nil, fmt.Errorf("%w: %w: zero-length frame", ErrFraming, ErrEmptyMessage)
		}
		if n > MaxMessageSize {
			return nil, fmt.Errorf("%w: %w: frame of %d bytes, limit %d", ErrFraming, ErrTooLong, n, MaxMessageSize)
		}
		if cap(r.buf) < n {
			r.buf = make([]byte, n)
		}
		b := r.buf[:n]
		if _, err := io.ReadFull(r.r, b); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		m, err := ParseMessage(b)
		if errors.Is(err, ErrUnknownType) {
			r.skipped++
			continue
		}
		return m, err
	}
}

// IsFramingError reports whether err from [Reader.Next] means the stream can
// no longer be read (as opposed to one bad message, which was consumed).
func IsFramingError(err error) bool {
	return errors.Is(err, ErrFraming) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
