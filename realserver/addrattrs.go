package realserver

import (
	"fmt"
	"time"
)

// addOptions renders what ip addr add needs besides the prefix and the
// label to make a as it is: its tag, scope, flags and lifetimes.
func (a Addr) addOptions() string {
	var s string
	if a.Proto != 0 {
		s += fmt.Sprintf(" proto %d", a.Proto)
	}
	if a.Scope != 0 {
		s += fmt.Sprintf(" scope %d", a.Scope)
	}
	for _, f := range []struct {
		bit  uint32
		name string
	}{{0x02, "nodad"}, {0x04, "optimistic"}, {0x10, "home"}, {0x100, "mngtmpaddr"}, {0x200, "noprefixroute"}, {0x400, "autojoin"}} {
		if a.Flags&f.bit != 0 {
			s += " " + f.name
		}
	}
	if a.ValidUntil != 0 {
		valid, preferred := a.Lifetimes(time.Now())
		s += fmt.Sprintf(" valid_lft %d preferred_lft %d", valid, preferred)
	}
	return s
}

// Lifetimes are a's valid and preferred lifetimes left at now, in seconds,
// as ip addr add takes them: valid at least 1 (the kernel refuses 0), and
// preferred at most valid. Only for an address that expires (ValidUntil).
func (a Addr) Lifetimes(now time.Time) (valid, preferred uint32) {
	left := func(until int64) uint32 { return uint32(max(0, min(until-now.Unix(), 0xfffffffe))) }
	valid, preferred = max(1, left(a.ValidUntil)), left(a.PreferredUntil)
	return valid, min(preferred, valid)
}

// expired reports whether a's valid lifetime has run out at now: the
// kernel would have removed it by then.
func (a Addr) expired(now time.Time) bool { return a.ValidUntil != 0 && now.Unix() >= a.ValidUntil }
