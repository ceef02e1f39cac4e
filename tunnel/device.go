package tunnel

import (
	"errors"
	"fmt"
	"slices"

	"github.com/rsprep/rsprep/realserver"
)

// moduleLoaded is module.<name>, checked by its effect: the module's
// fallback device exists with the right type. /proc/modules would miss a
// built-in module, and a loaded module is no use in a namespace where the
// device did not appear. The fix is modprobe, which succeeds for a
// built-in; if the kernel cannot provide the module, apply stops there.
func moduleLoaded(module, dev, kind string) realserver.Invariant {
	return realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		l, ok, err := v.Link(dev)
		if err != nil {
			return nil, err
		}
		f := realserver.Finding{ID: "module." + module, Subject: module, Want: dev + " of type " + kind, OK: ok && l.Type == kind}
		switch {
		case f.OK:
			f.Got = f.Want
		case ok:
			// Some other device holds the name: loading the module cannot help.
			f.Got = dev + " of type " + l.Type
		default:
			f.Got = "no " + dev
			f.Detail = "modprobe " + module + " creates " + dev + "; in a network namespace other than the first only if net.core.fb_tunnels_only_for_init_net=0"
			f.Fix = []realserver.Change{{Kind: realserver.KindModule, Module: module}}
		}
		return []realserver.Finding{f}, nil
	})
}

// tunnelUp is link.<dev>: the tunnel device exists, has the tunnel's type,
// and is up (tunl0 starts down).
func tunnelUp(dev, kind string) realserver.Invariant {
	up := realserver.LinkUp("link."+dev, dev)
	return realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		fs, err := up.Check(v)
		if err != nil {
			return nil, err
		}
		l, ok, err := v.Link(dev)
		if err != nil {
			return nil, err
		}
		fs[0].Want = "up, type " + kind
		if ok && l.Type != kind {
			fs[0].OK, fs[0].Got, fs[0].Fix = false, "type "+l.Type, nil
		} else if fs[0].OK {
			fs[0].Got = fs[0].Want
		}
		return fs, nil
	})
}

// fouLoaded is module.fou: the fou generic netlink family exists. For an
// IPv6 underlay the fix loads fou6 too (it holds fou's IPv6 encapsulation
// ops; receiving needs only fou, so fou6 is not checked on its own).
func fouLoaded(v6 bool) realserver.Invariant {
	return realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		f := realserver.Finding{ID: "module.fou", Subject: "fou", Want: "loaded", Got: "loaded", OK: true}
		_, err := v.FouPorts()
		switch {
		case errors.Is(err, realserver.ErrNoFou):
			f.OK, f.Got = false, "not loaded"
			f.Fix = []realserver.Change{{Kind: realserver.KindModule, Module: "fou"}}
			if v6 {
				f.Fix = append(f.Fix, realserver.Change{Kind: realserver.KindModule, Module: "fou6"})
			}
		case err != nil:
			return nil, err
		}
		return []realserver.Finding{f}, nil
	})
}

// fouPort is fou.port: a GUE receive port open on the underlay family,
// where the director's --tun-port points. It declares no events: the fou
// generic netlink family sends no notification when a port is added or
// removed, so watch re-checks it at each resync (and when an interface
// appears or changes), never at once (the lab's watch-tun.sh shows it).
func fouPort(fam int, port uint16) realserver.Invariant {
	want := realserver.FouPort{Family: fam, Port: port, GUE: true}
	return realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		f := realserver.Finding{ID: "fou.port", Subject: fmt.Sprintf("%d/ipv%d", port, fam), Want: "ip fou " + want.String(), Got: "absent"}
		ports, err := v.FouPorts()
		if err != nil && !errors.Is(err, realserver.ErrNoFou) {
			return nil, err
		}
		f.Fix = []realserver.Change{{Kind: KindFouAdd, Fou: want}}
		for _, p := range ports {
			if p.Family != fam || p.Port != port {
				continue
			}
			f.Got, f.Fix = "ip fou "+p.String(), nil
			if p.GUE {
				f.OK = true
			} else {
				f.Detail = "somebody else decapsulates this port as plain IP: pick another --encap-port (and --tun-port)"
			}
		}
		return []realserver.Finding{f}, nil
	})
}

// tunnelMode is tunnel.mode: an ip6tnl device takes the inner families
// that arrive on it. ip6tnl0 starts as ip6ip6 and silently drops IPv4
// inside IPv6; the fix is mode any.
func tunnelMode(dev string, inner []int) realserver.Invariant {
	return realserver.CheckFunc(func(v *realserver.View) ([]realserver.Finding, error) {
		want := realserver.ModeIP6IP6
		if slices.Contains(inner, 4) {
			want = realserver.ModeAny
			if len(inner) == 1 {
				want = realserver.ModeIPIP6
			}
		}
		f := realserver.Finding{ID: "tunnel.mode", Subject: dev, Want: "mode " + want.String() + " or any"}
		if want == realserver.ModeAny {
			f.Want = "mode any"
		}
		if _, ok, err := v.Link(dev); err != nil {
			return nil, err
		} else if !ok {
			f.Got = dev + " does not exist"
			return []realserver.Finding{f}, nil
		}
		cur, err := v.TunnelMode(dev)
		if err != nil {
			return nil, err
		}
		f.Got = "mode " + cur.String()
		f.OK = true
		for _, fam := range inner {
			f.OK = f.OK && cur.Accepts(fam)
		}
		if !f.OK {
			f.Fix = []realserver.Change{{Kind: KindTunnelMode, Link: dev, From: int(cur), To: int(realserver.ModeAny)}}
		}
		return []realserver.Finding{f}, nil
	})
}
