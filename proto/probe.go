package proto

import (
	"encoding/binary"
	"fmt"
)

// Path probes measure the datagram path between a client and the relay:
// round trip, loss and jitter, the way voice travels (`talk ping`). Added in
// version 2 as the feature [FeatureProbe].
//
// The client sends probe datagrams; the relay sends each straight back to
// its sender, unchanged but for the reply flag, through the same bounded
// queue as voice (so a probe sees the delay voice would see). Probes count
// against the sender's voice rate limit. A relay without the feature drops
// them as an unknown datagram kind.

// KindProbe is a path probe datagram (see [ProbeHeader]).
const KindProbe DatagramKind = 0x02

// FeatureProbe: the relay echoes [KindProbe] datagrams. Assigned in
// version 2.
const FeatureProbe Features = 1 << 1

// ProbeFlags qualify a probe.
type ProbeFlags uint8

// Probe flags.
const (
	// ProbeReply marks a probe on its way back from the relay.
	ProbeReply ProbeFlags = 1 << 0
)

// ProbeHeaderLen is the size of a [ProbeHeader] on the wire; padding may
// follow, up to [MaxProbeLen] in all.
const (
	ProbeHeaderLen = 16
	MaxProbeLen    = VoiceHeaderLen + MaxVoicePayload
)

// ProbeHeader starts a probe datagram. Sent is opaque to the relay: the
// client puts its own clock there and reads it back from the reply.
//
//	 0        1        2        3        4        5        6        7
//	+--------+--------+--------+--------+--------+--------+--------+--------+
//	| kind=2 | flags  | reserved (u16)  | seq (u32)                         |
//	+--------+--------+--------+--------+--------+--------+--------+--------+
//	| sent (u64, the sender's clock)                                        |
//	+--------+--------+--------+--------+--------+--------+--------+--------+
//	| padding (zero bytes, ignored) ...
type ProbeHeader struct {
	Flags ProbeFlags
	Seq   uint32
	Sent  int64
}

// AppendProbe appends a probe datagram of size bytes in all (at least
// [ProbeHeaderLen], at most [MaxProbeLen]) to b.
func AppendProbe(b []byte, h ProbeHeader, size int) ([]byte, error) {
	if size < ProbeHeaderLen || size > MaxProbeLen {
		return b, fmt.Errorf("%w: probe of %d bytes (%d to %d)", ErrBadValue, size, ProbeHeaderLen, MaxProbeLen)
	}
	b = append(b, byte(KindProbe), byte(h.Flags), 0, 0)
	b = binary.BigEndian.AppendUint32(b, h.Seq)
	b = binary.BigEndian.AppendUint64(b, uint64(h.Sent))
	for i := ProbeHeaderLen; i < size; i++ {
		b = append(b, 0)
	}
	return b, nil
}

// ParseProbe reads a probe datagram's header. Bytes after it are padding.
func ParseProbe(b []byte) (ProbeHeader, error) {
	if len(b) < ProbeHeaderLen {
		return ProbeHeader{}, fmt.Errorf("%w: probe of %d bytes", ErrShort, len(b))
	}
	if len(b) > MaxProbeLen {
		return ProbeHeader{}, fmt.Errorf("%w: probe of %d bytes", ErrTooLong, len(b))
	}
	if DatagramKind(b[0]) != KindProbe {
		return ProbeHeader{}, fmt.Errorf("%w: datagram kind %d is not a probe", ErrBadType, b[0])
	}
	return ProbeHeader{
		Flags: ProbeFlags(b[1]),
		Seq:   binary.BigEndian.Uint32(b[4:]),
		Sent:  int64(binary.BigEndian.Uint64(b[8:])),
	}, nil
}

// MarkProbeReply sets the reply flag of the probe datagram b in place.
func MarkProbeReply(b []byte) { b[1] |= byte(ProbeReply) }
