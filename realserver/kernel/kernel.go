// Package kernel is the Linux implementation of realserver.Host: rtnetlink
// through vishvananda/netlink, sysctls through go-sysctl.
//
// It acts in the network namespace of the thread that calls New; the
// caller keeps all calls on that thread (see cmd/rsprep's netns handling).
package kernel

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

// dumpRetries bounds the retries of a netlink dump the kernel interrupted
// because the table changed under it (NLM_F_DUMP_INTR).
const dumpRetries = 5

// Host talks to the kernel of the calling thread's network namespace.
type Host struct {
	nlh       *netlink.Handle         // opened on first use (nl): DR's runs never need it
	rtnl      *rtnl                   // addresses: pipelined writes, dumps parsed in place
	addrsSeen int                     // addresses in the last dump, to size the next
	links     map[string]netlink.Link // by name, refreshed on a miss
	names     map[int]string          // link names by index, from the last link dump
	sysctls   sysctlClients

	// dumpsSent counts the dump requests sent, by table ("link",
	// "address", …), retries included: tests assert on it that a run
	// reads each table once.
	dumpsSent map[string]int
}

// New opens the rtnetlink socket that links, addresses and sysctls need,
// reused for every request: a socket per request would cost a syscall
// round trip per VIP. vishvananda/netlink's handle (routes, neighbours,
// rules, fou) is opened when first needed, on the same thread (see the
// package comment): a DR run never needs it, and opening it cost a socket,
// its registration with the runtime's poller and a timeout, ~2% of a cold
// N=1 apply.
func New() (*Host, error) {
	r, err := openRtnl()
	if err != nil {
		return nil, fmt.Errorf("opening rtnetlink: %w", err)
	}
	return &Host{rtnl: r, sysctls: sysctlClients{}, dumpsSent: map[string]int{}}, nil
}

// ExpectAddrs sizes the first address dump for at least n addresses (a
// mode's VIPs): at 10,000 VIPs, a list grown by doubling from nothing was
// copied 14 times into fresh pages, a tenth of a verify.
func (h *Host) ExpectAddrs(n int) { h.addrsSeen = max(h.addrsSeen, n) }

// nl is vishvananda/netlink's handle, opened on first use.
func (h *Host) nl() (*netlink.Handle, error) {
	if h.nlh != nil {
		return h.nlh, nil
	}
	nh, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("opening rtnetlink: %w", err)
	}
	if err := nh.SetSocketTimeout(10 * time.Second); err != nil {
		nh.Close()
		return nil, fmt.Errorf("setting the rtnetlink timeout: %w", err)
	}
	h.nlh = nh
	return nh, nil
}

// Close releases the netlink sockets.
func (h *Host) Close() {
	if h.nlh != nil {
		h.nlh.Close()
	}
	h.rtnl.close()
}

// retryDump repeats an interrupted dump; if it keeps being interrupted the
// caller gets an error (cannot observe), never partial results.
func retryDump[T any](what string, dump func() ([]T, error)) ([]T, error) {
	for i := 0; ; i++ {
		out, err := dump()
		if err == nil {
			return out, nil
		}
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return nil, err
		}
		if i == dumpRetries {
			return nil, fmt.Errorf("the %s dump was interrupted %d times in a row (%w)", what, i+1, realserver.ErrKeepsChanging)
		}
	}
}

func isGone(err error) bool {
	var nf netlink.LinkNotFoundError
	return errors.As(err, &nf) || errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.ENOENT) ||
		errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENODEV)
}

// LoadModule implements realserver.Host with modprobe, which also finds
// built-in modules (modules.builtin) and succeeds for them.
func (h *Host) LoadModule(name string) error {
	out, err := exec.Command("modprobe", name).CombinedOutput()
	h.links = nil // a module may create devices (tunl0)
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("loading module %s: %s", name, msg)
	}
	waitModuleLive(sysModule+strings.ReplaceAll(name, "-", "_")+"/initstate", moduleInitWait)
	settleUdev()
	return nil
}

// moduleInitWait bounds waitModuleLive: a module's init creates a device
// in every namespace, which takes seconds with hundreds of them on a slow
// machine, and far less anywhere else.
const moduleInitWait = 10 * time.Second

// sysModule is where the kernel shows each module's state.
const sysModule = "/sys/module/"

// waitModuleLive waits until the kernel has finished the module's init.
// modprobe succeeds at once for a module that another process is still
// loading (/sys/module/NAME/initstate "coming"): both kmod and busybox
// count it as loaded. The module's init is what creates the fallback
// devices (tunl0, ip6tnl0, gre0) in every namespace, so without the wait
// apply checks too early and reports the device missing. Seen in the VM
// lab, where two rsprep loaded ip6_tunnel at once. A built-in module has
// no initstate file, so there is nothing to wait for; nor for a module
// that is "live" already, or "going" (then the check after the fix says
// what is missing).
func waitModuleLive(initstate string, bound time.Duration) {
	deadline := time.Now().Add(bound)
	for {
		b, err := os.ReadFile(initstate)
		if err != nil || strings.TrimSpace(string(b)) != "coming" || time.Now().After(deadline) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// udevControl exists while udevd runs (not in containers, initramfs labs).
const udevControl = "/run/udev/control"

// settleUdev waits for udev to finish the events a module load set off.
// A device the module creates (ipip: tunl0) makes udev run systemd-sysctl
// on it (systemd's 99-systemd.rules), which applies sysctl.d wildcards
// such as `net.ipv4.conf.*.rp_filter = 2` (systemd's own default on
// Fedora and Arch, and common in hardening baselines). Without the wait,
// that lands after rsprep has set and checked tunl0, and silently undoes
// it. Best effort: without udev, or if settling fails, apply goes on and
// verify reports whatever changes later.
func settleUdev() {
	if _, err := os.Stat(udevControl); err != nil {
		return
	}
	exec.Command("udevadm", "settle", "--timeout=10").Run()
}
