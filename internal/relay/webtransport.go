package relay

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hark-intercom/hark/internal/certs"
	"github.com/hark-intercom/hark/proto"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	"github.com/quic-go/webtransport-go"
)

// Browsers on QUIC: with Config.WebTransport the relay's UDP port also
// accepts HTTP/3 connections (ALPN "h3", beside proto.ALPN on the same
// quic-go listener) and WebTransport sessions on them at WebTransportPath.
// A WebTransport session is a session like any other: the page opens one
// bidirectional stream, the control stream, and speaks proto on it (Hello,
// Auth with the user's password, ...), and voice travels as WebTransport
// datagrams carrying the same bytes as QUIC datagrams (proto.VoiceHeader and
// one Opus packet). Only the transport differs, and only in this file:
// sessConn and ctlStream hide which one a session uses.
//
// Certificates: a browser accepts a self-signed certificate over
// WebTransport only through serverCertificateHashes, for an ECDSA
// certificate valid at most 14 days. The relay therefore presents, to
// connections that offer "h3" and not the native ALPN, a certificate of its
// own making (certs.NewWebTransport): valid WebTransportValidity, signed with
// the relay's key (the certificate clients pin), renewed at half its life.
// The gateway learns its hash by a handshake of its own, which it checks
// against the relay certificate it pins (certs.VerifyWebTransport), and
// hands it to the page.

// WebTransportPath is the path of the relay's WebTransport endpoint: the
// page connects to https://HOST:PORT/hark.
const WebTransportPath = "/hark"

// WebTransportValidity is how long each WebTransport certificate is valid;
// browsers refuse certificate hashes of certificates valid for longer than
// 14 days. A new one is made when half of it has passed.
const WebTransportValidity = 10 * 24 * time.Hour

// sessConn is a session's connection: a native QUIC connection (quicConn)
// or a WebTransport session (wtConn). Implementations are safe for
// concurrent use.
type sessConn interface {
	Context() context.Context
	SendDatagram([]byte) error
	ReceiveDatagram(context.Context) ([]byte, error)
	CloseWithError(quic.ApplicationErrorCode, string) error
	RemoteAddr() net.Addr
	// ConnectionStats are those of the QUIC connection under the session
	// (the voice fast path reads its congestion state).
	ConnectionStats() quic.ConnectionStats
	// acceptControl waits for the client's control stream.
	acceptControl(context.Context) (ctlStream, error)
}

// ctlStream is a session's control stream.
type ctlStream interface {
	io.ReadWriteCloser
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

// quicConn is a native client's connection.
type quicConn struct{ *quic.Conn }

func (c quicConn) acceptControl(ctx context.Context) (ctlStream, error) {
	return c.AcceptStream(ctx)
}

// wtConn is a browser's WebTransport session on an HTTP/3 connection.
type wtConn struct {
	*webtransport.Session
	qc *quic.Conn
}

func (c wtConn) CloseWithError(code quic.ApplicationErrorCode, text string) error {
	return c.Session.CloseWithError(webtransport.SessionErrorCode(code), text)
}

func (c wtConn) ConnectionStats() quic.ConnectionStats { return c.qc.ConnectionStats() }

func (c wtConn) acceptControl(ctx context.Context) (ctlStream, error) {
	return c.AcceptStream(ctx)
}

type quicConnKey struct{}

// wtServer serves the relay's HTTP/3 connections: WebTransport sessions at
// WebTransportPath, 404 elsewhere. Make it with newWTServer.
type wtServer struct {
	r   *Relay
	srv *webtransport.Server

	sessions atomic.Uint64 // WebTransport sessions opened
	refused  atomic.Uint64 // WebTransport requests refused (not a valid session request)

	mu   sync.Mutex
	cert *tls.Certificate // guarded by mu: the current WebTransport certificate
}

func (r *Relay) newWTServer(ctx context.Context, wg *sync.WaitGroup) *wtServer {
	w := &wtServer{r: r}
	mux := http.NewServeMux()
	mux.HandleFunc(WebTransportPath, func(rw http.ResponseWriter, req *http.Request) {
		sess, err := w.srv.Upgrade(rw, req)
		if err != nil {
			w.refused.Add(1)
			r.cfg.Logger.Info("webtransport: refused a session", "addr", req.RemoteAddr, "err", err)
			rw.WriteHeader(http.StatusBadRequest)
			return
		}
		qc, _ := req.Context().Value(quicConnKey{}).(*quic.Conn)
		if qc == nil {
			sess.CloseWithError(webtransport.SessionErrorCode(proto.CodeInternal), "the relay lost track of the connection")
			return
		}
		w.sessions.Add(1)
		wg.Add(1)
		defer wg.Done()
		r.handleConn(ctx, wtConn{Session: sess, qc: qc})
	})
	w.srv = &webtransport.Server{
		H3: &http3.Server{
			Handler: mux,
			ConnContext: func(ctx context.Context, c *quic.Conn) context.Context {
				return context.WithValue(ctx, quicConnKey{}, c)
			},
			Logger: r.cfg.Logger,
		},
		// Any page may try: a session proves who it is with a password
		// (or a ticket) like every client, and the browser sends no
		// ambient credentials (cookies) the page did not put there.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	r.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "hark_relay_webtransport_sessions_total",
			Help: "WebTransport sessions opened by browsers (logged in or not)."}, func() float64 { return float64(w.sessions.Load()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "hark_relay_webtransport_refused_total",
			Help: "HTTP/3 requests to the relay that were not a valid WebTransport session request."}, func() float64 { return float64(w.refused.Load()) }),
	)
	return w
}

