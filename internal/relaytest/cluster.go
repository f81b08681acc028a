package relaytest

import (
	"testing"
	"time"

	"github.com/hark-intercom/hark/internal/accounts"
	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/internal/cluster"
	"github.com/hark-intercom/hark/internal/relay"
	"golang.org/x/crypto/bcrypt"
)

// KillNode stops relay i the way kill -9 does: its UDP socket and its
// cluster membership end without a word (its floors and presence are left
// to expire at the other relays).
func KillNode(t testing.TB, n *Node) {
	t.Helper()
	within(t, "the killed cluster node's Kill", func() error { n.Cluster.Kill(); return nil })
	n.Kill(t)
}

// Node is one relay of a test cluster.
type Node struct {
	*Relay
	Cluster *cluster.Cluster
}

// StartCluster starts n relays clustered through embedded NATS servers on
// loopback (each routed to all the others, TLS with fresh cluster keys),
// sharing one users store (in open mode none) and the cluster secret (so
// resume tickets are valid at every relay), and waits until the cluster's
// floor and presence buckets are ready. Teardown is registered with
// t.Cleanup.
func StartCluster(t testing.TB, n int, opts ...Option) []*Node {
	t.Helper()
	dir := t.TempDir()
	if _, err := cluster.Init(dir); err != nil {
		t.Fatal(err)
	}
	keys, err := cluster.LoadKeys(dir)
	if err != nil {
		t.Fatal(err)
	}
	addrs := cluster.FreeAddrs(t, n)
	var peers []string
	for _, a := range addrs {
		peers = append(peers, "nats://"+a)
	}
	users := accounts.NewMemory(bcrypt.MinCost)
	cert, err := certs.InMemory() // one certificate for the intercom, as relay cluster init makes
	if err != nil {
		t.Fatal(err)
	}
	var nodes []*Node
	for i := 0; i < n; i++ {
		c, err := cluster.New(cluster.Config{Name: "test", Node: string(rune('a' + i)), Listen: addrs[i], Peers: peers,
			DataDir: t.TempDir(), Keys: keys, Logger: logger(t)})
		if err != nil {
			t.Fatal(err)
		}
		o := append([]Option{func(cfg *relay.Config) {
			cfg.Users = users
			cfg.Cert = cert
			cfg.Secret = keys.Secret
			cfg.Cluster = c
		}}, opts...)
		r := Start(t, o...)
		if !r.Config.Open {
			r.Users = users
		}
		t.Cleanup(func() { within(t, "the cluster node's Close", func() error { c.Close(); return nil }) }) // before the relay's own cleanup (LIFO)
		nodes = append(nodes, &Node{Relay: r, Cluster: c})
	}
	for _, nd := range nodes {
		select {
		case <-nd.Cluster.Ready():
		case <-time.After(60 * time.Second):
			t.Fatal("relaytest: the relays' cluster did not form within a minute")
		}
	}
	return nodes
}
