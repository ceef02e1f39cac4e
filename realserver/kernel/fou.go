package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

// The fou generic netlink interface, from the kernel's uapi
// include/uapi/linux/fou.h (FOU_GENL_VERSION 1).
const (
	fouGenlVersion = 1
	fouCmdAdd      = 1 // FOU_CMD_ADD
	fouCmdDel      = 2 // FOU_CMD_DEL
	fouAttrPort    = 1 // FOU_ATTR_PORT: __be16
	fouAttrAF      = 2 // FOU_ATTR_AF: u8, AF_INET or AF_INET6
	fouAttrType    = 4 // FOU_ATTR_TYPE: u8
	fouEncapGUE    = 2 // FOU_ENCAP_GUE
)

// fouRequest is the generic netlink payload (genlmsghdr and attributes)
// that `ip fou add|del port P gue [-6]` sends, byte for byte: the port,
// the type, the family, in that order, and no FOU_ATTR_IPPROTO. That last
// part is why rsprep does not use vishvananda/netlink's FouAdd (v1.3.1):
// it always sends FOU_ATTR_IPPROTO, 0 for GUE, and kernels whose fou
// policy wants a protocol of at least 1 (6.1 among them) refuse the whole
// request with ERANGE.
func fouRequest(cmd uint8, p realserver.FouPort) []byte {
	af := byte(unix.AF_INET)
	if p.Family == 6 {
		af = unix.AF_INET6
	}
	b := []byte{cmd, fouGenlVersion, 0, 0} // genlmsghdr: cmd, version, reserved
	b = appendAttr(b, fouAttrPort, binary.BigEndian.AppendUint16(nil, p.Port)...)
	b = appendAttr(b, fouAttrType, fouEncapGUE)
	return appendAttr(b, fouAttrAF, af)
}

// fouFamily resolves the fou generic netlink family; ok is false when the
// kernel has none (fou not loaded).
func (h *Host) fouFamily() (id uint16, ok bool, err error) {
	nl, err := h.nl()
	if err != nil {
		return 0, false, err
	}
	fam, err := nl.GenlFamilyGet("fou")
	if errors.Is(err, unix.ENOENT) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("resolving the fou generic netlink family: %w", err)
	}
	return fam.ID, true, nil
}

func (h *Host) fouDo(cmd uint8, p realserver.FouPort) error {
	id, ok, err := h.fouFamily()
	if err != nil {
		return err
	}
	if !ok {
		return realserver.ErrNoFou
	}
	req := nl.NewNetlinkRequest(int(id), unix.NLM_F_ACK)
	req.AddRawData(fouRequest(cmd, p))
	_, err = req.Execute(unix.NETLINK_GENERIC, 0)
	return err
}

// FouPorts implements realserver.Host.
func (h *Host) FouPorts() ([]realserver.FouPort, error) {
	if _, ok, err := h.fouFamily(); err != nil {
		return nil, err
	} else if !ok {
		return nil, realserver.ErrNoFou
	}
	nl, err := h.nl()
	if err != nil {
		return nil, err
	}
	fous, err := retryDump("fou", func() ([]netlink.Fou, error) { return nl.FouList(0) })
	if err != nil {
		return nil, err
	}
	out := make([]realserver.FouPort, 0, len(fous))
	for _, f := range fous {
		p := realserver.FouPort{Family: 4, Port: uint16(f.Port), GUE: f.EncapType == fouEncapGUE, Proto: f.Protocol}
		if f.Family == unix.AF_INET6 {
			p.Family = 6
		}
		out = append(out, p)
	}
	return out, nil
}

// AddFouPort implements realserver.Host.
func (h *Host) AddFouPort(p realserver.FouPort) error {
	err := h.fouDo(fouCmdAdd, p)
	if errors.Is(err, unix.EALREADY) || errors.Is(err, unix.EEXIST) {
		return nil // the kernel's answer for a port that is open already
	}
	if err != nil {
		return fmt.Errorf("ip fou add %s: %w", p, err)
	}
	return nil
}

// DelFouPort implements realserver.Host. The kernel answers EINVAL for a
// port that is not open, so it looks first.
func (h *Host) DelFouPort(p realserver.FouPort) error {
	ports, err := h.FouPorts()
	if errors.Is(err, realserver.ErrNoFou) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, x := range ports {
		if x.Family == p.Family && x.Port == p.Port {
			if err := h.fouDo(fouCmdDel, p); err != nil {
				return fmt.Errorf("ip fou del %s: %w", p, err)
			}
		}
	}
	return nil
}
