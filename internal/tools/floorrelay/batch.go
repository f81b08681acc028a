package main

import (
	"net"
	"runtime"
	"sync"
	"time"

	"golang.org/x/net/ipv4"
)

// batchConn is the experiment of FLOORRELAY_BATCH=1: the QUIC transport's
// socket, with the packets its connections write gathered and sent with one
// sendmmsg per batch instead of one sendmsg each, and received with
// recvmmsg. A fan-out has every listener's connection write one packet at
// the same moment: the batch is what they wrote while the flusher waited its
// turn. It is a plain net.PacketConn to quic-go (no GSO, no ECN).
//
// WriteTo copies the packet and never blocks on the socket; when maxPending
// packets wait, the writer flushes them itself. ReadFrom has one caller
// (the transport's read loop). Safe for concurrent writers.
type batchConn struct {
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

func newBatchConn(udp *net.UDPConn) *batchConn {
	c := &batchConn{udp: udp, pc: ipv4.NewPacketConn(udp), wake: make(chan struct{}, 1)}
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
	return c
}

func (c *batchConn) WriteTo(p []byte, addr net.Addr) (int, error) {
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
func (c *batchConn) flusher() {
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
func (c *batchConn) send(batch []ipv4.Message) {
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

func (c *batchConn) ReadFrom(p []byte) (int, net.Addr, error) {
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
func (c *batchConn) Close() error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.wake)
	}
	c.mu.Unlock()
	return c.udp.Close()
}

func (c *batchConn) LocalAddr() net.Addr                { return c.udp.LocalAddr() }
func (c *batchConn) SetDeadline(t time.Time) error      { return c.udp.SetDeadline(t) }
func (c *batchConn) SetReadDeadline(t time.Time) error  { return c.udp.SetReadDeadline(t) }
func (c *batchConn) SetWriteDeadline(t time.Time) error { return c.udp.SetWriteDeadline(t) }
func (c *batchConn) SetReadBuffer(n int) error          { return c.udp.SetReadBuffer(n) }
func (c *batchConn) SetWriteBuffer(n int) error         { return c.udp.SetWriteBuffer(n) }
