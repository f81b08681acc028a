package proto

import "errors"

// Version is the protocol version spoken by this package. Peers exchange it in
// [Hello]; the relay refuses versions it does not speak with [CodeVersion].
//
// History:
//
//	1  (2026-11) first version: control stream + voice datagrams.
const Version = 1

// ALPN is the TLS application protocol negotiated on the QUIC connection. It
// carries the major version so that incompatible peers fail at the handshake
// with a clear TLS alert instead of parsing each other's bytes.
const ALPN = "hark/1"

// DefaultPort is the relay's UDP port when an address gives none.
const DefaultPort = 4275

// Limits. Every length read from the wire is checked against one of these
// before anything is allocated.
const (
	MaxMessageSize  = 16 << 10 // control message: type byte + body
	MaxNameLen      = 64       // user names
	MaxChannelLen   = 64       // channel names
	MaxPasswordLen  = 256      // passwords
	MaxTextLen      = 4096     // text messages, ring messages
	MaxReasonLen    = 512      // human text in errors, denials, byes
	MaxSoftwareLen  = 128      // software descriptions in Hello
	MaxListLen      = 4096     // entries in a list (presence, sessions, channels)
	MaxVoicePayload = 1200     // Opus bytes in one datagram (fits loopback and most paths)
	MaxTicketLen    = 256      // resume tickets (Ticket, Auth)
	MaxPingPadding  = 1024     // padding bytes in a Ping
)

// Errors returned by parsers. They are wrapped with context; test with errors.Is.
var (
	ErrShort        = errors.New("proto: message too short")
	ErrTooLong      = errors.New("proto: field or message exceeds its limit")
	ErrBadType      = errors.New("proto: wrong message or datagram type")
	ErrBadValue     = errors.New("proto: invalid field value")
	ErrUnknownType  = errors.New("proto: unknown message type")
	ErrEmptyMessage = errors.New("proto: empty message")
	ErrFraming      = errors.New("proto: control stream framing lost")
)
