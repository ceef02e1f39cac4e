package tunnel

import "github.com/rsprep/rsprep/realserver"

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
