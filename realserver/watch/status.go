package watch

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rsprep/rsprep/realserver"
)

// Status is what the watcher knows, for the textfile and systemd's STATUS=.
type Status struct {
	Mode       string
	Checks     []realserver.Finding // the latest finding of every check
	Repairs    map[string]int       // per check ID, since start; every known ID is present
	Drift      map[string]int       // findings seen drifting (repaired or not; a lasting drift once), per check ID, since start
	Fights     map[string]bool      // per check ID: damped now
	LastResync time.Time            // the last full re-check
}

// IDs is every check ID the status knows, sorted.
func (s Status) IDs() []string { return slices.Sorted(maps.Keys(s.Repairs)) }

// Summary is one line: systemd's STATUS=.
func (s Status) Summary() string {
	failing, first := 0, ""
	for _, f := range s.Checks {
		if !f.OK {
			if failing == 0 {
				first = f.ID + " " + f.Subject
			}
			failing++
		}
	}
	repairs := 0
	for _, n := range s.Repairs {
		repairs += n
	}
	var fights []string
	for _, id := range s.IDs() {
		if s.Fights[id] {
			fights = append(fights, id)
		}
	}
	return summary(s.Mode, len(s.Checks), failing, first, repairs, fights)
}

// summary is STATUS=: how many checks fail of total (the first named),
// the repairs so far, and the checks damped (fights, sorted).
func summary(mode string, total, failing int, first string, repairs int, fights []string) string {
	var b strings.Builder
	if failing == 0 {
		fmt.Fprintf(&b, "%s: all %d checks hold", mode, total)
	} else { // degraded: a director not up yet, a fight
		fmt.Fprintf(&b, "%s: degraded: %d of %d checks fail (%s)", mode, failing, total, first)
	}
	fmt.Fprintf(&b, "; %d repairs", repairs)
	if len(fights) > 0 {
		fmt.Fprintf(&b, "; not repairing (fight): %s", strings.Join(fights, ", "))
	}
	return b.String()
}
