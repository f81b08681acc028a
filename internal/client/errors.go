package client

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hark-intercom/hark/internal/knownrelays"
	"github.com/hark-intercom/hark/proto"
)

// Sentinel errors. Test with errors.Is.
var (
	// ErrClosed is returned by methods of a closed Client.
	ErrClosed = errors.New("the connection to the relay is closed")
	// ErrNotConnected is returned while the client is reconnecting.
	ErrNotConnected = errors.New("not connected to the relay (reconnecting)")
	// ErrNotJoined is returned by Talk when the client is in no channel.
	ErrNotJoined = errors.New("not in a channel: join one first")
	// ErrConnectionLost is returned by a Transmission whose connection dropped.
	ErrConnectionLost = errors.New("the connection to the relay was lost during the transmission")
	// ErrEnded is returned by Send after End.
	ErrEnded = errors.New("the transmission has ended")
)

// AuthError means the relay refused the user name or password.
type AuthError struct {
	Name  string // the user name tried
	Relay string // host:port
	Text  string // the relay's own words
}

func (e *AuthError) Error() string {
	return fmt.Sprintf("wrong user name or password for %s at %s", e.Name, e.Relay)
}

// BusyError means someone else holds the floor.
type BusyError struct {
	Holder string // the talker's name ("" if the relay did not say)
	Reason string // the relay's words, e.g. "busy: alice is talking"
}

func (e *BusyError) Error() string {
	if e.Holder != "" {
		return fmt.Sprintf("busy: %s is talking", e.Holder)
	}
	if e.Reason != "" {
		return e.Reason
	}
	return "busy: someone else is talking"
}

// ForbiddenError means the user lacks the role for a request (paging,
// listing or kicking sessions).
type ForbiddenError struct {
	Name   string // the user
	Action string // what was refused, e.g. "page"
	Text   string // the relay's words
}

func (e *ForbiddenError) Error() string {
	s := fmt.Sprintf("%s is not allowed to %s on this relay", e.Name, e.Action)
	if e.Text != "" {
		s += " (relay says: " + e.Text + ")"
	}
	return s
}

// CutError means the relay cut this client's transmission short while it
// was on the air: a page took the floor everywhere (By names the pager), or
// the transmission reached the relay's maximum length (TooLong). Send and
// End of the Transmission return it; the frames sent after the cut were not
// heard.
//
// It wraps the relay's Error as a *RelayError, so callers that handle
// any refusal with errors.As(err, **RelayError) see it as one.
type CutError struct {
	By      string     // the user whose page cut the transmission ("" if not a page)
	TooLong bool       // the relay's maximum transmission length was reached
	Code    proto.Code // the relay's code: CodeBusy or CodeTooLong
	Text    string     // the relay's own words
}

// Unwrap returns the relay's Error as a *RelayError.
func (e *CutError) Unwrap() error { return &RelayError{Code: e.Code, Text: e.Text} }

func (e *CutError) Error() string {
	switch {
	case e.By != "":
		return "your transmission was cut off: " + e.By + " paged everyone"
	case e.TooLong:
		return "your transmission was cut off: the relay's maximum transmission length was reached"
	case e.Text != "":
		return "your transmission was cut off: " + e.Text
	}
	return "your transmission was cut off by the relay"
}

// cutError returns the *CutError for a relay Error that ends the
// transmission on the air, or nil for any other Error. The relay says
// "paged over by NAME" when a page pre-empts a talker, "busy: NAME is
// paging everyone" when a transmission starts during a page, and
// CodeTooLong at the maximum length (see package relay).
func cutError(m *proto.Error) *CutError {
	if m.About != 0 {
		return nil // an answer to a request, not a cut
	}
	switch m.Code {
	case proto.CodeTooLong:
		return &CutError{TooLong: true, Code: m.Code, Text: m.Text}
	case proto.CodeBusy:
		e := &CutError{Code: m.Code, Text: m.Text}
		if name, ok := strings.CutPrefix(m.Text, "paged over by "); ok {
			e.By = name
		} else if rest, ok := strings.CutPrefix(m.Text, "busy: "); ok {
			e.By, _ = strings.CutSuffix(rest, " is paging everyone")
			if e.By == rest {
				e.By = ""
			}
		}
		return e
	}
	return nil
}

// UnreachableError means no QUIC connection could be made to the relay.
type UnreachableError struct {
	Relay string
	Err   error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach the relay at %s: %v (is it running, and does the network let UDP through?)", e.Relay, e.Err)
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// FingerprintError means the relay presented a certificate other than the
// one pinned with Config.Fingerprint or recorded in the known-relays file.
// The connection was refused.
type FingerprintError struct {
	Relay string
	Want  string // the pinned or recorded fingerprint
	Got   string // what the relay presented
	// Known is set when Want came from the known-relays file.
	Known *knownrelays.MismatchError
}

func (e *FingerprintError) Error() string {
	if e.Known != nil {
		return e.Known.Error()
	}
	return fmt.Sprintf(`the relay at %s presented certificate fingerprint %s, but %s was expected — refusing to connect.
Someone may be intercepting the connection, or the relay was given a new certificate.
Check the fingerprint with the relay's operator (relay fingerprint --data DIR).`, e.Relay, e.Got, e.Want)
}

// RelayError is any other refusal from the relay: a proto.Error or a
// proto.Bye, with its code and the relay's words.
type RelayError struct {
	Code  proto.Code
	About proto.MsgType // the request that failed, 0 if none in particular
	Text  string
	Bye   bool // the relay ended the session
}

func (e *RelayError) Error() string {
	if e.Bye {
		if e.Text != "" {
			return "the relay ended the session: " + e.Text
		}
		return fmt.Sprintf("the relay ended the session (code %d)", e.Code)
	}
	if e.Text != "" {
		return "the relay refused: " + e.Text
	}
	if e.About == 0 {
		return fmt.Sprintf("the relay refused (code %d)", e.Code)
	}
	return fmt.Sprintf("the relay refused the %v request (code %d)", e.About, e.Code)
}

// errorFor converts a relay Error into the most specific error type.
func (c *Client) errorFor(m *proto.Error, action string) error {
	switch m.Code {
	case proto.CodeAuth:
		return &AuthError{Name: c.cfg.Name, Relay: c.Relay(), Text: m.Text}
	case proto.CodeForbidden:
		return &ForbiddenError{Name: c.cfg.Name, Action: action, Text: m.Text}
	case proto.CodeBusy:
		return &BusyError{Reason: m.Text}
	}
	return &RelayError{Code: m.Code, About: m.About, Text: m.Text}
}
