package persist

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rsprep/rsprep/realserver/persist/atomicfile"
)

// StandDown is a down's intent, kept beside the namespace's record: an
// operator (or a unit's stop) took these VIPs, or the whole mode, down, so
// a running watch must not put them back. Down adds it under the lock
// before its first change; a watch reads it under the lock before every
// repair and stands down when it covers what it keeps; an apply clears
// what it makes true again. So a repair either ran whole before the down,
// which then undoes it, or sees the intent: never in between.
type StandDown struct {
	Mode string       // the mode down was run for
	VIPs []netip.Addr // the VIPs it took down; none: the whole mode (NAT)
	PID  int          // the down's process
	At   time.Time    // when it held the lock
}

func (d StandDown) String() string {
	what := "the whole mode"
	if len(d.VIPs) > 0 {
		what = d.VIPs[0].String()
		if len(d.VIPs) > 1 {
			what += fmt.Sprintf(" and %d more VIP(s)", len(d.VIPs)-1)
		}
	}
	return fmt.Sprintf("rsprep down %s (pid %d, %s) took %s down", d.Mode, d.PID, d.At.Format(time.TimeOnly), what)
}

// covers reports whether d takes down something a keeper of mode and vips
// keeps: one of its VIPs (a VIP down by any mode is down), or its whole
// mode.
func (d StandDown) covers(mode string, vips map[netip.Addr]bool) bool {
	if len(d.VIPs) == 0 {
		return d.Mode == mode || d.Mode == AllModes
	}
	return slices.ContainsFunc(d.VIPs, func(v netip.Addr) bool { return vips[v] })
}

func addrSet(vips []netip.Addr) map[netip.Addr]bool {
	set := make(map[netip.Addr]bool, len(vips))
	for _, v := range vips {
		set[v] = true
	}
	return set
}

// AllModes is the mode of a down of everything rsprep owns in the
// namespace (down --all, down --config, the units' stop): it covers a
// keeper of any mode, and an apply of any mode makes it void.
const AllModes = "all"

func (s Files) standDownPath() string { return s.base() + ".down" }

// AddStandDown adds d to the namespace's intents. The caller holds the
// lock.
func (s Files) AddStandDown(d StandDown) error {
	ds := append(s.standDowns(), d)
	return s.writeStandDowns(ds)
}

// ClearStandDown drops the intents an apply of mode and vips makes void:
// those VIPs are rsprep's to keep again, and the whole mode if it was down.
// The caller holds the lock.
func (s Files) ClearStandDown(mode string, vips []netip.Addr) error {
	ds := s.standDowns()
	if len(ds) == 0 {
		return nil
	}
	set := addrSet(vips)
	out := ds[:0]
	for _, d := range ds {
		if len(d.VIPs) == 0 { // the whole mode, or every mode
			if d.Mode != mode && d.Mode != AllModes {
				out = append(out, d)
			}
			continue
		}
		if d.VIPs = slices.DeleteFunc(d.VIPs, func(v netip.Addr) bool { return set[v] }); len(d.VIPs) > 0 {
			out = append(out, d)
		}
	}
	return s.writeStandDowns(out)
}

// StandDownFor is the intent that covers what a keeper of mode and vips
// keeps, if a down left one since the apply. Only the holder of the lock
// can rely on a "no"; a "yes" holds until an apply, so a watcher may read
// it without the lock to stand down sooner.
func (s Files) StandDownFor(mode string, vips []netip.Addr) (StandDown, bool) {
	ds := s.standDowns()
	if len(ds) == 0 {
		return StandDown{}, false
	}
	set := addrSet(vips)
	for _, d := range ds {
		if d.covers(mode, set) {
			return d, true
		}
	}
	return StandDown{}, false
}

// standDowns reads the intents: one line per down, "PID UNIXNANO MODE
// [VIP…]". A line that cannot be read is a down of every mode rsprep has:
// someone meant the namespace down.
func (s Files) standDowns() []StandDown {
	data, err := os.ReadFile(s.standDownPath())
	if err != nil {
		return nil
	}
	var ds []StandDown
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 3 {
			continue
		}
		d := StandDown{Mode: f[2]}
		d.PID, _ = strconv.Atoi(f[0])
		if ns, err := strconv.ParseInt(f[1], 10, 64); err == nil {
			d.At = time.Unix(0, ns)
		}
		for _, v := range f[3:] {
			if ip, err := netip.ParseAddr(v); err == nil {
				d.VIPs = append(d.VIPs, ip)
			}
		}
		ds = append(ds, d)
	}
	return ds
}

func (s Files) writeStandDowns(ds []StandDown) error {
	if len(ds) == 0 {
		if err := os.Remove(s.standDownPath()); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("removing %s: %w", s.standDownPath(), err)
		}
		return nil
	}
	var b bytes.Buffer
	for _, d := range ds {
		fmt.Fprintf(&b, "%d %d %s", d.PID, d.At.UnixNano(), d.Mode)
		for _, v := range d.VIPs {
			b.WriteString(" " + v.String())
		}
		b.WriteByte('\n')
	}
	return atomicfile.Write(s.standDownPath(), b.Bytes(), 0o600)
}
