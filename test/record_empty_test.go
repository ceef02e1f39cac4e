package test

import "testing"

// A down that undoes the last of what rsprep did leaves its record, empty:
// a second down then knows rsprep undid everything here, and exits 0 even
// where the host holds a value the mode sets (arp_ignore=1 from before
// rsprep). Without the file it would read as a lost record (exit 1).
func TestEmptiedRecordStaysSoASecondDownIsQuiet(t *testing.T) {
	rs, _ := realServer(t)
	rs.Must(t, "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1")
	mustRun(t, rs, 0, "dr", "--vip", vip)
	mustRun(t, rs, 0, "down", "dr", "--vip", vip)
	mustRun(t, rs, 0, "down", "dr", "--vip", vip)
	if rec, err := state(t, rs).Load(); err != nil || len(rec.Changes) != 0 {
		t.Fatalf("record after down: %+v, %v; want an empty one", rec, err)
	}
}
