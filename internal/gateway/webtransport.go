package gateway

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/internal/knownrelays"
	"github.com/hark-intercom/hark/internal/limit"
	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// WebTransportPath is where the page asks how to reach the relay over
// WebTransport (see RelayWebTransport): GET answers
//
//	{"url":"https://HOST:PORT/hark","hashes":["BASE64 SHA-256"]}
//
// or 404 {"error":"…"} when the page must use the websocket.
const WebTransportPath = "/webtransport"

// RelayWebTransport tells pages how to open a WebTransport session straight
// to the relay: its URL and the hash of the short-lived certificate the
// relay presents to browsers. It learns the hash by a QUIC handshake of its
// own with ALPN h3 and accepts it only if the relay certificate it pins
// signed it (certs.VerifyWebTransport). Safe for concurrent use.
type RelayWebTransport struct {
	// Relay is the relay's "host:port", as the gateway dials it.
	Relay string
	// Fingerprint pins the relay certificate; "" reads it from
	// KnownRelaysFile (where the gateway's relay sessions record it).
	Fingerprint     string
	KnownRelaysFile string
	// Host is the host name pages use for the relay; "" uses the relay's
	// host, or, when that is a loopback or unspecified address, the host
	// the browser reached the gateway by (the relay runs on the same
	// machine).
	Host string

	failures atomic.Uint64 // pages told to use the websocket because the hash could not be learnt

	mu      sync.Mutex
	hash    []byte         // guarded by mu: the last hash learnt
	at      time.Time      // guarded by mu: when
	failLog *limit.Sampler // guarded by mu: samples the log lines of failures
}

// Failures counts the requests answered 404 because the relay's
// WebTransport certificate could not be learnt.
func (w *RelayWebTransport) Failures() uint64 { return w.failures.Load() }

// logFailure reports whether a failure should be logged now (sampled), and
// how many were not logged before it.
func (w *RelayWebTransport) logFailure() (bool, int) {
	w.failures.Add(1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.failLog == nil {
		w.failLog = limit.NewSampler(time.Now())
	}
	return w.failLog.Allow(time.Now())
}

// wtCacheFor is how long a learnt hash is handed out before the relay is
// asked again. A restarted relay makes a new certificate, and its pages
// come back within seconds: the cache only spares the relay a handshake per
// page when many load at once.
const wtCacheFor = 2 * time.Second

func (w *RelayWebTransport) pinned() (string, error) {
	if w.Fingerprint != "" {
		return w.Fingerprint, nil
	}
	if w.KnownRelaysFile == "" {
		return "", errors.New("no relay fingerprint to check the relay's WebTransport certificate with")
	}
	e, ok, err := knownrelays.Open(w.KnownRelaysFile).Lookup(w.Relay)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", errors.New("the relay's certificate is not known yet (nobody logged in through this gateway yet)")
	}
	return e.Fingerprint, nil
}

// Hash returns the SHA-256 of the relay's current WebTransport certificate.
func (w *RelayWebTransport) Hash(ctx context.Context) ([]byte, error) {
	w.mu.Lock()
	if w.hash != nil && time.Since(w.at) < wtCacheFor {
		h := w.hash
		w.mu.Unlock()
		return h, nil
	}
	w.mu.Unlock()
	fp, err := w.pinned()
	if err != nil {
		return nil, err
	}
	var leaf *x509.Certificate
	tc := &tls.Config{
		InsecureSkipVerify: true, // the chain is checked against the pinned certificate below
		NextProtos:         []string{http3.NextProtoH3},
		MinVersion:         tls.VersionTLS13,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			var err error
			leaf, err = certs.VerifyWebTransport(raw, fp, time.Now())
			return err
		},
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	conn, err := quic.DialAddr(ctx, w.Relay, tc, &quic.Config{EnableDatagrams: true, EnableStreamResetPartialDelivery: true})
	if err != nil {
		return nil, err
	}
	conn.CloseWithError(0, "")
	h := certs.WebTransportHash(leaf.Raw)
	w.mu.Lock()
	w.hash, w.at = h, time.Now()
	w.mu.Unlock()
	return h, nil
}

// URL is the relay's WebTransport URL for a browser that reached the
// gateway at requestHost (the request's Host).
func (w *RelayWebTransport) URL(requestHost string) (string, error) {
	host, port, err := net.SplitHostPort(w.Relay)
	if err != nil {
		return "", err
	}
	if w.Host != "" {
		host = w.Host
	} else if ip := net.ParseIP(host); host == "" || host == "localhost" || ip != nil && (ip.IsLoopback() || ip.IsUnspecified()) {
		h, _, err := net.SplitHostPort(requestHost)
		if err != nil {
			h = requestHost
		}
		host = h
	}
	if _, err := strconv.Atoi(port); err != nil {
		return "", err
	}
	return "https://" + net.JoinHostPort(host, port) + "/hark", nil
}

// serveWebTransport answers WebTransportPath.
func (s *Server) serveWebTransport(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	wt := s.cfg.WebTransport
	fail := func(text string) {
		rw.WriteHeader(http.StatusNotFound)
		json.NewEncoder(rw).Encode(map[string]string{"error": text})
	}
	if wt == nil {
		fail("this gateway does not offer WebTransport: the page uses the websocket")
		return
	}
	u, err := wt.URL(r.Host)
	if err != nil {
		fail("the relay address is not HOST:PORT: " + err.Error())
		return
	}
	h, err := wt.Hash(r.Context())
	if err != nil {
		if ok, held := wt.logFailure(); ok {
			s.log.Warn("webtransport: cannot learn the relay's WebTransport certificate; pages use the websocket (is the relay started with WebTransport?)",
				"err", err, "not_logged_before_this", held)
		}
		fail("the relay's WebTransport is not available: " + err.Error())
		return
	}
	json.NewEncoder(rw).Encode(map[string]any{"url": u, "hashes": []string{base64.StdEncoding.EncodeToString(h)}})
}
