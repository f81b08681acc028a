// Command floorrelay is the floor a QUIC voice relay in Go cannot go
// under: it logs sessions in with just enough of Hark's protocol for
// cmd/loadgen (Hello, Welcome, Joined; every session in one open channel)
// and forwards every datagram it receives to every other session with one
// quic-go SendDatagram each, from the receiving goroutine, and nothing else:
// no floor control, no queues, no counters. internal/scripts/bench-relay.sh
// runs it beside the relay (EXTRA="quic-floor=bin/floorrelay").
//
//	floorrelay --listen 127.0.0.1:0 --data DIR
//
// It prints the lines loadgen --spawn reads: "listening on UDP ADDR",
// "Fingerprint: SHA256:…" and "Connect with …". It accepts and ignores
// loadgen's relay flags. Not for use beyond benchmarks: a listener whose
// QUIC queue is full blocks the talker (SendDatagram blocks).
//
// With FLOORRELAY_BATCH=1 in its environment it sends through
// internal/udpbatch: the packets the connections write are gathered and
// sent with one sendmmsg per batch (BENCHMARKS.md, issue 16).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/internal/udpbatch"
	"github.com/hark-intercom/hark/proto"
	"github.com/quic-go/quic-go"
)

func main() {
	fs := flag.NewFlagSet("floorrelay", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "UDP address")
	// Flags loadgen --spawn passes to a relay, accepted and ignored.
	for _, f := range []string{"data", "channels", "metrics", "max-talk", "log-level"} {
		fs.String(f, "", "ignored (for loadgen --spawn)")
	}
	fs.Bool("open", true, "ignored (for loadgen --spawn)")
	fs.Parse(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *listen); err != nil {
		fmt.Fprintln(os.Stderr, "floorrelay:", err)
		os.Exit(1)
	}
}

type hub struct {
	mu      sync.Mutex
	members atomic.Pointer[[]*quic.Conn] // replaced under mu, read without it
	nextID  atomic.Uint32
}

func (h *hub) change(f func([]*quic.Conn) []*quic.Conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var old []*quic.Conn
	if p := h.members.Load(); p != nil {
		old = *p
	}
	m := f(append([]*quic.Conn(nil), old...))
	h.members.Store(&m)
}

func run(ctx context.Context, listen string) error {
	cert, err := certs.InMemory()
	if err != nil {
		return err
	}
	pc, err := net.ListenPacket("udp", listen)
	if err != nil {
		return err
	}
	var conn net.PacketConn = pc
	if os.Getenv("FLOORRELAY_BATCH") == "1" {
		if conn, err = udpbatch.New(pc.(*net.UDPConn)); err != nil {
			return err
		}
		fmt.Println("sending with sendmmsg batches (FLOORRELAY_BATCH=1)")
	}
	tr := &quic.Transport{Conn: conn}
	defer tr.Close()
	ln, err := tr.Listen(certs.ServerConfig(cert, proto.ALPN), &quic.Config{EnableDatagrams: true, MaxIdleTimeout: time.Minute, KeepAlivePeriod: 20 * time.Second})
	if err != nil {
		return err
	}
	fmt.Printf("listening on UDP %s\nFingerprint: %s\nConnect with loadgen.\n", pc.LocalAddr(), certs.FingerprintOf(cert))
	h := &hub{}
	for {
		conn, err := ln.Accept(ctx)
		if err != nil {
			return nil
		}
		go h.serve(conn)
	}
}

func (h *hub) serve(conn *quic.Conn) {
	ctx := conn.Context()
	st, err := conn.AcceptStream(ctx)
	if err != nil {
		return
	}
	rd := proto.NewReader(st)
	ours := proto.NewHello("floorrelay")
	var version uint16
	send := func(m proto.Message) error {
		b, err := proto.AppendMessageFor(nil, m, version)
		if err == nil {
			_, err = st.Write(b)
		}
		return err
	}
	for joined := false; !joined; {
		m, err := rd.Next()
		if err != nil {
			conn.CloseWithError(1, "bad login")
			return
		}
		switch m := m.(type) {
		case *proto.Hello:
			v, _, ok := proto.Negotiate(ours, m)
			if !ok {
				conn.CloseWithError(1, "version")
				return
			}
			version = proto.Version
			send(ours)
			version = v
			rd.SetVersion(v)
		case *proto.Auth:
			send(&proto.Welcome{Session: h.nextID.Add(1), Name: m.Name})
		case *proto.Join:
			send(&proto.Joined{ChannelInfo: proto.ChannelInfo{Name: m.Channel, ID: 1, Mode: proto.ModeOpen}})
			joined = true
		}
	}
	h.change(func(m []*quic.Conn) []*quic.Conn { return append(m, conn) })
	defer h.change(func(m []*quic.Conn) []*quic.Conn {
		for i, c := range m {
			if c == conn {
				return append(m[:i], m[i+1:]...)
			}
		}
		return m
	})
	go io.Copy(io.Discard, st)
	for {
		b, err := conn.ReceiveDatagram(ctx)
		if err != nil {
			return
		}
		for _, c := range *h.members.Load() {
			if c != conn {
				c.SendDatagram(b)
			}
		}
	}
}
