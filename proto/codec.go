package proto

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// decoder reads fields from a message body, remembering the first error.
// Once err is set every read returns a zero value.
type decoder struct {
	b   []byte
	err error
	typ MsgType
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = fmt.Errorf("%v: %w", d.typ, err)
	}
}

func (d *decoder) need(n int) bool {
	if d.err != nil {
		return false
	}
	if len(d.b) < n {
		d.fail(ErrShort)
		return false
	}
	return true
}

func (d *decoder) u8() uint8 {
	if !d.need(1) {
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) u16() uint16 {
	if !d.need(2) {
		return 0
	}
	v := binary.BigEndian.Uint16(d.b)
	d.b = d.b[2:]
	return v
}

func (d *decoder) u32() uint32 {
	if !d.need(4) {
		return 0
	}
	v := binary.BigEndian.Uint32(d.b)
	d.b = d.b[4:]
	return v
}

func (d *decoder) u64() uint64 {
	if !d.need(8) {
		return 0
	}
	v := binary.BigEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) bool() bool { return d.u8() != 0 }

// more reports whether bytes are left for an optional trailing field: a
// message from an older peer ends before it. A field cut short is still
// an error (ErrShort) when it is read.
func (d *decoder) more() bool { return d.err == nil && len(d.b) > 0 }

// str reads a u16-length-prefixed UTF-8 string of at most max bytes.
func (d *decoder) str(field string, max int) string {
	n := int(d.u16())
	if d.err != nil {
		return ""
	}
	if n > max {
		d.fail(fmt.Errorf("%w: %s is %d bytes, limit %d", ErrTooLong, field, n, max))
		return ""
	}
	if !d.need(n) {
		return ""
	}
	s := d.b[:n]
	d.b = d.b[n:]
	if !utf8.Valid(s) {
		d.fail(fmt.Errorf("%w: %s is not UTF-8", ErrBadValue, field))
		return ""
	}
	return string(s)
}

// count reads a list length and checks it against MaxListLen and against the
// bytes left, given the smallest possible size of one element, so a lying
// count cannot make us allocate.
func (d *decoder) count(field string, minElem int) int {
	n := int(d.u16())
	if d.err != nil {
		return 0
	}
	if n > MaxListLen {
		d.fail(fmt.Errorf("%w: %s has %d entries, limit %d", ErrTooLong, field, n, MaxListLen))
		return 0
	}
	if n*minElem > len(d.b) {
		d.fail(fmt.Errorf("%w: %s claims %d entries", ErrShort, field, n))
		return 0
	}
	return n
}

func appendStr(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// checker validates field lengths before encoding.
type checker struct{ err error }

func (c *checker) str(field, s string, max int) {
	if c.err == nil && len(s) > max {
		c.err = fmt.Errorf("%w: %s is %d bytes, limit %d", ErrTooLong, field, len(s), max)
	}
	if c.err == nil && !utf8.ValidString(s) {
		c.err = fmt.Errorf("%w: %s is not UTF-8", ErrBadValue, field)
	}
}

func (c *checker) list(field string, n int) {
	if c.err == nil && n > MaxListLen {
		c.err = fmt.Errorf("%w: %s has %d entries, limit %d", ErrTooLong, field, n, MaxListLen)
	}
}
