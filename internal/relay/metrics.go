package relay

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// Reasons a voice frame was not forwarded to a listener, or not accepted.
type dropReason int

const (
	dropQueueFull    dropReason = iota // a listener's queue was full: its oldest frame was dropped
	dropNoFloor                        // ptt channel: the sender does not hold the floor
	dropWrongChannel                   // the frame's channel is not the sender's channel
	dropPreempted                      // a page is on the air
	dropRateLimit                      // the sender exceeded its frame rate
	dropNotJoined                      // the sender is in no channel
	dropSendError                      // QUIC refused the datagram (too large for the path, connection closing)
	dropLate                           // a frame of a transmission that had already ended
	dropEchoFull                       // an echo test longer than proto.MaxEchoDuration
	dropForbidden                      // the channel's talk= rule does not let the sender talk
	numDropReasons
)

var dropNames = [numDropReasons]string{"queue_full", "no_floor", "wrong_channel", "preempted", "rate_limit", "not_joined", "send_error", "late", "echo_full", "forbidden"}

// Reasons a datagram could not be parsed.
type badReason int

const (
	badShort   badReason = iota // shorter than a voice header plus one byte
	badKind                     // first byte is not a known datagram kind
	badTooLong                  // payload over proto.MaxVoicePayload
	badValue                    // zero duration
	numBadReasons
)

var badNames = [numBadReasons]string{"short", "kind", "too_long", "bad_value"}

// counters are the relay's statistics, updated atomically from any goroutine.
type counters struct {
	logins, authFailures, authLimited         atomic.Uint64
	authBusy, passwordChecks                  atomic.Uint64
	resumed, ticketsRefused                   atomic.Uint64
	framesIn, framesQueued, framesOut         atomic.Uint64
	framesDirect, directStuck                 atomic.Uint64
	dropped                                   [numDropReasons]atomic.Uint64
	bad                                       [numBadReasons]atomic.Uint64
	floorGrants, floorDenials                 atomic.Uint64
	controlIn, controlLimited, controlOverrun atomic.Uint64
	rings, texts, pages, kicks, replaced      atomic.Uint64
	badMessages                               atomic.Uint64
	nameTaken, banned                         atomic.Uint64
	probes, echoes                            atomic.Uint64
	ruleRefusals                              atomic.Uint64
	udpDropped                                [numUDPReasons]atomic.Uint64
	connRefused                               [numRefusedReasons]atomic.Uint64
	placesExpired                             atomic.Uint64
}

// Reasons a new connection was refused before its handshake (admit.go).
type refusedReason int

const (
	refusedBusy     refusedReason = iota // Config.MaxLogins logins were under way
	refusedShutdown                      // the relay was shutting down
	numRefusedReasons
)

var refusedNames = [numRefusedReasons]string{"busy", "shutdown"}

