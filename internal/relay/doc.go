// Package relay is Hark's voice relay: it accepts QUIC connections from
// clients, logs them in, keeps presence and channels, runs floor control and
// forwards voice datagrams to the members of the sender's channel.
//
// See package proto for the wire format; this comment documents the relay's
// policies.
//
// # Transport
//
// QUIC (quic-go) with datagrams enabled, TLS 1.3, ALPN proto.ALPN, UDP port
// proto.DefaultPort by default. A client opens one bidirectional stream, the
// control stream. When the relay ends a connection it sends Bye (or Error at
// login) on the stream, waits up to Config.ByeLinger for the client to close,
// then closes the QUIC connection with application error code = the
// proto.Code and reason = the same human text, so a client learns why even if
// the last message is lost.
//
// # Login
//
// Hello, then Auth. The relay speaks every protocol version from
// proto.MinVersion to proto.Version and uses the highest one the client also
// speaks (proto.Negotiate); a client with no version in common gets
// Error{CodeVersion} saying which side to update. Each session's messages are
// encoded for its own version, so a version-1 box nobody updated keeps
// working: it gets records without lengths, presence the v1 way (below) and
// only voice flags v1 knows.
//
// With a users file, a wrong name or password gets Error{CodeAuth,
// "wrong user name or password"} and the connection closes; failures are
// counted and limited per remote IP address and name (Config.AuthFailures in
// a burst, then one per Config.AuthFailureEvery; beyond that
// Error{CodeRateLimit} without checking the password), and per address over
// all names except from loopback, where a gateway logs many people in (from
// loopback failures refuse nothing, unless Config.LimitLoopback: the gateway
// limits them per browser, so that a wrong password in one browser does not
// lock the name out of all; names that failed lately get password checks
// after the others). In open mode (Config.Open) any valid name
// is accepted without a password and every session gets the page role, so a
// quick LAN start can try a page; nobody is admin.
//
// After Welcome the relay sends a Presence snapshot (also after every Join).
// A snapshot too big for one message comes, from version 2 on, as several
// Presence messages, all but the last with More set; to a version-1 client
// as a Presence with the first users followed by PresenceChange{Online} for
// the rest. The admin session list is split the same way (several Sessions
// messages, More set on all but the last from version 2 on). Every
// PresenceChange (online, offline, moved) goes to every session, including
// the one it is about, at most every 100 ms with the others of that time
// (presence.go). In a storm (a restart: everyone logs in again) a session
// gets each user's net change instead (a login and a join within 100 ms are
// one PresenceChange{Online} with the channel; someone who came and went is
// not mentioned), or one snapshot when that is cheaper, and a session that
// logs in or joins during a storm gets its snapshot up to 100 ms later.
// Applied in order ("Presence replaces, PresenceChange updates"), every
// session's roster ends the same as the relay's.
//
// Duplicate login: with accounts, the NEWEST login wins (the password
// proves who it is). The older session gets Bye{CodeReplaced, "you logged
// in from another place"} and is closed (an intercom box that reconnects
// after a network change must not be locked out by its own dead session).
// In open mode nothing proves who a name belongs to, so a name that is
// online is refused with Error{CodeNameTaken, "alice is already logged in:
// choose another name"} — if its session answers a Ping within
// Config.OpenProbe; one that does not is dead and is replaced. There are
// never two sessions with one name.
//
// Names: a name that breaks accounts.CheckName is refused with
// Error{CodeBadName} saying which characters are allowed. An admin's Kick
// with BanSeconds keeps the name out for that long (Error{CodeBanned} at
// login, with the time left; bans live in memory). When Users is a
// UserList (accounts.Store), the relay checks it every
// Config.UserCheckEvery and ends the sessions of deleted users with
// Bye{CodeKicked, "your account was removed from this relay"}.
//
// # Channels and floor
//
// Channels come from the configuration (accounts.Channels); their voice ids
// are 1, 2, 3… in configuration order. Join{""} joins the default channel.
//
// A push-to-talk channel has one talker at a time. FloorRequest is answered
// with FloorGrant{MaxMillis} or FloorDeny{Holder, HolderName, "busy: alice is
// talking"}. A voice frame with FlagStart while the floor is free takes it
// implicitly (saving a round trip); so does any frame while the floor is free
// unless the sender's last attempt was refused or cut (then it needs a new
// FlagStart or FloorRequest) — this covers a lost start frame. A frame that
// arrives after its own transmission's end frame (sequence number not after
// the end frame's) does not start a new one (dropped, "late"). Frames from
// anyone but the holder are dropped (counted "no_floor"); a start frame into
// a busy floor is also answered with FloorDeny. The floor frees at a frame
// with FlagEnd (which is still forwarded), at FloorRelease, when the
// holder's frames stop for Config.FloorTimeout (a granted floor waits
// Config.GrantTimeout for its first frame), or at Config.MaxTalk (the talker
// gets Error{CodeTooLong}). Every change is announced to the channel's
// members with Talking.
//
// An open channel lets several talk at once (listeners mix): FloorRequest is
// always granted and Talking is announced per talker, with the same end
// rules.
//
// The relay stamps the authenticated session id into every forwarded frame
// and drops frames whose channel id is not the sender's channel
// ("wrong_channel"). FlagPriority from a client is cleared, and so is every
// flag outside proto.ClientVoiceFlags (unknown flags are ignored, not
// refused, and never forwarded).
//
// # Page
//
// PageStart (role page; otherwise Error{CodeForbidden}) is answered with
// FloorGrant{Channel: proto.PageChannel}. Page{Active: true} goes to every
// session, and Talking{Priority: true} to each channel. Every talker is
// pre-empted: Talking false for them, Error{CodeBusy, "paged over by NAME"}
// to them, and their frames are dropped ("preempted") until the page ends.
// The pager's frames with channel PageChannel go to every session (those in
// no channel too) with FlagPriority set and the listener's channel id. The
// page ends at PageStop (or FloorRelease of PageChannel), a frame with
// FlagEnd, Config.FloorTimeout without frames, Config.MaxTalk, or when the
// pager leaves; Page{Active: false} goes to everyone.
//
// # Ring and text
//
// Ring from anyone goes to every session, the sender included; the relay
// fills From, FromName and Time. Text to a channel goes to its members (and
// back to the sender if not a member); Text to a user goes to that user and
// back to the sender (Error{CodeNoUser} if not online, unless the relay
// keeps history and the name is an account: see History). The relay fills From,
// FromName and Time (unix ms, relay clock).
//
// # History
//
// With Config.History (a store.Store) the relay keeps what passes: channel
// texts (channels with history=text or voice), private texts, rings, pages,
// and the transmissions of channels with history=voice (their Opus packets
// with offsets from the talker's timestamps; a transmission longer than the
// channel's max-length or max-tx-bytes is kept cut, flag ItemCut). Each
// item gets an id from one increasing sequence; texts go out live with
// their id, and a sender whose client offered proto.FeatureHistory gets
// TextAck after the text is committed (TextSent, TextDelivered, or
// TextWaiting for a private text to a known account that is offline: it is
// stored and delivered when they next log in, and the sender gets
// TextDelivered then if online). A text resent with a ClientID the relay
// has seen from that sender is answered with the same TextAck and not sent
// again. A private text to a name that is no account is refused as before.
//
// After login (after Welcome and the presence snapshot) a FeatureHistory
// session gets History{HistoryMissed}: up to 200 items, oldest first, newer
// than its user's read position and not its own (More when there were
// more: page with HistoryQuery{After}); after a Join, the channel's items
// since then that it did not receive live. HistoryRead moves the user's
// read position forward (never back), so a reconnect or another device of
// the same user does not get them again. A session without the feature gets
// the private texts waiting for it as Text{TextFromHistory}, once.
//
// HistoryQuery is answered with History (newest first; oldest first with
// After; as many items as fit in one message, More set when some were left
// out), Fetch with Recording messages (the first at once, the rest paced at
// 4× real time so a replay never crowds out the control stream; at most
// two at once per session) or Error{CodeNotFound}. ChannelSet (admin) changes
// a channel's settings at once and is answered with ChannelSettings; the
// relay also follows changes that `relay channel set` makes in the store
// from another process, within a second. Joined and Welcome carry each
// channel's history setting; when a channel's mode or history setting
// changes, its members get Joined again with the new ChannelInfo (a front
// end shows at once that the channel now records voice). A relay without a store answers these requests
// with Error{CodeUnavailable}.
//
// Nothing touches the disk on a network goroutine or under the relay's lock:
// writes go through the store's bounded queue (full: a counted history drop,
// the text still goes out live without an id), frames reach the recorder
// through a bounded non-blocking queue, and reads run on two history workers,
// each session's in the order they came (its catch-up before the answers to
// its requests; sessions take turns). A session with 32 requests waiting
// gets Error{CodeUnavailable} for more; catch-ups are never dropped.
// Metrics: hark_relay_history_*.
//
// # Cluster
//
// With Config.Cluster the relay is one of several sharing channels,
// floors, presence, texts, rings, kicks and pages through NATS (package
// cluster); cluster.go says what crosses between relays and how. Session
// ids then carry the relay's node number in their top 12 bits; a
// push-to-talk floor that is free here is taken through the cluster (the
// talker's first frames wait for the answer), and FloorDeny names a holder
// at any relay.
//
// # Admin
//
// ListSessions is answered with Sessions (several messages if the list is
// long); Kick{Name} ends that session with Bye{CodeKicked}. Both need the
// admin role, otherwise Error{CodeForbidden}.
//
// # Fan-out and limits
//
// One goroutine per connection reads datagrams and one reads the control
// stream; neither ever waits for a listener. A talker's first frame goes
// through floor control under the relay's lock; the frames after it skip
// the lock (a pass, withdrawn when the floor ends), so talkers fan out in
// parallel on every core. The fan-out hands each copy to quic-go's
// SendDatagram itself when the listener's QUIC queue has room as far as the
// relay can tell (SendDatagram blocks when that queue is full; see
// fastpath.go), and otherwise to the listener's sender goroutine through a
// bounded drop-oldest queue (Config.VoiceQueue), so a slow or dead listener
// only loses its own frames ("queue_full"); a direct send that blocks
// anyway closes that listener's connection after half a second
// (direct_stuck_total). Control messages to a session go through a bounded queue
// (Config.ControlQueue bytes); a session that lets it overflow is closed.
// Presence is state: a session whose queue is long has presence changes
// skipped and gets a fresh Presence snapshot once its queue drained, so a
// login storm (every login is news to every session) does not close slow
// but live clients. Presence changes are queued in batches, at most one
// per session every 100 ms, each change encoded once per protocol version.
//
// Bad datagrams (short, unknown kind, too long, zero
// duration) are dropped and counted by reason, never fatal. So are
// datagrams at the UDP port that belong to no session (garbage, scans,
// stale connections): QUIC drops them, and the relay counts them by the
// reason quic-go gives (Stats.UDPDropped, hark_relay_udp_dropped_total)
// through the transport's qlog tracer, plus "not_quic" for datagrams whose
// first byte cannot start a QUIC packet. Per-session
// token buckets limit voice frames (Config.VoiceRate) and control messages
// (Config.ControlRate); excess is dropped and counted. QUIC keep-alives and
// Config.IdleTimeout end dead connections; Ping is answered with Pong.
//
// Shutdown (context cancelled or Close) sends Bye{CodeShutdown} to everyone,
// waits up to Config.ShutdownGrace, then closes.
//
// Metrics: Relay.Metrics is a Prometheus registry of its own (not the
// global one) with hark_relay_* counters (sessions, frames in/out, frames
// dropped by reason, bad datagrams by reason, UDP datagrams QUIC dropped
// by reason, floor grants/denials, auth
// failures, queue depth, …) plus Go and process metrics; Relay.Stats is
// the same as a struct.
package relay
