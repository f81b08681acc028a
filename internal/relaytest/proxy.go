package relaytest

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy is a UDP forwarder between one client and the relay that can be
// frozen (it then drops everything both ways), to make a listener that is
// dead without the relay knowing. Close it with t.Cleanup (done by NewProxy).
type Proxy struct {
	// Addr is the address clients dial ("127.0.0.1:PORT").
	Addr string

	front  *net.UDPConn // clients talk to this
	back   *net.UDPConn // connected to the relay
	frozen atomic.Bool
	client atomic.Pointer[net.UDPAddr]
	wg     sync.WaitGroup
}

// NewProxy starts a proxy in front of the relay.
func (r *Relay) NewProxy(t testing.TB) *Proxy {
	t.Helper()
	front, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	ra, err := net.ResolveUDPAddr("udp", r.Addr)
	if err != nil {
		t.Fatal(err)
	}
	back, err := net.DialUDP("udp", nil, ra)
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{Addr: front.LocalAddr().String(), front: front, back: back}
	p.wg.Add(2)
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 65536)
		for {
			n, from, err := front.ReadFromUDP(buf)
			if err != nil {
				return
			}
			p.client.Store(from)
			if !p.frozen.Load() {
				back.Write(buf[:n])
			}
		}
	}()
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 65536)
		for {
			n, err := back.Read(buf)
			if err != nil {
				return
			}
			if c := p.client.Load(); c != nil && !p.frozen.Load() {
				front.WriteToUDP(buf[:n], c)
			}
		}
	}()
	t.Cleanup(p.Close)
	return p
}

// Freeze drops all traffic from now on (or lets it through again).
func (p *Proxy) Freeze(on bool) { p.frozen.Store(on) }

// Close stops the proxy.
func (p *Proxy) Close() {
	p.front.Close()
	p.back.Close()
	p.wg.Wait()
}
