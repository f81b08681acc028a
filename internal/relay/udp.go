package relay

import (
	"context"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/qlog"
	"github.com/quic-go/quic-go/qlogwriter"
)

// Reasons a datagram at the relay's UDP port was dropped (or answered
// without a connection) by QUIC before it reached any session: junk, scans,
// packets of connections long gone. They come from quic-go's transport-level
// qlog events (the reasons named after quic-go's), plus not_quic for
// datagrams that cannot be QUIC at all (the two top bits of the first byte
// clear), which quic-go hands to Transport.ReadNonQUICPacket.
type udpReason int

const (
	udpNotQUIC             udpReason = iota // first byte 00xxxxxx: not a QUIC packet
	udpHeaderParseError                     // a QUIC header that does not parse (too short, bad lengths)
	udpUnknownConnectionID                  // a short-header packet for no connection of this relay
	udpUnexpectedPacket                     // a long-header packet the server cannot use (too small, wrong type)
	udpUnexpectedVersion                    // a QUIC version the relay does not speak
	udpVersionNegotiation                   // a QUIC version the relay does not speak, answered with version negotiation
	udpDOSPrevention                        // dropped because quic-go's queue was full (a flood)
	udpOther                                // any other reason quic-go gives
	numUDPReasons
)

var udpNames = [numUDPReasons]string{"not_quic", "header_parse_error", "unknown_connection_id",
	"unexpected_packet", "unexpected_version", "version_negotiation", "dos_prevention", "other"}

func udpReasonOf(t qlog.PacketDropReason) udpReason {
	switch t {
	case qlog.PacketDropHeaderParseError:
		return udpHeaderParseError
	case qlog.PacketDropUnknownConnectionID:
		return udpUnknownConnectionID
	case qlog.PacketDropUnexpectedPacket:
		return udpUnexpectedPacket
	case qlog.PacketDropUnexpectedVersion, qlog.PacketDropUnsupportedVersion:
		return udpUnexpectedVersion
	case qlog.PacketDropDOSPrevention:
		return udpDOSPrevention
	}
	return udpOther
}

// udpTracer is the quic.Transport's Tracer: it counts the datagrams the
// transport and its server drop (events of no connection). quic-go may call
// RecordEvent from several goroutines; it only touches atomics.
type udpTracer struct{ c *counters }

var _ qlogwriter.Recorder = udpTracer{}

func (t udpTracer) RecordEvent(ev qlogwriter.Event) {
	switch ev := ev.(type) {
	case qlog.PacketDropped:
		t.c.udpDropped[udpReasonOf(ev.Trigger)].Add(1)
	case qlog.VersionNegotiationSent:
		t.c.udpDropped[udpVersionNegotiation].Add(1)
	}
}

func (udpTracer) Close() error { return nil }

// countNonQUIC reads and counts the datagrams that cannot be QUIC until
// ctx ends or the transport closes. Without a reader quic-go discards them
// without a trace; with one it queues up to 32 and counts the rest as
// dos_prevention.
func (r *Relay) countNonQUIC(ctx context.Context, tr *quic.Transport) {
	buf := make([]byte, 1)
	for {
		if _, _, err := tr.ReadNonQUICPacket(ctx, buf); err != nil {
			return
		}
		r.c.udpDropped[udpNotQUIC].Add(1)
	}
}
