package kernel

// linkNamer names the links of one dump's entries (addresses, routes,
// neighbours carry an ifindex) from the host's last link dump, so that an
// observation dumps links once, not once per table. An index that link dump
// does not know is a link made since: that refreshes it, at most once per
// dump; an index still unknown then is a link gone again, and gets no name.
type linkNamer struct {
	h         *Host
	refreshed bool
	err       error // the refresh failed: the dump's names cannot be trusted
}

func (h *Host) namer() *linkNamer { return &linkNamer{h: h} }

// name is the name of the link with this index ("" for none: index 0 is
// no link, as on a multipath route's own header).
func (n *linkNamer) name(index int) string {
	if name, ok := n.h.names[index]; ok || index == 0 || n.refreshed {
		return name
	}
	n.refreshed = true
	if _, n.err = n.h.Links(); n.err != nil {
		return ""
	}
	return n.h.names[index]
}
