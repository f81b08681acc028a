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
// integers are big-endian; a bool is a u8, 0 or 1 (any non-zero value reads
// as true); a string is a u16 byte length followed by UTF-8 bytes, each
// string field having its own limit; a bytes field is a u16 byte length
// followed by that many bytes of any value; a record is a group of fields
// that appears in lists ([ChannelInfo], [UserInfo], [SessionInfo]); a list
// is a u16 count followed by its records. A field marked optional is the
// last of its message and may be left out entirely (the decoder then sees
// no bytes after the fields before it).
//
// From version 2 on a record is written as a u16 byte length followed by its
// fields, wherever it appears (in a list or alone, as in [Joined] and
// [PresenceChange]):
//
//	+--------+--------+---------------------------------+
//	| record length   | fields (record length bytes)    |
//	+--------+--------+---------------------------------+
//
// In version 1 a record's fields follow each other without a length.
//
// # Versions
//
// The first message each way is [Hello]. Each side names the lowest and the
// highest version it speaks and the [Features] it offers; both then use the
// highest version in both ranges and the features both offer ([Negotiate]).
// When the ranges do not overlap the relay answers [Error] with
// [CodeVersion] and closes. The version decides how messages are encoded
// ([AppendMessageFor], [Reader.SetVersion]); Hello, Auth and Error, which
// may come before a version is agreed, read the same in every version.
//
// Hello's first field is the lowest version the sender speaks, because that
// is the field a version-1 peer reads (and a v1 relay refuses anything but
// 1); the highest version and the features follow as fields a v1 peer
// ignores. So a client speaking versions 1 to 2 logs in to a v1 relay and
// speaks v1 with it, and a v1 client (a box on a wall that nobody updates)
// logs in to a newer relay, which speaks v1 to it: it encodes records
// without lengths, sends a big presence snapshot the v1 way (see [Presence])
// and forwards only voice flags v1 knows.
//
// The ALPN stays "hark/1": it would lock older peers out at the TLS
// handshake, so it changes only for a change that Hello cannot negotiate.
//
// Version history:
//
//	1  (2026-11) first version: control stream, voice datagrams.
//	2  (2026-12) extensible format: records are length-prefixed; Presence
//	   and Sessions split over several messages carry a "more follows" flag;
//	   Hello carries the highest version spoken and feature bits; receivers
//	   ignore unknown voice flags. No feature bits are assigned yet.
//	2  (2026-12, later) feature [FeatureHistory] (bit 0): the messages
//	   TextAck, HistoryQuery, History, HistoryRead, Fetch, Recording,
//	   ChannelSet and ChannelSettings (types 27 to 34); optional fields
//	   Text.ID/ClientID/Flags and ChannelInfo.History (see history.go). No
//	   new version: every addition is a new type or an optional field.
//	2  (2026-12, later) feature [FeatureProbe] (bit 1): the datagram kind
//	   [KindProbe], which the relay echoes (path measurements, talk ping).
//	2  (2026-12, later) feature [FeatureEcho] (bit 2): echo tests through
//	   [EchoChannel], played back with the voice flag [FlagEcho].
//	2  (2026-12, later) feature [FeatureAlarm] (bit 3): alarms, a [Ring]
//	   with the optional fields Flags ([RingAlarm]), Alarm and ID (its
//	   history id, so a ring heard live is not "missed" later), and the
//	   message [AlarmAck] (type 35).
//	2  (2026-12, later) per-channel rules: optional ChannelInfo fields
//	   Access ([ChannelAccess]: listen-only, may not listen) and MaxMillis
//	   (the channel's longest transmission), computed per session. No
//	   feature bit: a peer that skips them is refused by the relay in words.
//	2  (2026-12, later) feature [FeatureMonitor] (bit 4): listening to
//	   several channels, [Monitor] and [Monitoring] (types 36 and 37).
//	2  (2026-12, later) feature [FeatureWhisper] (bit 5): calls to one user,
//	   [WhisperStart], [WhisperStop] and [Whisper] (types 38 to 40), voice
//	   through [WhisperChannel].
//	2  (2026-12, later) feature [FeatureGroupCall] (bit 6): calls to
//	   several users, [GroupCallStart] (type 41); the rest as a call.
//
// # Rules that keep the format extensible
//
// Every decoder in this package follows them, and every future one must:
//
//   - A message of an unknown type is skipped ([Reader] counts it in
//     [Reader.Skipped]); a datagram of an unknown kind is dropped and counted.
//   - Bytes after the fields a decoder knows are ignored, at the end of a
//     message and at the end of each record (the record's length says where
//     the next one starts).
//   - A field added after a message's or a record's first version is
//     optional: the decoder reads it only when bytes remain and otherwise
//     leaves its zero value, because older peers do not send it.
//   - Voice flags and feature bits a receiver does not know are ignored.
//   - Every length read from the wire is checked against a limit before
//     anything is allocated; a message that breaks one is an error for that
//     message only (the stream goes on), a broken frame length ends the
//     stream.
//
// How to change the format:
//
//   - A new field goes at the end of its message or record, as an optional
//     field (above). Older peers skip it; no new version is needed. Say in
//     its layout comment which version added it, and do not give it a
//     meaning older peers could misread by its absence. A field added to a
//     record is written only from version 2 on: a version-1 record has no
//     length, so a v1 peer could not skip it.
//   - A new message gets a new type number (never reuse one). Older peers
//     skip it, so it must be optional to understand: a request an older
//     relay does not answer needs a version or feature check first.
//   - A new optional capability (the peer must do something new) gets a
//     [Features] bit, used only when both sides offer it.
//   - A change an older peer cannot skip (a new layout, a field in the
//     middle, a new meaning) needs a new version: add a VersionN constant,
//     raise [Version], encode per version (see the versioned messages and
//     [AppendMessageFor]), keep decoding and encoding every version from
//     [MinVersion], and extend the compatibility tests (the frozen v1 copy
//     in internal/protov1 drives them).
//   - A new voice flag is ignored by receivers of version 2 on, but a
//     version-1 receiver drops a frame that carries a flag it does not know:
//     never send one to a v1 peer (see [ClientVoiceFlags]).
//   - Sizes of records come from this package ([UserInfo.EncodedLen],
//     [SplitPresence]); code elsewhere never counts bytes of the format.
//
// # The conversation
//
//	client                         relay
//	Hello{Version…MaxVersion, Features, Software} ->
//	                          <-   Hello{Version…MaxVersion, Features, Software}
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
// A client may send Auth right after Hello without waiting for the relay's
// Hello (both read the same in every version).
//
// A client that lost its connection logs in again with Auth{Name, Password,
// Ticket}: the relay accepts a valid ticket without checking the password.
// Pings from the client are padded (see [Ping]) so that a relay that
// restarted answers the old connection's next ping with a QUIC stateless
// reset at once.
//
// A presence snapshot or session list too big for one message is split
// ([SplitPresence], [SplitSessions]): from version 2 on as several Presence
// or Sessions messages, all but the last with More set; to a version-1 peer
// as a first Presence followed by [PresenceChange] (kind online) for the
// rest, or as several Sessions messages.
//
// # Voice datagrams
//
// See [VoiceHeader]: a 16-byte header followed by one Opus packet.
package proto
