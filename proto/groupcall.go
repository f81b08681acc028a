package proto

import (
	"encoding/binary"
	"fmt"
)

// Group calls: hold to talk to several users only, named one by one or by
// role. A client sends [GroupCallStart] naming them; everything else is a
// call ([WhisperStart]): the relay answers [FloorGrant] for
// [WhisperChannel], or [FloorDeny] when someone else is already calling
// one of them or a page is on, or an [Error] (About TypeGroupCallStart):
// CodeNoUser naming whoever is not online (or cannot take calls), or nobody
// online has the role. Each callee and the caller get a [Whisper] per
// callee when the call starts and ends; the caller's voice on
// WhisperChannel reaches every callee, and [WhisperStop] or the end flag
// ends the call for all. Added in version 2 as the feature
// [FeatureGroupCall].
//
//	caller                            relay                    callees
//	GroupCallStart{bob, carol} ->
//	                            <- FloorGrant{WhisperChannel}
//	                            <- Whisper{alice→bob, active}  -> bob
//	                            <- Whisper{alice→carol, active} -> carol
//	voice (WhisperChannel)     ->                              -> bob, carol

// TypeGroupCallStart: call several users. C.
const TypeGroupCallStart MsgType = 41

// FeatureGroupCall: calls to several users ([GroupCallStart]). Assigned in
// version 2.
const FeatureGroupCall Features = 1 << 6

// MaxCallees is the most names a GroupCallStart may carry.
const MaxCallees = 16

// GroupCallRole is the prefix of a name in GroupCallStart.To that stands
// for every online user with a role: "role:page", "role:admin".
const GroupCallRole = "role:"

// GroupCallStart asks to call several users at once.
//
//	count u16  (1 to MaxCallees)
//	to    str  (MaxNameLen), count times: a user's name, or GroupCallRole
//	           and a role's name
type GroupCallStart struct {
	To []string
}

func (m *GroupCallStart) Type() MsgType { return TypeGroupCallStart }

func (m *GroupCallStart) AppendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(m.To)))
	for _, n := range m.To {
		b = appendStr(b, n)
	}
	return b
}

func (m *GroupCallStart) check(c *checker) {
	c.listMax("to", len(m.To), MaxCallees)
	if c.err == nil && len(m.To) == 0 {
		c.err = fmt.Errorf("%w: a group call names nobody", ErrBadValue)
	}
	for _, n := range m.To {
		c.str("to", n, MaxNameLen)
	}
}

func (m *GroupCallStart) parse(d *decoder) {
	n := int(d.u16())
	if d.err != nil {
		return
	}
	switch {
	case n > MaxCallees:
		d.fail(fmt.Errorf("%w: to has %d entries, limit %d", ErrTooLong, n, MaxCallees))
		return
	case n == 0:
		d.fail(fmt.Errorf("%w: a group call names nobody", ErrBadValue))
		return
	case n*2 > len(d.b):
		d.fail(fmt.Errorf("%w: to claims %d entries", ErrShort, n))
		return
	}
	m.To = make([]string, n)
	for i := range m.To {
		m.To[i] = d.str("to", MaxNameLen)
	}
}
