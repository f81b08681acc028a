// Package proto is Hark's wire format: the messages of the control stream and
// the header of voice datagrams. It is the specification; the relay, the client
// library and the gateway only speak through it.
//
// # Transport
//
// A client opens one QUIC connection (TLS 1.3, ALPN [ALPN]) with datagrams
// enabled (RFC 9221) and one bidirectional stream, the control stream. Control
// messages travel on that stream, reliable and ordered. Voice travels as QUIC
// datagrams, one Opus packet each.
//
// # Control stream framing
//
//	+--------+--------+--------+----------------------+
//	| length (u16, BE)| type   | body (length-1 bytes)|
//	+--------+--------+--------+----------------------+
//
// length counts the type byte and the body, so it is at least 1 and at most
// [MaxMessageSize]. Bodies are sequences of fields in a fixed order:
// integers are big-endian; a string is a u16 byte length followed by UTF-8
// bytes, each string field having its own limit; a bytes field is a u16 byte
// length followed by that many bytes of any value; a list is a u16 count
// followed by its elements. A field marked optional is the last of its
// message and may be left out entirely (the decoder then sees no bytes
// after the fields before it). A decoder ignores bytes after the fields it knows
// (so a later version may append fields) and a reader skips messages whose
// type it does not know (so old clients survive new servers).
//
// The conversation:
//
//	client                         relay
//	Hello{Version, Software}  ->
//	                          <-   Hello{Version, Software}
//	Auth{Name, Password[, Ticket]} ->
//	                          <-   Welcome{Session, Name, Roles, Channels, DefaultChannel}
//	                          <-   Ticket{Ticket, Lifetime} (relays with passwords)
//	                               or Error{CodeAuth…} and the connection closes
//	Join{Channel}             ->
//	                          <-   Joined{Channel, ID, Mode}, Presence snapshot
//	FloorRequest{ID}          ->
//	                          <-   FloorGrant{ID} or FloorDeny{ID, Holder, Reason}
//	voice datagrams           ->   (start flag on the first, end flag on the last)
//	                          <-   Talking{ID, Session, Name, true} to everyone in the channel
//
// A client that lost its connection logs in again with Auth{Name, Password,
// Ticket}: the relay accepts a valid ticket without checking the password.
// Pings from the client are padded (see [Ping]) so that a relay that
// restarted answers the old connection's next ping with a QUIC stateless
// reset at once.
//
// A presence snapshot or session list too big for one message is sent as a
// first message followed by [PresenceChange] (kind online) or further
// [Sessions] messages for the rest.
//
// # Voice datagrams
//
// See [VoiceHeader]: a 16-byte header followed by one Opus packet.
package proto
