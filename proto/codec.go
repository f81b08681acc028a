package proto

import (
	"encoding/binary"
	"fmt"
	"unicode/utf8"
)

// decoder reads fields from a message body, remembering the first error.
// Once err is set every read returns a zero value. v is the protocol version
// the body was encoded for.
type decoder struct {
	b   []byte
	err error
	typ MsgType
	v   uint16
}

// more reports whether bytes remain: a field added after a message's or
// record's first version is read only if it is there (an older peer does not
// send it) and is otherwise left at its zero value.
func (d *decoder) more() bool { return d.err == nil && len(d.b) > 0 }

// recordParser is a record type: a group of fields that appears in lists
// (and alone), such as [UserInfo].
type recordParser interface{ parse(d *decoder) }

// record reads one record. From [Version2] on a record is a u16 byte length
// followed by that many bytes; the record's fields are read from those bytes
// alone and whatever follows the fields this version knows is skipped (a
// newer peer's fields). In [Version1] the fields simply follow each other.
func (d *decoder) record(r recordParser) {
	if d.v < Version2 {
		r.parse(d)
		return
	}
	n := int(d.u16())
	if !d.need(n) {
		return
	}
	sub := decoder{b: d.b[:n], typ: d.typ, v: d.v}
	d.b = d.b[n:]
	r.parse(&sub)
	if sub.err != nil && d.err == nil {
		d.err = sub.err
	}
}

// beginRecord starts a record (see decoder.record): from Version2 on it
// reserves the length, which endRecord fills in. start is -1 in Version1.
func beginRecord(b []byte, v uint16) ([]byte, int) {
	if v < Version2 {
		return b, -1
	}
	return append(b, 0, 0), len(b)
}

// endRecord writes the length of the record begun at start.
func endRecord(b []byte, start int) []byte {
	if start >= 0 {
		binary.BigEndian.PutUint16(b[start:], uint16(len(b)-start-2))
	}
	return b
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

// skip reads a u16-length-prefixed run of at most max bytes and returns it
// (aliasing the message).
func (d *decoder) skip(field string, max int) []byte {
	n := int(d.u16())
	if d.err != nil {
		return nil
	}
	if n > max {
		d.fail(fmt.Errorf("%w: %s is %d bytes, limit %d", ErrTooLong, field, n, max))
		return nil
	}
	if !d.need(n) {
		return nil
	}
	s := d.b[:n]
	d.b = d.b[n:]
	return s
}

// bytes reads a u16-length-prefixed byte string of at most max bytes; an
// empty one is nil. The result does not alias the message.
func (d *decoder) bytes(field string, max int) []byte {
	s := d.skip(field, max)
	if len(s) == 0 {
		return nil
	}
	return append([]byte(nil), s...)
}

// count reads a list length and checks it against MaxListLen and against the
// bytes left, given the smallest possible size of one element's fields (plus
// its length prefix from Version2 on), so a lying count cannot make us
// allocate.
func (d *decoder) count(field string, minElem int) int {
	return d.countMax(field, minElem, MaxListLen)
}

// countMax is count with a list limit of max entries.
func (d *decoder) countMax(field string, minElem, max int) int {
	if d.v >= Version2 {
		minElem += 2
	}
	n := int(d.u16())
	if d.err != nil {
		return 0
	}
	if n > max {
		d.fail(fmt.Errorf("%w: %s has %d entries, limit %d", ErrTooLong, field, n, max))
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

func appendBytes(b, s []byte) []byte {
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

func (c *checker) bytes(field string, s []byte, max int) {
	if c.err == nil && len(s) > max {
		c.err = fmt.Errorf("%w: %s is %d bytes, limit %d", ErrTooLong, field, len(s), max)
	}
}

func (c *checker) list(field string, n int) { c.listMax(field, n, MaxListLen) }

func (c *checker) listMax(field string, n, max int) {
	if c.err == nil && n > max {
		c.err = fmt.Errorf("%w: %s has %d entries, limit %d", ErrTooLong, field, n, max)
	}
}
