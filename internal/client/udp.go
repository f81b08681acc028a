package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/quic-go/quic-go"
)

// dialQUIC opens the QUIC connection to the relay at addr over a UDP
// socket connected to it (rather than quic.DialAddr's unconnected one).
//
// Why: when the relay's program dies (kill -9, a crash) while its host
// stays up, the host answers the next packet with an ICMP "port
// unreachable". The kernel reports that only to a connected socket, as an
// error on its next read, which ends the QUIC connection at once: the
// client moves to another relay of the cluster (or starts redialling)
// within one ping interval instead of after PingTimeout of silence (issue
// 15: 50 sessions talking again through another relay within 2 s). A
// relay whose whole host or network is gone sends nothing, and is still
// noticed by the pings. A dial to an address where nothing listens fails
// at once in the same way (errNoAnswer), without waiting for the
// handshake's idle timeout.
//
// The socket is closed when the connection ends or the dial fails.
func dialQUIC(ctx context.Context, addr string, tlsConf *tls.Config, conf *quic.Config) (*quic.Conn, error) {
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return nil, err
	}
	uc, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return nil, err
	}
	qc, err := quic.Dial(ctx, &connectedUDP{uc: uc, raddr: raddr}, raddr, tlsConf, conf)
	if err != nil {
		uc.Close()
		if errors.Is(err, syscall.ECONNREFUSED) {
			return nil, fmt.Errorf("%w (%w at %s: the relay is not running there)", errNoAnswer, errNoListener, addr)
		}
		return nil, err
	}
	context.AfterFunc(qc.Context(), func() { uc.Close() })
	return qc, nil
}

// errNoListener: a connection attempt was answered by the relay's machine
// with "port unreachable": its host is up, the relay program is not (yet)
// running. Trying again soon costs the relay nothing (its kernel answers).
var errNoListener = errors.New("nothing listens")

// errRelayGone: the relay's machine answered "port unreachable" (the
// connected socket's connection refused): the relay program is not running.
var errRelayGone = errors.New("the relay stopped answering: its machine says nothing listens at its address now (the relay program stopped)")

// connectedUDP is a connected UDP socket as the net.PacketConn quic-go
// wants: it sends to and receives from its one peer. It deliberately does
// not offer ReadMsgUDP/WriteMsgUDP (quic-go would pass the address to
// them, which a connected socket refuses); SyscallConn lets quic-go set
// the don't-fragment bit for path MTU discovery, and the buffer setters
// let it enlarge the socket's buffers.
type connectedUDP struct {
	uc    *net.UDPConn
	raddr *net.UDPAddr
}

func (c *connectedUDP) ReadFrom(b []byte) (int, net.Addr, error) {
	n, err := c.uc.Read(b)
	return n, c.raddr, err
}

func (c *connectedUDP) WriteTo(b []byte, _ net.Addr) (int, error) { return c.uc.Write(b) }
func (c *connectedUDP) Close() error                              { return c.uc.Close() }
func (c *connectedUDP) LocalAddr() net.Addr                       { return c.uc.LocalAddr() }
func (c *connectedUDP) SetDeadline(t time.Time) error             { return c.uc.SetDeadline(t) }
func (c *connectedUDP) SetReadDeadline(t time.Time) error         { return c.uc.SetReadDeadline(t) }
func (c *connectedUDP) SetWriteDeadline(t time.Time) error        { return c.uc.SetWriteDeadline(t) }
func (c *connectedUDP) SetReadBuffer(n int) error                 { return c.uc.SetReadBuffer(n) }
func (c *connectedUDP) SetWriteBuffer(n int) error                { return c.uc.SetWriteBuffer(n) }
func (c *connectedUDP) SyscallConn() (syscall.RawConn, error)     { return c.uc.SyscallConn() }
