package cluster

import (
	"net"
	"testing"
)

// FreeAddrs returns n loopback TCP addresses that were free a moment ago,
// for tests that must give every relay of a cluster its peers' route
// addresses before any of them starts (JetStream in a cluster needs its
// routes configured).
func FreeAddrs(t testing.TB, n int) []string {
	t.Helper()
	var out []string
	var ls []net.Listener
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().String())
	}
	for _, l := range ls {
		l.Close()
	}
	return out
}
