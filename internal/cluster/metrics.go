package cluster

import "github.com/prometheus/client_golang/prometheus"

// The cluster's metrics, registered by the relay in its own registry
// (Cluster is a prometheus.Collector).
var (
	descVoiceOut   = prometheus.NewDesc("hark_relay_cluster_frames_published_total", "Voice frames of this relay's talkers published to the other relays.", nil, nil)
	descVoiceRecv  = prometheus.NewDesc("hark_relay_cluster_frames_received_total", "Voice frames received from the other relays.", nil, nil)
	descDropped    = prometheus.NewDesc("hark_relay_cluster_frames_dropped_total", "Voice frames not published to the other relays, by reason (queue_full: the publish queue was full and its oldest frame was dropped; too_long; publish_error).", []string{"reason"}, nil)
	descQueue      = prometheus.NewDesc("hark_relay_cluster_publish_queue", "Voice frames waiting to be published.", nil, nil)
	descEvents     = prometheus.NewDesc("hark_relay_cluster_events_total", "Control events (text, ring, kick, replaced login) exchanged with the other relays, by direction.", []string{"direction"}, nil)
	descFloor      = prometheus.NewDesc("hark_relay_cluster_floor_requests_total", "Floor leases asked of the cluster, by result (granted, busy, error).", []string{"result"}, nil)
	descLost       = prometheus.NewDesc("hark_relay_cluster_floor_leases_lost_total", "Floor leases that could not be renewed.", nil, nil)
	descPeerUp     = prometheus.NewDesc("hark_relay_cluster_peer_up", "1 when the other relay answered its last round trip.", []string{"peer"}, nil)
	descPeerRTT    = prometheus.NewDesc("hark_relay_cluster_peer_rtt_seconds", "Last round trip to the other relay through NATS.", []string{"peer"}, nil)
	descRoutes     = prometheus.NewDesc("hark_relay_cluster_routes", "Routes of the embedded NATS server to other relays.", nil, nil)
	descPublishErr = prometheus.NewDesc("hark_relay_cluster_publish_errors_total", "Publishes to NATS that failed (voice, events, presence).", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *Cluster) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descVoiceOut, descVoiceRecv, descDropped, descQueue, descEvents, descFloor,
		descLost, descPeerUp, descPeerRTT, descRoutes, descPublishErr} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *Cluster) Collect(ch chan<- prometheus.Metric) {
	cnt := func(d *prometheus.Desc, v uint64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	cnt(descVoiceOut, c.st.voiceOut.Load())
	cnt(descVoiceRecv, c.st.voiceIn.Load())
	cnt(descDropped, c.q.dropped.Load(), "queue_full")
	cnt(descDropped, c.q.tooLong.Load(), "too_long")
	cnt(descPublishErr, c.st.publishErr.Load())
	ch <- prometheus.MustNewConstMetric(descQueue, prometheus.GaugeValue, float64(c.q.len()))
	cnt(descEvents, c.st.eventsOut.Load(), "out")
	cnt(descEvents, c.st.eventsIn.Load(), "in")
	cnt(descFloor, c.st.acquired.Load(), "granted")
	cnt(descFloor, c.st.refused.Load(), "busy")
	cnt(descFloor, c.st.acquireErr.Load(), "error")
	cnt(descLost, c.st.lost.Load())
	c.mu.Lock()
	for n, p := range c.peers {
		if p.gone {
			ch <- prometheus.MustNewConstMetric(descPeerUp, prometheus.GaugeValue, 0, n)
			continue
		}
		up := 0.0
		if p.up {
			up = 1
			ch <- prometheus.MustNewConstMetric(descPeerRTT, prometheus.GaugeValue, p.rtt.Seconds(), n)
		}
		ch <- prometheus.MustNewConstMetric(descPeerUp, prometheus.GaugeValue, up, n)
	}
	c.mu.Unlock()
	if c.srv != nil {
		ch <- prometheus.MustNewConstMetric(descRoutes, prometheus.GaugeValue, float64(c.srv.NumRoutes()))
	}
}
