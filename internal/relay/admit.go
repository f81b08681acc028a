package relay

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/hark-intercom/hark/proto"
)

// Admission of new connections (quic.Transport.ConnContext, which runs on
// quic-go's packet goroutine before any TLS work).
//
// A connection is refused with QUIC's CONNECTION_REFUSED, which costs the
// relay one small packet and no handshake, while Config.MaxLogins
// connections are between their first packet and the end of their login
// or the start of their wait for a password check (which costs nothing
// and has its own bound, Config.PasswordWait), each for at most
// Config.LoginPlaceTime
// (and, in case one slips through, once the relay is shutting down: it
// then no longer listens). The second keeps a login storm (every
// client of a restarted relay at once) from making every login slow: a
// relay that takes them all at once answers each one late, clients give up
// on handshakes the relay already paid for and try again, and the work
// multiplies. Refused clients come back after their backoff; those admitted
// finish quickly. Counted in hark_relay_connections_refused_total by reason.

// errRefused is what ConnContext returns to have quic-go refuse.
var errRefused = errors.New("connection refused")

// admitKey keys the release function in an admitted connection's context.
type admitKey struct{}

// admit is the relay's quic.Transport.ConnContext.
func (r *Relay) admit(ctx context.Context, info *quic.ClientInfo) (context.Context, error) {
	if r.stopping.Load() {
		r.c.connRefused[refusedShutdown].Add(1)
		return nil, errRefused
	}
	if n := r.loggingIn.Add(1); n > int64(r.cfg.MaxLogins) {
		r.loggingIn.Add(-1)
		total := r.c.connRefused[refusedBusy].Add(1)
		r.logRefusal(r.cfg.Logger, slog.LevelWarn, "connection refused: busy with other logins (the client retries)",
			"addr", info.RemoteAddr.String(), "logins_in_progress", r.cfg.MaxLogins, "busy_refusals_total", total)
		return nil, errRefused
	}
	var released atomic.Bool
	release := func() bool {
		if !released.CompareAndSwap(false, true) {
			return false
		}
		r.loggingIn.Add(-1)
		return true
	}
	// A login that outlives Config.LoginPlaceTime gives its place to the
	// next one and goes on without it: it waits on a slow network or on a
	// client that gave up its handshake. Such a client sends nothing (a
	// quic-go client whose dial timed out just stops), so quic-go keeps
	// the handshake until its idle timeout (Config.LoginTimeout); places
	// held by such handshakes refused every new login for that long, in
	// a restart's login storm seconds at a time.
	expire := time.AfterFunc(r.cfg.LoginPlaceTime, func() {
		if release() {
			total := r.c.placesExpired.Add(1)
			r.logRefusal(r.cfg.Logger, slog.LevelInfo, "a login is taking long: its place among the logins under way goes to the next (a slow network, or a client that gave up)",
				"addr", info.RemoteAddr.String(), "after", r.cfg.LoginPlaceTime, "places_expired_total", total)
		}
	})
	over := func() {
		expire.Stop()
		release()
	}
	// A handshake that fails or is abandoned ends the connection, whose
	// context quic-go then cancels (at the latest at its idle timeout).
	context.AfterFunc(ctx, over)
	return context.WithValue(ctx, admitKey{}, over), nil
}

// loginOver ends the admission of the connection whose context is ctx: its
// login succeeded or failed (a no-op for a context without one).
func loginOver(ctx context.Context) {
	if f, ok := ctx.Value(admitKey{}).(func()); ok {
		f()
	}
}

// refuseQueued answers the connections that finished their handshake but
// were not taken before the relay began to shut down: they are closed with
// CodeShutdown (the client retries) instead of waiting for a login that
// never comes. Call it after closing ln; it returns when ln has no more.
func (r *Relay) refuseQueued(ln *quic.Listener) {
	for {
		conn, err := ln.Accept(context.Background())
		if err != nil {
			return
		}
		r.c.connRefused[refusedShutdown].Add(1)
		loginOver(conn.Context())
		conn.CloseWithError(quic.ApplicationErrorCode(proto.CodeShutdown), "the relay is shutting down")
	}
}
