package test

import (
	"strings"
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

// The snapshot must see what rsprep changes, or every "unchanged" assertion
// built on it would pass vacuously.
func TestSnapshotSeesSysctlAndAddressChanges(t *testing.T) {
	ns := nstest.New(t, "snap")
	before := ns.Snapshot(t)
	ns.Must(t, "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1")
	mid := ns.Snapshot(t)
	if mid == before || !strings.Contains(mid, "sysctl all/arp_ignore=1") {
		t.Fatalf("snapshot missed a sysctl change:\n%s", mid)
	}
	ns.Must(t, "ip", "addr", "add", "192.0.2.7/32", "dev", "lo")
	if after := ns.Snapshot(t); after == mid || !strings.Contains(after, "192.0.2.7/32") {
		t.Fatalf("snapshot missed an address change:\n%s", after)
	}
}