// Stats is a snapshot of the relay's counters. The maps are fresh copies
// owned by the caller.
type Stats struct {
	Sessions        int    // sessions logged in now
	Logins          uint64 // successful logins
	AuthFailures    uint64 // wrong name or password
	AuthRateLimited uint64 // logins refused because of too many failures from the address
	// AuthBusy counts logins refused because no password check could run
	// within Config.PasswordWait (the client retries); not failures.
	AuthBusy uint64
	// PasswordChecks counts password checks run (each a bcrypt hash).
	PasswordChecks uint64
	// Resumed counts logins accepted on a resume ticket (no password
	// check); TicketsRefused tickets refused (expired, forged, another
	// relay's, or the password changed), after which the password was
	// checked instead.
	Resumed, TicketsRefused uint64
	// FramesIn counts voice datagrams received from logged-in sessions
	// (well-formed or not); FramesQueued counts copies put in listeners'
	// queues; FramesOut counts datagrams handed to QUIC for listeners.
	FramesIn, FramesQueued, FramesOut uint64
	// FramesDirect counts the datagrams of FramesOut sent straight from the
	// fan-out (not through a listener's queue); DirectStuck sessions closed
	// because such a send blocked for half a second (their QUIC send queue
	// stayed full).
	FramesDirect, DirectStuck uint64
	// Dropped counts frames not forwarded, by reason: queue_full, no_floor,
	// wrong_channel, preempted, rate_limit, not_joined, send_error, late.
	Dropped map[string]uint64
	// BadDatagrams counts datagrams that did not parse, by reason: short,
	// kind, too_long, bad_value.
	BadDatagrams map[string]uint64
	// UDPDropped counts datagrams at the relay's UDP port that QUIC dropped
	// before they reached a session (garbage, scans, packets of closed
	// connections), by reason: not_quic, header_parse_error,
	// unknown_connection_id, unexpected_packet, unexpected_version,
	// version_negotiation (answered, not dropped: a QUIC version the relay
	// does not speak), dos_prevention, other.
	UDPDropped map[string]uint64
	// ConnRefused counts new connections refused before their handshake,
	// by reason: busy (Config.MaxLogins logins were under way; the client
	// retries), shutdown (the relay was shutting down).
	ConnRefused map[string]uint64
	// LoginPlacesExpired counts logins that outlived
	// Config.LoginPlaceTime and gave their place among the MaxLogins
	// under way to the next (a slow network, or a client that gave up its
	// handshake); the login itself went on.
	LoginPlacesExpired uint64
	// LoginPlaces is how many logins may be under way at once now (the
	// door's places: from Config.MaxLogins to Config.MaxLoginsGrown, see
	// loginDoor), LoginPlacesMost the most it had since the start.
	LoginPlaces, LoginPlacesMost int
	FloorGrants                  uint64 // floors given (by request, implicitly, pages)
	FloorDenials                 uint64 // floor requests refused because someone else talks
	// ControlIn counts control messages received; ControlRateLimited those
	// dropped by the rate limit; ControlOverruns sessions closed because
	// their outgoing control queue overflowed; BadMessages control messages
	// that did not parse.
	ControlIn, ControlRateLimited, ControlOverruns, BadMessages uint64
	Rings, Texts, Pages, Kicks, Replaced                        uint64
	// NameTaken counts logins refused because the name was online (open
	// mode); Banned those refused because an admin banned the name.
	NameTaken, Banned uint64
	// Probes counts path probes echoed (talk ping); Echoes echo tests
	// played back ("test my microphone").
	Probes, Echoes uint64
	// RuleRefusals counts what a channel's rules refused: a join or monitor
	// of a channel the user may not listen to, a talk or text where the
	// user may not talk, and members taken out or cut when an admin
	// changed the rules.
	RuleRefusals    uint64
	VoiceQueueDepth int // frames waiting in all listeners' queues now
}

func (c *counters) snapshot() Stats {
	s := Stats{
		Logins: c.logins.Load(), AuthFailures: c.authFailures.Load(), AuthRateLimited: c.authLimited.Load(),
		AuthBusy: c.authBusy.Load(), PasswordChecks: c.passwordChecks.Load(),
		Resumed: c.resumed.Load(), TicketsRefused: c.ticketsRefused.Load(),
		FramesIn: c.framesIn.Load(), FramesQueued: c.framesQueued.Load(), FramesOut: c.framesOut.Load(),
		FramesDirect: c.framesDirect.Load(), DirectStuck: c.directStuck.Load(),
		Dropped: map[string]uint64{}, BadDatagrams: map[string]uint64{}, UDPDropped: map[string]uint64{},
		ConnRefused: map[string]uint64{},
		FloorGrants: c.floorGrants.Load(), FloorDenials: c.floorDenials.Load(),
		ControlIn: c.controlIn.Load(), ControlRateLimited: c.controlLimited.Load(),
		ControlOverruns: c.controlOverrun.Load(), BadMessages: c.badMessages.Load(),
		Rings: c.rings.Load(), Texts: c.texts.Load(), Pages: c.pages.Load(),
		Kicks: c.kicks.Load(), Replaced: c.replaced.Load(),
		NameTaken: c.nameTaken.Load(), Banned: c.banned.Load(), Probes: c.probes.Load(), Echoes: c.echoes.Load(),
		RuleRefusals: c.ruleRefusals.Load(), LoginPlacesExpired: c.placesExpired.Load(),
	}
	for i := range c.dropped {
		s.Dropped[dropNames[i]] = c.dropped[i].Load()
	}
	for i := range c.bad {
		s.BadDatagrams[badNames[i]] = c.bad[i].Load()
	}
	for i := range c.udpDropped {
		s.UDPDropped[udpNames[i]] = c.udpDropped[i].Load()
	}
	for i := range c.connRefused {
		s.ConnRefused[refusedNames[i]] = c.connRefused[i].Load()
	}
	return s
}

