package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/vishvananda/netlink"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/kernel"
	"github.com/rsprep/rsprep/systemd/doctor"
)

// liveFacts reads what doctor takes from the running host rather than
// from files: interfaces and their addresses (this namespace), the live
// sysctls doctor asks for, and which of the processes it knows run.
func liveFacts(fp realserver.Footprint) (doctor.Facts, error) {
	host, err := kernel.New()
	if err != nil {
		return doctor.Facts{}, hostError(err)
	}
	defer host.Close()
	links, err := host.Links()
	if err != nil {
		return doctor.Facts{}, hostError(err)
	}
	addrs, err := host.Addrs()
	if err != nil {
		return doctor.Facts{}, hostError(err)
	}
	var f doctor.Facts
	for _, l := range links {
		dl := doctor.Link{Name: l.Name, Type: l.Type, Up: l.Up, ARPCapable: l.ARPCapable()}
		matchFacts(&dl, l.Index)
		for _, a := range addrs {
			if a.Link == l.Name {
				dl.Addrs = append(dl.Addrs, a.Prefix)
			}
		}
		f.Links = append(f.Links, dl)
	}
	f.Sysctls = map[string]int{}
	for _, k := range doctor.Keys(fp, f.Links) {
		data, err := os.ReadFile("/proc/sys/" + k)
		if errors.Is(err, fs.ErrNotExist) {
			continue // no such interface or knob here (no IPv6)
		}
		if err != nil {
			return doctor.Facts{}, fmt.Errorf("reading /proc/sys/%s: %w", k, err)
		}
		if v, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
			f.Sysctls[k] = v
		}
	}
	f.Running, err = runningProcesses(doctor.Processes())
	return f, err
}

// matchFacts adds what networkd's [Match] looks at: the hardware type and
// MAC from netlink, and from sysfs udev's DEVTYPE and the driver — only
// when sysfs shows this namespace's link of that name (same ifindex: after
// --netns, /sys may still be the host's). What cannot be read stays
// unknown, and doctor says it assumed a match.
func matchFacts(l *doctor.Link, index int) {
	if nl, err := netlink.LinkByIndex(index); err == nil {
		l.HWType = nl.Attrs().EncapType
		switch l.HWType { // netlink's names where networkd's differ
		case "ipip":
			l.HWType = "tunnel"
		case "gre":
			l.HWType = "ipgre"
		}
		if mac := nl.Attrs().HardwareAddr; len(mac) == 6 {
			l.MAC = mac.String()
		}
	}
	dir := filepath.Join("/sys/class/net", l.Name)
	if data, err := os.ReadFile(filepath.Join(dir, "ifindex")); err != nil || strings.TrimSpace(string(data)) != strconv.Itoa(index) {
		return
	}
	if data, err := os.ReadFile(filepath.Join(dir, "uevent")); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "DEVTYPE="); ok {
				l.DevType = v
			}
		}
	}
	if drv, err := os.Readlink(filepath.Join(dir, "device/driver")); err == nil {
		l.Driver = filepath.Base(drv)
	}
}

// runningProcesses is the subset of names that some process's comm
// matches. A process that exits while it is read is skipped.
func runningProcesses(names []string) ([]string, error) {
	comms, err := filepath.Glob("/proc/[0-9]*/comm")
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range comms {
		data, err := os.ReadFile(c)
		if err != nil {
			continue
		}
		comm := strings.TrimSpace(string(data))
		if slices.Contains(names, comm) && !slices.Contains(out, comm) {
			out = append(out, comm)
		}
	}
	slices.Sort(out)
	return out, nil
}
