package fake

import (
	"fmt"
	"net"
	"net/netip"

	"github.com/rsprep/rsprep/realserver"
)

// Routes implements realserver.Host.
func (h *Host) Routes() ([]realserver.Route, error) { return h.TableRoutes(4, 0) }

// TableRoutes implements realserver.Host.
func (h *Host) TableRoutes(fam, table int) ([]realserver.Route, error) {
	if err := h.dump("route"); err != nil {
		return nil, err
	}
	return h.sim.TableRoutes(fam, table)
}

// AddRoute implements realserver.Host.
func (h *Host) AddRoute(r realserver.Route) error {
	if err := h.write(); err != nil {
		return err
	}
	return h.sim.AddRoute(r)
}

// DelRoute implements realserver.Host.
func (h *Host) DelRoute(r realserver.Route) error {
	if err := h.write(); err != nil {
		return err
	}
	return h.sim.DelRoute(r)
}

// NeighborEntry is ip's neighbour entry as "STATE MAC", or "none": what a
// test asserts of a pinned gateway. It is not a dump (Dumps).
func (h *Host) NeighborEntry(ip netip.Addr) string {
	ns, _ := h.sim.Neighbors()
	for _, n := range ns {
		if n.IP == ip {
			return string(n.State) + " " + n.MAC.String()
		}
	}
	return "none"
}

// Neighbors implements realserver.Host.
func (h *Host) Neighbors() ([]realserver.Neighbor, error) {
	if err := h.dump("neighbour"); err != nil {
		return nil, err
	}
	return h.sim.Neighbors()
}

// SetNeighbor implements realserver.Host.
func (h *Host) SetNeighbor(n realserver.Neighbor) error {
	if err := h.write(); err != nil {
		return err
	}
	return h.sim.SetNeighbor(n)
}

// DelNeighbor implements realserver.Host.
func (h *Host) DelNeighbor(n realserver.Neighbor) error {
	if err := h.write(); err != nil {
		return err
	}
	return h.sim.DelNeighbor(n)
}

// Resolve implements realserver.Host from what SetWire says, as an ARP
// probe does on the kernel (the answer refreshes a learned entry, see
// realserver.Sim.RefreshNeighbor).
func (h *Host) Resolve(link string, ip netip.Addr) (net.HardwareAddr, error) {
	h.probes++
	if h.readErr != nil {
		return nil, h.readErr
	}
	mac, ok := h.wire[ip]
	if !ok || mac == nil {
		return nil, fmt.Errorf("no ARP answer from %s on %s", ip, link)
	}
	h.sim.RefreshNeighbor(link, ip, mac)
	return mac, nil
}
