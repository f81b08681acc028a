// Package udpbatch is a UDP socket for a quic.Transport that sends the
// packets its connections write in batches, one sendmmsg per batch, and
// reads with recvmmsg. A voice relay's fan-out has every listener's QUIC
// connection write one packet at the same moment: with one sendmsg each,
// the system call was the largest single cost of a relay (BENCHMARKS.md,
// issue 16); batched, the bare quic-go fan-out spent 12–37 % less CPU per
// packet. quic-go sees a plain net.PacketConn (no GSO, no ECN, which small
// voice packets do not use). IPv4 sockets only.
package udpbatch

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
)

// Conn is a net.PacketConn over a UDP socket whose writes are gathered
// and sent with one sendmmsg per batch: the batch is what the writers wrote
// while the flusher goroutine, woken by the first of them, waited its turn.
//
// WriteTo copies the packet and never blocks on the socket; when maxPending
// packets wait, the writer sends them itself. ReadFrom has one caller at a
// time (a quic.Transport's read loop). Safe for concurrent writers. Close
// closes the socket.
type Conn struct {
	udp *net.UDPConn
	pc  *ipv4.PacketConn

	mu       sync.Mutex
	pending  []ipv4.Message // guarded by mu
	spare    []ipv4.Message // guarded by mu: the flusher's second batch (nil while it sends it)
	flushing bool           // guarded by mu: the flusher was woken and has not taken pending yet
	closed   bool           // guarded by mu: Close was called; wake is closed
	wake     chan struct{}
	sendMu   sync.Mutex // one sendmmsg at a time, in order

	rmsgs []ipv4.Message // read batch; owned by the reader
	rn    int            // messages in rmsgs
	ri    int            // next to hand out
}

const (
	maxPending = 256
	maxPacket  = 1500
	readBatch  = 16
)

// New returns a Conn over udp, which must be an IPv4 socket (listen with
// "udp4": golang.org/x/net cannot send to an IPv4 peer of a dual-stack
// socket in a batch). The Conn owns udp from here on.
func New(udp *net.UDPConn) (*Conn, error) {
	if a, ok := udp.LocalAddr().(*net.UDPAddr); !ok || a.IP.To4() == nil {
		return nil, errors.New("batched UDP sends need an IPv4 socket (listen on an IPv4 address such as 0.0.0.0:PORT, network udp4)")
	}
	if _, err := udp.SyscallConn(); err != nil {
		return nil, err
	}
	c := &Conn{udp: udp, pc: ipv4.NewPacketConn(udp), wake: make(chan struct{}, 1)}
	mk := func(n int) []ipv4.Message {
		m := make([]ipv4.Message, n)
		for i := range m {
			m[i].Buffers = [][]byte{make([]byte, maxPacket)}
		}
		return m
	}
	c.pending, c.spare = mk(maxPending)[:0], mk(maxPending)[:0]
	c.rmsgs = mk(readBatch)
	go c.flusher()
	return c, nil
}

func (c *Conn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if len(p) > maxPacket {
		return c.udp.WriteTo(p, addr)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0, net.ErrClosed
	}
	if len(c.pending) == maxPending {
		// The flusher is behind: send the full batch now, holding up the
		// other writers for one sendmmsg.
		c.send(c.pending)
		c.pending = c.pending[:0]
	}
	i := len(c.pending)
	c.pending = c.pending[:i+1]
	m := &c.pending[i]
	m.Buffers[0] = m.Buffers[0][:cap(m.Buffers[0])]
	m.Buffers[0] = m.Buffers[0][:copy(m.Buffers[0], p)]
	m.Addr = addr
	if !c.flushing {
		c.flushing = true
		select {
		case c.wake <- struct{}{}:
		default:
		}
	}
	c.mu.Unlock()
	return len(p), nil
}

// flusher sends what waits each time it is woken. It first yields, so the
// connections made ready by the same fan-out write their packets before it
// takes the batch.
func (c *Conn) flusher() {
	for range c.wake {
		runtime.Gosched()
		c.mu.Lock()
		batch := c.pending
		c.pending, c.spare = c.spare[:0], nil
		c.flushing = false
		c.mu.Unlock()
		c.send(batch)
		c.mu.Lock()
		c.spare = batch[:0]
		c.mu.Unlock()
	}
}

// send writes batch with as few sendmmsg calls as the kernel takes;
// packets it refuses are dropped (UDP).
func (c *Conn) send(batch []ipv4.Message) {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	for len(batch) > 0 {
		n, err := c.pc.WriteBatch(batch, 0)
		if err != nil || n <= 0 {
			batch = batch[1:]
			continue
		}
		batch = batch[n:]
	}
}

func (c *Conn) ReadFrom(p []byte) (int, net.Addr, error) {
	if c.ri == c.rn {
		for i := range c.rmsgs {
			c.rmsgs[i].Buffers[0] = c.rmsgs[i].Buffers[0][:cap(c.rmsgs[i].Buffers[0])]
		}
		n, err := c.pc.ReadBatch(c.rmsgs, 0)
		if err != nil {
			return 0, nil, err
		}
		c.rn, c.ri = n, 0
	}
	m := &c.rmsgs[c.ri]
	c.ri++
	return copy(p, m.Buffers[0][:m.N]), m.Addr, nil
}

// Close ends the flusher (what waits is not sent) and closes the socket.
func (c *Conn) Close() error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.wake)
	}
	c.mu.Unlock()
	return c.udp.Close()
}

func (c *Conn) LocalAddr() net.Addr                { return c.udp.LocalAddr() }
func (c *Conn) SetDeadline(t time.Time) error      { return c.udp.SetDeadline(t) }
func (c *Conn) SetReadDeadline(t time.Time) error  { return c.udp.SetReadDeadline(t) }
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.udp.SetWriteDeadline(t) }

// SyscallConn gives quic-go the socket to set the don't-fragment bit (path
// MTU discovery) and to check its buffer sizes.
func (c *Conn) SyscallConn() (syscall.RawConn, error) { return c.udp.SyscallConn() }

func (c *Conn) SetReadBuffer(n int) error  { return c.udp.SetReadBuffer(n) }
func (c *Conn) SetWriteBuffer(n int) error { return c.udp.SetWriteBuffer(n) }