// collector exports the counters to Prometheus at scrape time.
type collector struct {
	r *Relay

	authBusy, pwChecks, resumed, ticketsRefused,
	framesDirect, directStuck *prometheus.Desc
	connRefused, placesExpired, places, placesMost,
	sessions, logins, authFail, authLimited, framesIn, framesOut, dropped, bad, udpDropped,
	grants, denials, ctlIn, ctlLimited, ctlOverrun, badMsg, rings, texts, pages, kicks,
	refused, queueDepth, probes, echoes, ruleRefusals *prometheus.Desc
}

func newCollector(r *Relay) *collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("hark_relay_"+name, help, labels, nil)
	}
	return &collector{
		r:              r,
		sessions:       d("sessions", "Sessions logged in now."),
		logins:         d("logins_total", "Successful logins."),
		authFail:       d("auth_failures_total", "Logins refused for a wrong user name or password."),
		authLimited:    d("auth_rate_limited_total", "Logins refused because the address failed too often."),
		authBusy:       d("auth_busy_total", "Logins refused because the relay was busy checking other passwords (clients retry)."),
		pwChecks:       d("password_checks_total", "Password checks run (bcrypt hashes)."),
		resumed:        d("logins_resumed_total", "Logins accepted on a resume ticket, without a password check."),
		ticketsRefused: d("tickets_refused_total", "Resume tickets refused (expired, forged or outdated); the password was checked instead."),
		framesIn:       d("frames_in_total", "Voice datagrams received from logged-in sessions."),
		framesOut:      d("frames_out_total", "Voice datagrams sent to listeners."),
		framesDirect:   d("frames_direct_total", "Voice datagrams of frames_out_total sent straight from the fan-out, not through the listener's queue."),
		directStuck:    d("direct_stuck_total", "Sessions closed because their QUIC send queue stayed full for half a second."),
		dropped:        d("frames_dropped_total", "Voice frames not forwarded, by reason.", "reason"),
		bad:            d("bad_datagrams_total", "Datagrams that did not parse, by reason.", "reason"),
		connRefused:    d("connections_refused_total", "New connections refused before their handshake, by reason: busy (too many logins under way; clients retry), shutdown.", "reason"),
		placesExpired:  d("login_places_expired_total", "Logins that took longer than the relay's login place time and gave their place among the logins under way to the next (a slow network, or a client that gave up its handshake); the login went on."),
		udpDropped:     d("udp_dropped_total", "Datagrams at the UDP port that QUIC dropped before any session (garbage, scans, stale connections), by reason.", "reason"),
		grants:         d("floor_grants_total", "Floors given."),
		denials:        d("floor_denials_total", "Floor requests refused because someone else was talking."),
		ctlIn:          d("control_messages_total", "Control messages received."),
		ctlLimited:     d("control_rate_limited_total", "Control messages dropped by the per-session rate limit."),
		ctlOverrun:     d("control_overruns_total", "Sessions closed because they did not read their control messages."),
		badMsg:         d("bad_messages_total", "Control messages that did not parse."),
		rings:          d("rings_total", "Rings sent."),
		texts:          d("texts_total", "Text messages delivered."),
		pages:          d("pages_total", "Pages started."),
		kicks:          d("kicks_total", "Sessions kicked by an admin (or ended because the user was deleted)."),
		refused:        d("logins_refused_total", "Logins refused for the name: name_taken (online, open mode), banned (by an admin).", "reason"),
		queueDepth:     d("voice_queue_depth", "Voice frames waiting in all listeners' queues."),
		places:         d("login_places", "Logins that may be under way at once now (more are refused before their handshake; grows while logins finish promptly)."),
		placesMost:     d("login_places_most", "The most logins that could be under way at once since the relay started."),
		probes:         d("probes_total", "Path probes echoed to their senders (talk ping)."),
		echoes:         d("echo_tests_total", "Echo tests played back to their senders (test my microphone)."),
		ruleRefusals:   d("channel_rule_refusals_total", "Joins, talks and texts refused by a channel's talk= and listen= rules, and members taken out or cut when the rules changed."),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.sessions, c.logins, c.authFail, c.authLimited, c.framesIn,
		c.framesOut, c.framesDirect, c.directStuck, c.dropped, c.bad, c.udpDropped, c.grants, c.denials, c.ctlIn, c.ctlLimited, c.ctlOverrun,
		c.badMsg, c.rings, c.texts, c.pages, c.kicks, c.refused, c.queueDepth, c.authBusy, c.pwChecks, c.resumed, c.ticketsRefused, c.probes, c.echoes, c.ruleRefusals, c.connRefused, c.placesExpired, c.places, c.placesMost} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.r.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	ch <- prometheus.MustNewConstMetric(c.sessions, prometheus.GaugeValue, float64(s.Sessions))
	ch <- prometheus.MustNewConstMetric(c.queueDepth, prometheus.GaugeValue, float64(s.VoiceQueueDepth))
	ch <- prometheus.MustNewConstMetric(c.places, prometheus.GaugeValue, float64(s.LoginPlaces))
	ch <- prometheus.MustNewConstMetric(c.placesMost, prometheus.GaugeValue, float64(s.LoginPlacesMost))
	counter(c.logins, s.Logins)
	counter(c.authFail, s.AuthFailures)
	counter(c.authLimited, s.AuthRateLimited)
	counter(c.authBusy, s.AuthBusy)
	counter(c.pwChecks, s.PasswordChecks)
	counter(c.resumed, s.Resumed)
	counter(c.ticketsRefused, s.TicketsRefused)
	counter(c.framesIn, s.FramesIn)
	counter(c.probes, s.Probes)
	counter(c.echoes, s.Echoes)
	counter(c.ruleRefusals, s.RuleRefusals)
	counter(c.framesOut, s.FramesOut)
	counter(c.framesDirect, s.FramesDirect)
	counter(c.directStuck, s.DirectStuck)
	for k, v := range s.Dropped {
		counter(c.dropped, v, k)
	}
	for k, v := range s.BadDatagrams {
		counter(c.bad, v, k)
	}
	for k, v := range s.UDPDropped {
		counter(c.udpDropped, v, k)
	}
	for k, v := range s.ConnRefused {
		counter(c.connRefused, v, k)
	}
	counter(c.placesExpired, s.LoginPlacesExpired)
	counter(c.grants, s.FloorGrants)
	counter(c.denials, s.FloorDenials)
	counter(c.ctlIn, s.ControlIn)
	counter(c.ctlLimited, s.ControlRateLimited)
	counter(c.ctlOverrun, s.ControlOverruns)
	counter(c.badMsg, s.BadMessages)
	counter(c.rings, s.Rings)
	counter(c.texts, s.Texts)
	counter(c.pages, s.Pages)
	counter(c.kicks, s.Kicks)
	counter(c.refused, s.NameTaken, "name_taken")
	counter(c.refused, s.Banned, "banned")
}
