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
// relay one small packet and no handshake, while as many connections as
// the door has places (see loginDoor: from Config.MaxLogins up to
// Config.MaxLoginsGrown) are between their first packet and the end of their login
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
	places := r.door.places()
	if n := r.loggingIn.Add(1); n > places {
		r.loggingIn.Add(-1)
		total := r.c.connRefused[refusedBusy].Add(1)
		r.logRefusal(r.cfg.Logger, slog.LevelWarn, "connection refused: busy with other logins (the client retries)",
			"addr", info.RemoteAddr.String(), "logins_in_progress", places, "busy_refusals_total", total)
		return nil, errRefused
	}
	admitted := time.Now()
	var released atomic.Bool
	// release gives the place back; finished says the login is over
	// (rather than its place expired or its connection ended first).
	release := func(finished bool) bool {
		if !released.CompareAndSwap(false, true) {
			return false
		}
		r.loggingIn.Add(-1)
		r.door.over(time.Since(admitted), finished)
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
		if release(false) {
			total := r.c.placesExpired.Add(1)
			r.logRefusal(r.cfg.Logger, slog.LevelInfo, "a login is taking long: its place among the logins under way goes to the next (a slow network, or a client that gave up)",
				"addr", info.RemoteAddr.String(), "after", r.cfg.LoginPlaceTime, "places_expired_total", total)
		}
	})
	over := func(finished bool) {
		expire.Stop()
		release(finished)
	}
	// A handshake that fails or is abandoned ends the connection, whose
	// context quic-go then cancels (at the latest at its idle timeout).
	context.AfterFunc(ctx, func() { over(false) })
	return context.WithValue(ctx, admitKey{}, over), nil
}

// loginDoor sizes the relay's door: how many connections may be between
// their first packet and the end of their login at once. A fixed number
// is a guess: too few and a restarted relay idles while a thousand
// clients wait out random backoffs after refusals (14 000-55 000 refusals
// in a 1000-session restart with 16 places, each also a new handshake for
// the refused client to make); too many and every login
// gets slow on a starved relay, clients give up handshakes it already
// paid for, and the work multiplies. So the door adapts to how promptly
// logins finish: each login over within Config.PromptLogin of its
// admission adds a place (up to Config.MaxLoginsGrown), and each slower
// one (or whose place expired, or whose connection ended before its
// login) takes a quarter of them away (down to Config.MaxLogins). The
// places then settle about where logins take PromptLogin: as many as the
// relay finishes in that time. Safe for concurrent use.
type loginDoor struct {
	n        atomic.Int64 // places now, in [min, max]
	most     atomic.Int64 // the most places so far
	min, max int64
	prompt   time.Duration
}

func newLoginDoor(minPlaces, maxPlaces int, prompt time.Duration) *loginDoor {
	d := &loginDoor{min: int64(minPlaces), max: int64(max(minPlaces, maxPlaces)), prompt: prompt}
	d.n.Store(d.min)
	d.most.Store(d.min)
	return d
}

// places returns the number of places now.
func (d *loginDoor) places() int64 { return d.n.Load() }

// over accounts for a login that held its place for held; finished says
// it ended with its login over (not by an expired place or a lost
// connection).
func (d *loginDoor) over(held time.Duration, finished bool) {
	for {
		n := d.n.Load()
		next := max(d.min, n-n/4)
		if finished && held <= d.prompt {
			next = min(d.max, n+1)
		}
		if next == n {
			return
		}
		if d.n.CompareAndSwap(n, next) {
			for m := d.most.Load(); next > m && !d.most.CompareAndSwap(m, next); m = d.most.Load() {
			}
			return
		}
	}
}

// loginOver ends the admission of the connection whose context is ctx: its
// login succeeded or failed (a no-op for a context without one).
func loginOver(ctx context.Context) {
	if f, ok := ctx.Value(admitKey{}).(func(bool)); ok {
		f(true)
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
