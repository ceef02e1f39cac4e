package test

import (
	"os"
	"strings"
	"testing"
)

// With the record lost (the state directory deleted), down still removes
// the IPv6 /128 rsprep added, recognised by its IFA_PROTO tag (IPv6 has no
// labels), and leaves the /128 someone else added on lo, which verify
// reports as not rsprep's.
func TestDownWithoutRecordRemovesOnlyTaggedIPv6(t *testing.T) {
	rs, _ := realServer(t)
	mustRun(t, rs, 0, "dr", "--vip", "2001:db8::80")
	rs.Must(t, "ip", "addr", "add", "2001:db8::81/128", "dev", "lo")
	if err := os.RemoveAll(rs.StateDir); err != nil {
		t.Fatal(err)
	}
	v := mustRun(t, rs, 0, "verify", "dr", "--vip", "2001:db8::80,2001:db8::81")
	for _, line := range strings.Split(v.Stdout, "\n") {
		foreign := strings.Contains(line, "not by rsprep")
		if strings.Contains(line, "vip.bound 2001:db8::8") && foreign != strings.Contains(line, "::81") {
			t.Errorf("verify marks the wrong VIP as not rsprep's: %s", line)
		}
	}
	// Exit 1: the sysctls rsprep set stay, only the lost record knew
	// their previous values (see TestLostRecordIsNotSilent).
	d := mustRun(t, rs, 1, "down", "dr", "--vip", "2001:db8::80,2001:db8::81")
	if !strings.Contains(d.Stderr, "no record: removed 2001:db8::80/128 from lo by rsprep's mark alone") {
		t.Errorf("down does not say it removed the VIP by its mark:\n%s", d.Stderr)
	}
	lo := rs.Must(t, "ip", "-o", "addr", "show", "dev", "lo")
	if strings.Contains(lo, "2001:db8::80/128") {
		t.Errorf("down left rsprep's 2001:db8::80/128 without the record:\n%s", lo)
	}
	if !strings.Contains(lo, "2001:db8::81/128") {
		t.Errorf("down removed 2001:db8::81/128, which rsprep did not add:\n%s", lo)
	}
}
