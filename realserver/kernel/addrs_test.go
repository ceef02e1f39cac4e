package kernel

import (
	"errors"
	"fmt"
	"net/netip"
	"os/exec"
	"runtime"
	"slices"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/test/nstest"
)

// inFreshNetns runs f on a thread moved into a new network namespace (lo
// up), with a Host opened there.
func inFreshNetns(t *testing.T, f func(h *Host)) {
	t.Helper()
	nstest.NeedRoot(t)
	done := make(chan struct{})
	go func() { // a goroutine of its own: its thread is discarded, not reused
		defer close(done)
		runtime.LockOSThread() // never unlocked: the thread dies in the namespace
		if _, err := netns.New(); err != nil {
			t.Error(err)
			return
		}
		h, err := New()
		if err != nil {
			t.Error(err)
			return
		}
		defer h.Close()
		if err := h.SetLinkUp("lo", true); err != nil {
			t.Error(err)
			return
		}
		f(h)
	}()
	<-done
}

func vip(i int) realserver.Addr {
	return realserver.VIPAddr(netip.AddrFrom4([4]byte{10, 200, byte(i / 250), byte(i%250 + 1)}), "lo")
}

func loAddrs(t *testing.T, h *Host) []realserver.Addr {
	t.Helper()
	as, err := h.Addrs()
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// The in-place dump reads every kind of address exactly as
// vishvananda/netlink's AddrList did: labels, prefixes, broadcast subnets,
// IPv6, and a point-to-point peer.
func TestAddrsReadLikeNetlinkAddrList(t *testing.T) {
	inFreshNetns(t, func(h *Host) {
		for _, args := range [][]string{
			{"addr", "add", "192.0.2.1/24", "dev", "lo", "label", "lo:x"},
			{"addr", "add", "198.51.100.1", "peer", "198.51.100.2/32", "dev", "lo"},
			{"addr", "add", "2001:db8::1/128", "dev", "lo"},
			{"addr", "add", "2001:db8:1::1/64", "dev", "lo"},
		} {
			// ip acts in the namespace of the thread that forks it: this one.
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				t.Fatalf("ip %v: %v: %s", args, err, out)
			}
		}
		if errs := h.AddAddrs([]realserver.Addr{vip(0), vip(1)}); errors.Join(errs...) != nil {
			t.Fatal(errs)
		}
		want := oldAddrs(t, h)
		got := loAddrs(t, h)
		tags := map[netip.Prefix]uint8{}
		for i := range got {
			tags[got[i].Prefix] = got[i].Proto
			got[i].Proto = 0 // netlink v1.3.1 does not read IFA_PROTO
		}
		if !slices.Equal(got, want) {
			t.Fatalf("Addrs:\n got %v\nwant %v (netlink.AddrList)", got, want)
		}
		// rsprep's tag is what the kernel keeps and reports (≥ 5.18); an
		// address ip(8) added has none.
		for p, proto := range map[netip.Prefix]uint8{vip(0).Prefix: realserver.AddrProto, vip(1).Prefix: realserver.AddrProto, netip.MustParsePrefix("2001:db8::1/128"): 0} {
			if tags[p] != proto {
				t.Errorf("%s has IFA_PROTO %d, want %d", p, tags[p], proto)
			}
		}
		if len(got) < 8 {
			t.Fatalf("Addrs saw only %v", got)
		}
	})
}

// oldAddrs is the address list as Addrs made it with netlink.AddrList.
func oldAddrs(t *testing.T, h *Host) []realserver.Addr {
	if _, err := h.Links(); err != nil {
		t.Fatal(err)
	}
	names := h.names
	as, err := mustNL(t, h).AddrList(nil, netlink.FAMILY_ALL)
	if err != nil {
		t.Fatal(err)
	}
	var out []realserver.Addr
	for _, a := range as {
		ip, _ := netip.AddrFromSlice(a.IP)
		ones, _ := a.Mask.Size()
		out = append(out, realserver.Addr{Link: names[a.LinkIndex], Prefix: netip.PrefixFrom(ip.Unmap(), ones), Label: a.Label,
			Scope: uint8(a.Scope), Flags: uint32(a.Flags) & realserver.AddrSettableFlags}) // all of them forever
	}
	return out
}

// Pipelined writes: every ack is checked; adding what is there and
// deleting what is gone are success.
func TestAddrBatchesAreIdempotent(t *testing.T) {
	inFreshNetns(t, func(h *Host) {
		as := []realserver.Addr{realserver.VIPAddr(netip.MustParseAddr("2001:db8::1"), "lo")}
		for i := range 3*window + 5 {
			as = append(as, vip(i))
		}
		for round := range 2 {
			if err := errors.Join(h.AddAddrs(as)...); err != nil {
				t.Fatalf("add, round %d: %v", round, err)
			}
		}
		if got := len(loAddrs(t, h)); got != len(as)+2 { // and 127.0.0.1/8, ::1/128
			t.Fatalf("%d addresses after adding %d", got, len(as))
		}
		if got := loAddrs(t, h); !slices.Contains(got, as[0]) || !slices.Contains(got, as[1]) {
			t.Fatalf("Addrs: %v, want %v and %v among them", got, as[0], as[1])
		}
		for round := range 2 {
			if err := errors.Join(h.DelAddrs(as)...); err != nil {
				t.Fatalf("delete, round %d: %v", round, err)
			}
		}
		if got := len(loAddrs(t, h)); got != 2 {
			t.Fatalf("%d addresses left after deleting them all", got)
		}
	})
}

// A failure in the middle of a pipelined batch is reported for exactly that
// address; the requests after it in the same window did happen (nil, so
// that rollback undoes them); nothing is sent after that window.
func TestAddrBatchReportsEachResult(t *testing.T) {
	inFreshNetns(t, func(h *Host) {
		const bad = 10
		as := make([]realserver.Addr, 2*window)
		for i := range as {
			as[i] = vip(i)
		}
		as[bad].Prefix = netip.PrefixFrom(as[bad].Prefix.Addr(), 33) // EINVAL
		errs := h.AddAddrs(as)
		if len(errs) != len(as) {
			t.Fatalf("%d results for %d addresses, want one each", len(errs), len(as))
		}
		present := map[netip.Prefix]bool{}
		for _, a := range loAddrs(t, h) {
			present[a.Prefix] = true
		}
		for i, err := range errs {
			var want string
			switch {
			case i == bad:
				want = "failed"
			case i < window:
				want = "made"
			default:
				want = "not sent"
			}
			got := fmt.Sprintf("error %v", err)
			switch {
			case err == nil && present[as[i].Prefix]:
				got = "made"
			case errors.Is(err, errNotSent) && !present[as[i].Prefix]:
				got = "not sent"
			case err != nil && i == bad:
				got = "failed"
			}
			if got != want {
				t.Errorf("address %d (%s): %s, want %s", i, as[i].Prefix, got, want)
			}
		}
	})
}