// serve runs one HTTP/3 connection until it ends.
func (w *wtServer) serve(conn *quic.Conn) {
	if err := w.srv.ServeQUICConn(conn); err != nil && !errors.Is(err, http.ErrServerClosed) {
		w.r.cfg.Logger.Debug("webtransport: connection ended", "addr", conn.RemoteAddr().String(), "err", err)
	}
}

// close ends every WebTransport connection (after the sessions said goodbye).
func (w *wtServer) close() { w.srv.Close() }

// certificate returns the current WebTransport certificate, making a new
// one when there is none or half of its life has passed.
func (w *wtServer) certificate(now time.Time) (*tls.Certificate, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cert != nil && now.Before(w.cert.Leaf.NotBefore.Add(WebTransportValidity/2)) {
		return w.cert, nil
	}
	c, err := certs.NewWebTransport(w.r.cfg.Cert, now, WebTransportValidity)
	if err != nil {
		return nil, err
	}
	w.cert = &c
	return w.cert, nil
}

// tlsConfig is the relay's TLS configuration with WebTransport: the native
// ALPN first, then "h3"; a client that offers "h3" and not the native ALPN
// (a browser) gets the WebTransport certificate.
func (w *wtServer) tlsConfig() *tls.Config {
	c := certs.ServerConfig(w.r.cfg.Cert, proto.ALPN)
	c.NextProtos = []string{proto.ALPN, http3.NextProtoH3}
	c.GetCertificate = func(hi *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if slices.Contains(hi.SupportedProtos, http3.NextProtoH3) && !slices.Contains(hi.SupportedProtos, proto.ALPN) {
			return w.certificate(time.Now())
		}
		return &w.r.cfg.Cert, nil
	}
	c.Certificates = nil
	return c
}

// wtQUICConfig adapts the relay's QUIC configuration to HTTP/3 beside the
// native protocol. The stream limits are the same for both (they are sent
// before the ALPN is known): a browser opens the CONNECT request stream and
// the control stream, and three unidirectional HTTP/3 streams (control and
// QPACK); refuseExtraStreams closes what a native client opens beyond its
// control stream.
func wtQUICConfig(q *quic.Config) {
	q.MaxIncomingStreams = 4
	q.MaxIncomingUniStreams = 4
	q.EnableStreamResetPartialDelivery = true
}

// refuseExtraStreams resets every stream a native client opens after its
// control stream (the limits allow more for browsers). It returns when the
// connection ends.
func refuseExtraStreams(conn *quic.Conn) {
	go func() {
		for {
			st, err := conn.AcceptUniStream(conn.Context())
			if err != nil {
				return
			}
			st.CancelRead(quic.StreamErrorCode(proto.CodeBadMessage))
		}
	}()
	for {
		st, err := conn.AcceptStream(conn.Context())
		if err != nil {
			return
		}
		st.CancelRead(quic.StreamErrorCode(proto.CodeBadMessage))
		st.CancelWrite(quic.StreamErrorCode(proto.CodeBadMessage))
	}
}

// isWTConnErr reports whether err ended a WebTransport session or stream
// (the peer closed or reset it): the session is over, like a QUIC
// connection error.
func isWTConnErr(err error) bool {
	var se *webtransport.SessionError
	var st *webtransport.StreamError
	return errors.As(err, &se) || errors.As(err, &st)
}
