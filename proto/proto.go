package proto

import "errors"

// Protocol versions. Peers announce the range they speak in [Hello] and use
// the highest version both speak (see [Negotiate]); the version decides how
// records and lists are encoded (see the package documentation, "Versions",
// for the history and the rules of change).
const (
	// Version1 (2026-11) is the first version: control stream and voice
	// datagrams. Records in lists are not length-prefixed.
	Version1 uint16 = 1
	// Version2 (2026-12) makes the format extensible: every record is
	// length-prefixed, split lists carry a "more follows" flag, Hello
	// carries a version range and feature bits, and unknown voice flags
	// are ignored.
	Version2 uint16 = 2

	// Version is the newest version this package speaks.
	Version = Version2
	// MinVersion is the oldest version this package still speaks.
	MinVersion = Version1
)

// Features is a set of optional capabilities announced in [Hello]. A
// feature is used on a connection only when both peers announce it (see
// [Negotiate]); bits a peer does not know are ignored. Bits are assigned
// here, never reused, and documented with the version that added them.
// Version 2 added the field with no bits, so that later capabilities can be
// offered without a new version; [FeatureHistory] is the first.
type Features uint32

// SupportedFeatures is the set of features this package implements.
const SupportedFeatures Features = FeatureHistory | FeatureProbe | FeatureEcho | FeatureAlarm | FeatureMonitor | FeatureWhisper | FeatureGroupCall

// ALPN is the TLS application protocol negotiated on the QUIC connection. It
// names the major version of the transport, which stays "hark/1" for as long
// as versions are negotiated in [Hello]: a new ALPN would lock every older
// peer out at the TLS handshake, so it changes only for a change that Hello
// cannot negotiate.
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
