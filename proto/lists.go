package proto

// recordPrefixLen is the length prefix of a record in version v.
func recordPrefixLen(v uint16) int {
	if v >= Version2 {
		return 2
	}
	return 0
}

// listOverhead is what a Presence or Sessions message takes besides its
// records: the type byte, the count and the more flag.
const listOverhead = 1 + 2 + 1

// SplitPresence returns the Presence messages that carry users to a peer
// speaking version v: one when they fit, else as many as needed, each within
// [MaxMessageSize] and [MaxListLen], every one but the last with More set
// (version 2 on). The messages' Users alias users. It never returns an empty
// slice: no users is one empty Presence.
//
// A version-1 peer knows no More: see [Presence] for how such a snapshot is
// sent.
func SplitPresence(users []UserInfo, v uint16) []*Presence {
	parts := split(users, v)
	out := make([]*Presence, len(parts))
	for i, p := range parts {
		out[i] = &Presence{Users: p, More: v >= Version2 && i < len(parts)-1}
	}
	return out
}

// SplitSessions is [SplitPresence] for a session list.
func SplitSessions(sessions []SessionInfo, v uint16) []*Sessions {
	parts := split(sessions, v)
	out := make([]*Sessions, len(parts))
	for i, p := range parts {
		out[i] = &Sessions{Sessions: p, More: v >= Version2 && i < len(parts)-1}
	}
	return out
}

// split cuts list into runs that each fit one list message of version v.
func split[T any, P interface {
	*T
	EncodedLen(v uint16) int
}](list []T, v uint16) [][]T {
	var out [][]T
	start, size := 0, listOverhead
	for i := range list {
		n := P(&list[i]).EncodedLen(v)
		if i > start && (size+n > MaxMessageSize || i-start == MaxListLen) {
			out = append(out, list[start:i:i])
			start, size = i, listOverhead
		}
		size += n
	}
	return append(out, list[start:len(list):len(list)])
}
