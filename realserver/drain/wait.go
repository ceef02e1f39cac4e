package drain

import (
	"fmt"
	"net/netip"
	"time"
)

// Progress is what a drain waits for, decided from successive dumps of
// the connections to the VIPs: a connection never seen before is a new
// one the director sent (its weight is not 0 yet); the director has
// stopped once none has come for Quiet; the drain is over when, after
// that, no connection is open. It is a value: tests feed it dumps.
type Progress struct {
	Quiet time.Duration

	seen     map[[2]netip.AddrPort]bool
	lastNew  time.Time // when the last new connection was seen (the start, at first)
	newest   Conn      // that connection
	newCount int       // new connections seen since the start
	open     []Conn    // the open ones in the last dump
}

// Start begins with the connections there already: they are not new.
func (p *Progress) Start(now time.Time, conns []Conn) {
	p.seen = map[[2]netip.AddrPort]bool{}
	p.lastNew = now
	for _, c := range conns {
		p.seen[[2]netip.AddrPort{c.Local, c.Remote}] = true
	}
	p.Observe(now, conns)
}

// Observe takes one dump of the connections to the VIPs.
func (p *Progress) Observe(now time.Time, conns []Conn) {
	p.open = []Conn{}
	for _, c := range conns {
		key := [2]netip.AddrPort{c.Local, c.Remote}
		if !p.seen[key] {
			p.seen[key] = true
			p.lastNew, p.newest = now, c
			p.newCount++
		}
		if c.Open() {
			p.open = append(p.open, c)
		}
	}
}

// Stopped reports whether the director has sent no new connection for Quiet.
func (p *Progress) Stopped(now time.Time) bool { return now.Sub(p.lastNew) >= p.Quiet }

// Done reports whether the drain is over: the director stopped and no
// connection to the VIPs is open.
func (p *Progress) Done(now time.Time) bool { return p.Stopped(now) && len(p.open) == 0 }

// Open are the connections still open in the last dump.
func (p *Progress) Open() []Conn { return p.open }

// NewConnections counts the connections that came after the start.
func (p *Progress) NewConnections() int { return p.newCount }

// Why says what a drain that ran out of time still waits for.
func (p *Progress) Why(now time.Time) string {
	if !p.Stopped(now) && p.newCount == 0 {
		return fmt.Sprintf("no new connection for %s yet, of the %s (--quiet) that show the director has stopped",
			now.Sub(p.lastNew).Round(time.Millisecond), p.Quiet)
	}
	if !p.Stopped(now) {
		return fmt.Sprintf("the director still sends new connections (the last %s ago: %s); is its check rsprep probe from the --dip address?",
			now.Sub(p.lastNew).Round(time.Millisecond), p.newest)
	}
	return fmt.Sprintf("%d connections to the VIPs still open: %s", len(p.open), Describe(p.open, 10))
}
