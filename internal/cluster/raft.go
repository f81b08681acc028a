package cluster

import (
	"time"
	_ "unsafe" // go:linkname to nats-server's raft timing

	"github.com/nats-io/nats-server/v2/server"
)

// Raft timing of the embedded NATS server.
//
// The floor and presence buckets are JetStream streams replicated on up
// to three relays; each has a raft group whose leader answers every write
// (a floor's compare-and-set) and feeds every watcher. When the leader's
// relay dies, the followers wait for a raft election timeout without
// heartbeats before they elect a new leader: nats-server's are 4 to 9 s
// (with a heartbeat every second), made for servers in data centres that
// should not change leaders over a slow second. Until then no floor can
// be taken in the whole intercom (issue 15 asks for a dead relay's floor
// free within 2 s).
//
// nats-server has no option for these (they are package variables that
// its own tests shorten: heartbeats every 50 ms, elections after 250 ms to
// 1 s in norace_1_test.go and jetstream_cluster_3_test.go), so this
// package sets them through go:linkname, once, before any server starts:
// heartbeats every raftHeartbeat, an election after raftElectMin to
// raftElectMax without one. A relay's raft groups are a handful of tiny
// streams on loopback or a LAN, so ten heartbeats a second cost nothing;
// the election timeout leaves a follower that was starved of CPU for
// half a second (a busy 2-core machine) without a needless election.
// If a nats-server release renames the variables, the build fails here at
// link time (not silently at run time).
//
// An external NATS (--nats URL) keeps its own timing: there a leader's
// death stalls the floors for nats-server's 4 to 9 s.
const (
	raftHeartbeat = 100 * time.Millisecond
	raftElectMin  = 600 * time.Millisecond
	raftElectMax  = 1100 * time.Millisecond
)

//go:linkname natsRaftHeartbeat github.com/nats-io/nats-server/v2/server.hbInterval
var natsRaftHeartbeat time.Duration

//go:linkname natsRaftElectMin github.com/nats-io/nats-server/v2/server.minElectionTimeout
var natsRaftElectMin time.Duration

//go:linkname natsRaftElectMax github.com/nats-io/nats-server/v2/server.maxElectionTimeout
var natsRaftElectMax time.Duration

// The variables are set in init, before any goroutine of a server can
// read them (a server starts only after the program's init).
func init() {
	_ = server.VERSION // the server package is linked, and initialised before this one
	natsRaftHeartbeat = raftHeartbeat
	natsRaftElectMin = raftElectMin
	natsRaftElectMax = raftElectMax
}

// RaftTiming reports the raft heartbeat interval and election timeouts the
// embedded server runs with (for `relay cluster status` and tests).
func RaftTiming() (heartbeat, electMin, electMax time.Duration) {
	return natsRaftHeartbeat, natsRaftElectMin, natsRaftElectMax
}

// stopRaftSilently stops every raft group of srv at once, as a crash
// does: a leader does not hand its leadership over first (Shutdown does,
// which would make a test of a dead leader's relay pass for the wrong
// reason). Used by Kill.
//
//go:linkname stopRaftSilently github.com/nats-io/nats-server/v2/server.(*Server).shutdownRaftNodes
func stopRaftSilently(srv *server.Server)
