package loadgen

import (
	"fmt"
	"net"
	"strings"
	"time"
)

// Several relays of a cluster (issue 15): Config.Addr may list relays
// separated by commas. Session i dials relay i mod len, so every channel
// has members at every relay and each talker's frames cross to the
// others; Config.MorePIDs are the other relays' processes, whose CPU time
// is added to RelayCPU (RSS figures stay those of Config.PID).

// relayAddrs resolves the relays of Config.Addr.
func relayAddrs(addr string) ([]*net.UDPAddr, error) {
	var out []*net.UDPAddr
	for _, a := range strings.Split(addr, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		ra, err := net.ResolveUDPAddr("udp", a)
		if err != nil {
			return nil, fmt.Errorf("relay address %q: %w", a, err)
		}
		out = append(out, ra)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no relay address in %q", addr)
	}
	return out, nil
}

// relaysCPU is the CPU time of the relay processes (PID and MorePIDs).
func relaysCPU(cfg Config) time.Duration {
	var sum time.Duration
	for _, pid := range append([]int{cfg.PID}, cfg.MorePIDs...) {
		d, _ := readCPU(pid)
		sum += d
	}
	return sum
}
