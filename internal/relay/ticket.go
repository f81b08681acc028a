package relay

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"time"

	"github.com/quic-go/quic-go"
)

// Resume tickets let a client log in again (after a dropped connection or a
// relay restart) without a password check: a relay restart then costs no
// password hashing, so a thousand clients are back in seconds instead of
// queueing for bcrypt.
//
// A ticket is opaque to clients. Its layout (ticketLen bytes):
//
//	0  u8        format (ticketFormat)
//	1  u64       expiry, unix seconds (the relay's clock)
//	9  [32]byte  HMAC-SHA256(ticket key, format | expiry | u16 len(name) |
//	             name | the user's credential stamp)
//
// The credential stamp (see [Credentials]) changes when the user's password
// changes, so a new password ends every ticket issued before it; a removed
// user has none. The ticket key is derived from Config.Secret, kept in the
// data directory, so tickets survive a restart.
const (
	ticketFormat = 1
	ticketLen    = 1 + 8 + sha256.Size
)

// Reasons a ticket is refused (logged, counted together).
var (
	errTicketForm    = errors.New("not a ticket of this relay")
	errTicketExpired = errors.New("the ticket expired")
	errTicketMAC     = errors.New("the ticket is not valid for this user (forged, from another relay or secret, or the password changed)")
)

// keys derives the relay's keys from its secret.
type keys struct {
	ticket []byte
	reset  quic.StatelessResetKey
}

func deriveKeys(secret []byte) keys {
	d := func(label string) []byte {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	k := keys{ticket: d("hark resume ticket key v1")}
	copy(k.reset[:], d("hark quic stateless reset key v1"))
	return k
}

func ticketMAC(key []byte, expiry uint64, name, stamp string) []byte {
	m := hmac.New(sha256.New, key)
	var hdr [11]byte
	hdr[0] = ticketFormat
	binary.BigEndian.PutUint64(hdr[1:], expiry)
	binary.BigEndian.PutUint16(hdr[9:], uint16(len(name)))
	m.Write(hdr[:])
	m.Write([]byte(name))
	m.Write([]byte(stamp))
	return m.Sum(nil)
}

// issueTicket makes a ticket for name, valid until now+life.
func (k *keys) issueTicket(name, stamp string, now time.Time, life time.Duration) []byte {
	expiry := uint64(now.Add(life).Unix())
	b := make([]byte, 9, ticketLen)
	b[0] = ticketFormat
	binary.BigEndian.PutUint64(b[1:], expiry)
	return append(b, ticketMAC(k.ticket, expiry, name, stamp)...)
}

// checkTicket reports whether t is a valid, unexpired ticket for name with
// the user's current credential stamp.
func (k *keys) checkTicket(t []byte, name, stamp string, now time.Time) error {
	if len(t) != ticketLen || t[0] != ticketFormat {
		return errTicketForm
	}
	expiry := binary.BigEndian.Uint64(t[1:])
	if !hmac.Equal(t[9:], ticketMAC(k.ticket, expiry, name, stamp)) {
		return errTicketMAC
	}
	if uint64(now.Unix()) >= expiry {
		return errTicketExpired
	}
	return nil
}
