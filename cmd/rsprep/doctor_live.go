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
