package client

import (
	"sort"

	"github.com/hark-intercom/hark/proto"
)

// Roster is who is online, as the relay's presence messages tell it, seen
// from one session: it knows the session's own id and channel and reports
// each change in the terms a front end shows ("bob joined your channel",
// "carol went offline"). Every front end (talk's event lines, the terminal
// UI, the engine's cues, the gateway's browser sessions) keeps its roster
// in one of these.
//
// Feed it every event message with [Roster.Apply]. The zero value is an
// empty roster that learns the session's id from [proto.Welcome] (or
// [Roster.SetSelf]). A Roster is not safe for concurrent use: its owner
// applies events and reads it from one goroutine, or guards it.
type Roster struct {
	self    uint32
	channel string // the session's own channel, "" when in none
	users   map[uint32]proto.UserInfo
}

// ChangeKind says what a [Change] reports.
type ChangeKind int

// Change kinds.
const (
	ChangeOnline  ChangeKind = iota + 1 // logged in
	ChangeOffline                       // logged out or dropped
	ChangeMoved                         // joined or left a channel
	ChangeTalking                       // started or stopped talking
)

// Change is one user's change, as [Roster.Apply] reports it.
type Change struct {
	Kind ChangeKind
	// User is the user as they are now (for ChangeOffline: as they were,
	// with Channel cleared).
	User proto.UserInfo
	// Prev is the user as the roster knew them before, if Known.
	Prev  proto.UserInfo
	Known bool
	// Self: the change is this session's own.
	Self bool
	// Came: another user is now in this session's channel and was not
	// before (they joined it, or logged in straight into it). Went: another
	// user was in this session's channel and is not any more (they moved
	// away, left or went offline). Both are false while this session is in
	// no channel.
	Came, Went bool
}

// SetSelf tells the roster this session's id (it also learns it from
// [proto.Welcome]).
func (r *Roster) SetSelf(session uint32) { r.self = session }

// SetChannel tells the roster this session's channel ("" for none), for
// front ends that learn it from the client rather than from a
// [proto.Joined] event.
func (r *Roster) SetChannel(name string) { r.channel = name }

// Self returns this session's id, 0 before the login.
func (r *Roster) Self() uint32 { return r.self }

// Channel returns the channel this session is in, as the relay last said.
func (r *Roster) Channel() string { return r.channel }

// Apply updates the roster from one event message and reports the changes
// it made. It understands [proto.Welcome] (the session's id), [proto.Joined]
// (its channel), [proto.Presence] (a whole snapshot: it replaces the roster
// and reports nothing), [proto.PresenceChange] and [proto.Talking]; other
// messages are ignored.
func (r *Roster) Apply(m proto.Message) []Change {
	if r.users == nil {
		r.users = map[uint32]proto.UserInfo{}
	}
	switch m := m.(type) {
	case *proto.Welcome:
		r.self = m.Session
	case *proto.Joined:
		r.channel = m.Name
	case *proto.Presence:
		clear(r.users)
		for _, u := range m.Users {
			r.users[u.Session] = u
			if u.Session == r.self && r.self != 0 {
				r.channel = u.Channel
			}
		}
	case *proto.PresenceChange:
		return []Change{r.change(m)}
	case *proto.Talking:
		u, known := r.users[m.Session]
		prev := u
		if !known {
			if !m.Talking {
				return nil
			}
			// A talker the roster has not heard of yet (its presence is on
			// the way): it talks in this session's channel.
			u = proto.UserInfo{Session: m.Session, Name: m.Name, Channel: r.channel}
		}
		u.Talking = m.Talking
		r.users[m.Session] = u
		return []Change{{Kind: ChangeTalking, User: u, Prev: prev, Known: known, Self: m.Session == r.self && r.self != 0}}
	}
	return nil
}

func (r *Roster) change(m *proto.PresenceChange) Change {
	u := m.User
	prev, known := r.users[u.Session]
	self := u.Session == r.self && r.self != 0
	c := Change{Prev: prev, Known: known, Self: self}
	switch m.Kind {
	case proto.PresenceOffline:
		c.Kind = ChangeOffline
		delete(r.users, u.Session)
		u.Channel, u.Talking = "", false
	case proto.PresenceOnline:
		c.Kind = ChangeOnline
		r.users[u.Session] = u
	default:
		c.Kind = ChangeMoved
		r.users[u.Session] = u
	}
	c.User = u
	mine := r.channel
	if self {
		if m.Kind != proto.PresenceOffline {
			r.channel = u.Channel
		}
		return c
	}
	if mine != "" {
		was := known && prev.Channel == mine
		c.Came = u.Channel == mine && !was
		c.Went = was && u.Channel != mine
	}
	return c
}

// User returns one user by session id.
func (r *Roster) User(session uint32) (proto.UserInfo, bool) {
	u, ok := r.users[session]
	return u, ok
}

// Name returns a session's user name, or "" if the roster does not know it.
func (r *Roster) Name(session uint32) string { return r.users[session].Name }

// Len returns how many sessions are online.
func (r *Roster) Len() int { return len(r.users) }

// Users returns everyone online, sorted by name (then session id).
func (r *Roster) Users() []proto.UserInfo {
	us := make([]proto.UserInfo, 0, len(r.users))
	for _, u := range r.users {
		us = append(us, u)
	}
	sort.Slice(us, func(i, j int) bool {
		if us[i].Name != us[j].Name {
			return us[i].Name < us[j].Name
		}
		return us[i].Session < us[j].Session
	})
	return us
}

// Talker returns who is talking in a channel, if anyone.
func (r *Roster) Talker(channel string) (proto.UserInfo, bool) {
	for _, u := range r.users {
		if u.Talking && u.Channel == channel {
			return u, true
		}
	}
	return proto.UserInfo{}, false
}
