package gateway

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the gateway's Prometheus series, registered on the Server's own
// registry (no globals).
type metrics struct {
	sessions      prometheus.Gauge
	hubs          prometheus.Gauge
	logins        *prometheus.CounterVec // result
	wsIn          *prometheus.CounterVec // kind
	wsOut         *prometheus.CounterVec // kind
	voiceSent     *prometheus.CounterVec // path: pcm, media, clip
	voiceDropped  *prometheus.CounterVec // reason
	voiceRepacked *prometheus.CounterVec // how: split, reencode
	audioDropped  prometheus.Counter     // browser too slow
	voiceDup      prometheus.Counter
	decoded       prometheus.Counter
	decodeErrors  prometheus.Counter
	concealed     prometheus.Counter
	badInput      *prometheus.CounterVec // reason
	replays       prometheus.Counter     // stored transmissions played to browsers
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hark_gateway_sessions", Help: "Browser sessions logged in."}),
		hubs:     prometheus.NewGauge(prometheus.GaugeOpts{Name: "hark_gateway_channels", Help: "Channels with at least one browser (one decoder set each)."}),
		logins:   prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hark_gateway_logins_total", Help: "Login attempts by result."}, []string{"result"}),
		wsIn:     prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hark_gateway_ws_in_total", Help: "Websocket messages received, by kind."}, []string{"kind"}),
		wsOut:    prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hark_gateway_ws_out_total", Help: "Websocket messages sent, by kind."}, []string{"kind"}),
		voiceSent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hark_gateway_voice_sent_total",
			Help: "Voice frames sent to the relay, by browser path."}, []string{"path"}),
		voiceDropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hark_gateway_voice_dropped_total",
			Help: "Voice frames from browsers not sent to the relay, by reason."}, []string{"reason"}),
		voiceRepacked: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hark_gateway_voice_repacked_total",
			Help: "Opus packets from browsers too large for a datagram, by how they were sent: split (into one packet per frame, no re-encoding), reencode (a frame too large on its own)."}, []string{"how"}),
		audioDropped: prometheus.NewCounter(prometheus.CounterOpts{Name: "hark_gateway_audio_dropped_total",
			Help: "PCM frames to browsers dropped because the browser read too slowly."}),
		voiceDup: prometheus.NewCounter(prometheus.CounterOpts{Name: "hark_gateway_voice_duplicates_total",
			Help: "Voice frames received again through another session (expected: one per extra browser in a channel)."}),
		decoded:      prometheus.NewCounter(prometheus.CounterOpts{Name: "hark_gateway_decoded_frames_total", Help: "Opus frames decoded for browsers."}),
		decodeErrors: prometheus.NewCounter(prometheus.CounterOpts{Name: "hark_gateway_decode_errors_total", Help: "Opus frames that failed to decode."}),
		concealed:    prometheus.NewCounter(prometheus.CounterOpts{Name: "hark_gateway_concealed_frames_total", Help: "Lost frames concealed (PLC/FEC)."}),
		badInput: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hark_gateway_bad_input_total",
			Help: "Browser messages refused, by reason."}, []string{"reason"}),
		replays: prometheus.NewCounter(prometheus.CounterOpts{Name: "hark_gateway_replays_total",
			Help: "Stored transmissions played to browsers (history replays started)."}),
	}
	reg.MustRegister(m.sessions, m.hubs, m.logins, m.wsIn, m.wsOut, m.voiceSent, m.voiceDropped, m.voiceRepacked,
		m.audioDropped, m.voiceDup, m.decoded, m.decodeErrors, m.concealed, m.badInput, m.replays)
	return m
}
