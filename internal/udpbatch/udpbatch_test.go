package udpbatch

import (
	"encoding/binary"
	"net"
	"testing"
	"time"
)

// Every packet written to a Conn arrives, also when more wait than a batch
// holds (the writer then sends them itself), and a Conn reads them back one
// at a time with their sender's address.
func TestDeliversEveryPacket(t *testing.T) {
	listen := func() *net.UDPConn {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadBuffer(4 << 20)
		return c
	}
	a, err := New(listen())
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(listen())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer b.Close()
	const n = 3*maxPending + 7
	for i := range n {
		var p [8]byte
		binary.BigEndian.PutUint64(p[:], uint64(i))
		if k, err := a.WriteTo(p[:], b.LocalAddr()); err != nil || k != len(p) {
			t.Fatalf("write %d: %d, %v", i, k, err)
		}
	}
	// A deadline far beyond any run, so that a lost packet fails the test
	// instead of hanging it.
	b.SetReadDeadline(time.Now().Add(time.Minute))
	seen := make([]bool, n)
	buf := make([]byte, maxPacket)
	for range n {
		k, from, err := b.ReadFrom(buf)
		if err != nil {
			t.Fatalf("read: %v (%d of %d packets arrived)", err, count(seen), n)
		}
		if k != 8 || from.String() != a.LocalAddr().String() {
			t.Fatalf("read %d bytes from %v, want 8 from %v", k, from, a.LocalAddr())
		}
		i := binary.BigEndian.Uint64(buf)
		if i >= n || seen[i] {
			t.Fatalf("packet %d unexpected or twice", i)
		}
		seen[i] = true
	}
}

func count(seen []bool) (k int) {
	for _, s := range seen {
		if s {
			k++
		}
	}
	return k
}

// A dual-stack (IPv6) socket is refused with an error that says what to do.
func TestRefusesIPv6Socket(t *testing.T) {
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skip("no IPv6 loopback:", err)
	}
	defer c.Close()
	if _, err := New(c); err == nil {
		t.Fatal("New took an IPv6 socket")
	}
}
