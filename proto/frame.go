package proto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// FrameHeaderLen is the length prefix of a control message.
const FrameHeaderLen = 2

// AppendMessage appends m, framed (length, type, body) as the newest
// [Version] encodes it, to b. It checks every field against its limit and the
// whole against [MaxMessageSize], and returns b unchanged with an error
// wrapping [ErrTooLong] or [ErrBadValue] if one is exceeded.
func AppendMessage(b []byte, m Message) ([]byte, error) {
	return AppendMessageFor(b, m, Version)
}

// AppendMessageFor is [AppendMessage] for a peer speaking version v (the
// version [Negotiate] chose for the connection).
func AppendMessageFor(b []byte, m Message, v uint16) ([]byte, error) {
	var c checker
	m.check(&c)
	if c.err != nil {
		return b, fmt.Errorf("%v: %w", m.Type(), c.err)
	}
	start := len(b)
	b = append(b, 0, 0, byte(m.Type()))
	if vm, ok := m.(versioned); ok {
		b = vm.appendBodyFor(b, v)
	} else {
		b = m.AppendBody(b)
	}
	n := len(b) - start - FrameHeaderLen
	if n > MaxMessageSize {
		return b[:start], fmt.Errorf("%v: %w: %d bytes, limit %d", m.Type(), ErrTooLong, n, MaxMessageSize)
	}
	binary.BigEndian.PutUint16(b[start:], uint16(n))
	return b, nil
}

// ParseMessage parses one unframed message (the type byte and the body) as
// the newest [Version] encodes it. For a type this version does not know it
// returns an [*Unknown] and an error wrapping [ErrUnknownType]. Bytes after
// the fields this version knows are ignored. Strings and lists in the result
// do not alias b.
func ParseMessage(b []byte) (Message, error) { return ParseMessageFor(b, Version) }

// ParseMessageFor is [ParseMessage] for a message from a peer speaking
// version v.
func ParseMessageFor(b []byte, v uint16) (Message, error) {
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
	d := decoder{b: b[1:], typ: t, v: v}
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
	version uint16
}

// NewReader returns a Reader on r that parses messages as the newest
// [Version] encodes them; call [Reader.SetVersion] once [Negotiate] has
// chosen the connection's version (the messages before it, Hello, Auth and
// Error, read the same in every version). Reads are made in whole frames
// with io.ReadFull, so r need not be buffered and nothing is read ahead.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, buf: make([]byte, 0, 512), version: Version}
}

// SetVersion makes the following messages parse as version v encodes them.
func (r *Reader) SetVersion(v uint16) { r.version = v }

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
		m, err := ParseMessageFor(b, r.version)
		if errors.Is(err, ErrUnknownType) {
			r.skipped++
			continue
		}
		if err != nil {
			return nil, &MessageError{Err: err}
		}
		return m, nil
	}
}

// MessageError is the error [Reader.Next] returns for one frame whose body
// did not parse: the frame was consumed and the stream is still usable.
// Its text is the parse error's; errors.Is and errors.As see through it.
type MessageError struct{ Err error }

func (e *MessageError) Error() string { return e.Err.Error() }
func (e *MessageError) Unwrap() error { return e.Err }

// IsFramingError reports whether err from [Reader.Next] means the stream can
// no longer be read: anything but one bad message (a [MessageError], which
// was consumed). That includes [ErrFraming], io.EOF and every error of the
// stream itself (reset, deadline, connection closed), so a reader that
// goes on after a bad message cannot spin on a dead stream.
func IsFramingError(err error) bool {
	var me *MessageError
	return err != nil && !errors.As(err, &me)
}
