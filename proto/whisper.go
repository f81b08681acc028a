package proto

import "encoding/binary"

// Calls (whisper): hold to talk to one user only. A client sends
// [WhisperStart] naming the user; the relay answers [FloorGrant] for
// [WhisperChannel], or [FloorDeny] (Channel WhisperChannel) when someone
// else is already calling that user, or an [Error] (About TypeWhisperStart):
// CodeNoUser when the user is not online or their app cannot take calls,
// CodeBusy during a page. The caller then sends voice frames with Channel
// WhisperChannel, the first with [FlagStart], the last with [FlagEnd], and
// may end the call with [WhisperStop] as well (covering a lost end frame).
// The relay forwards the frames to the callee alone, unchanged but for the
// sender (Channel stays WhisperChannel, which is how the callee knows the
// frame is for it alone), and tells the caller and the callee when the call
// starts and ends with [Whisper]. A call holds no channel floor: it is heard
// while someone talks in the callee's channel, and the callee may call back
// while a channel is busy. A page pre-empts calls as it does channels.
// Calls are not recorded in history. Added in version 2 as the feature
// [FeatureWhisper]; the relay refuses a call to a session without it.
//
//	caller                       relay                         callee
//	WhisperStart{To: bob} ->
//	                        <- FloorGrant{WhisperChannel}
//	                        <- Whisper{alice→bob, active}  -> Whisper{alice→bob, active}
//	voice (WhisperChannel) ->                              -> voice (WhisperChannel)
//	voice, FlagEnd         ->                              -> voice, FlagEnd
//	                        <- Whisper{alice→bob}          -> Whisper{alice→bob}

// Message types of calls.
const (
	TypeWhisperStart MsgType = 38 // C    call one user: ask for the floor to them
	TypeWhisperStop  MsgType = 39 // C    end the call
	TypeWhisper      MsgType = 40 // R    a call to or from this session started or ended
)

// FeatureWhisper: calls to one user ([WhisperStart]). Assigned in version 2.
const FeatureWhisper Features = 1 << 5

// WhisperChannel is the channel id in voice datagrams of a call, both ways.
const WhisperChannel uint16 = 0xFFFD

// WhisperStart asks to call one user.
//
//	to str (MaxNameLen) the user's name
type WhisperStart struct {
	To string
}

// WhisperStop ends the caller's call.
type WhisperStop struct{}

// Whisper tells the caller and the callee that a call started or ended.
//
//	from     u32  the caller's session
//	fromName str  (MaxNameLen)
//	to       u32  the callee's session
//	toName   str  (MaxNameLen)
//	active   u8   1: started, 0: ended
type Whisper struct {
	From     uint32
	FromName string
	To       uint32
	ToName   string
	Active   bool
}

func (m *WhisperStart) Type() MsgType { return TypeWhisperStart }
func (m *WhisperStop) Type() MsgType  { return TypeWhisperStop }
func (m *Whisper) Type() MsgType      { return TypeWhisper }

func (m *WhisperStart) AppendBody(b []byte) []byte { return appendStr(b, m.To) }
func (m *WhisperStart) check(c *checker)           { c.str("to", m.To, MaxNameLen) }
func (m *WhisperStart) parse(d *decoder)           { m.To = d.str("to", MaxNameLen) }

func (m *WhisperStop) AppendBody(b []byte) []byte { return b }
func (m *WhisperStop) check(*checker)             {}
func (m *WhisperStop) parse(*decoder)             {}

func (m *Whisper) AppendBody(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, m.From)
	b = appendStr(b, m.FromName)
	b = binary.BigEndian.AppendUint32(b, m.To)
	b = appendStr(b, m.ToName)
	return appendBool(b, m.Active)
}
func (m *Whisper) check(c *checker) {
	c.str("from name", m.FromName, MaxNameLen)
	c.str("to name", m.ToName, MaxNameLen)
}
func (m *Whisper) parse(d *decoder) {
	m.From = d.u32()
	m.FromName = d.str("from name", MaxNameLen)
	m.To = d.u32()
	m.ToName = d.str("to name", MaxNameLen)
	m.Active = d.bool()
}
