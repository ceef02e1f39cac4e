package realserver

// AddrBatcher is a Host that can take many address changes at once. The
// kernel host pipelines them (a window of netlink requests in flight,
// every ack checked); at thousands of VIPs that is what lets apply and
// down keep up with `ip -batch`. The engine hands it each run of address
// changes of one kind in a plan.
type AddrBatcher interface {
	// AddAddrs adds each address as AddAddr does and returns one result
	// per address, in order. After a failure it may stop: an address it
	// did not attempt gets an error too. Addresses after the failing one
	// may have been added (nil).
	AddAddrs(as []Addr) []error
	// DelAddrs removes each address as DelAddr does, with results as
	// AddAddrs gives them.
	DelAddrs(as []Addr) []error
}

// runPlan makes plan's changes in order, calling made for each one that
// took effect, and returns the first that failed. Runs of address changes
// of one kind go to an AddrBatcher host in one call; a change after the
// failing one may then have taken effect too, and made is called for it,
// so that rollback undoes it as well.
func runPlan(h Host, plan []Change, made func(Change)) *ChangeError {
	b, batches := h.(AddrBatcher)
	for i := 0; i < len(plan); {
		c := plan[i]
		if !batches || (c.Kind != KindAddrAdd && c.Kind != KindAddrDel) {
			if err := c.Run(h); err != nil {
				return &ChangeError{Change: c, Err: err}
			}
			made(c)
			i++
			continue
		}
		j := i + 1
		for j < len(plan) && plan[j].Kind == c.Kind {
			j++
		}
		if err := runAddrs(b, plan[i:j], made); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// runAddrs makes one run of address changes, all of one kind, in one call.
func runAddrs(b AddrBatcher, cs []Change, made func(Change)) *ChangeError {
	as := make([]Addr, len(cs))
	for i, c := range cs {
		as[i] = c.Addr
	}
	var errs []error
	if cs[0].Kind == KindAddrAdd {
		errs = b.AddAddrs(as)
	} else {
		errs = b.DelAddrs(as)
	}
	var first *ChangeError
	for i, err := range errs {
		switch {
		case err == nil:
			made(cs[i])
		case first == nil:
			first = &ChangeError{Change: cs[i], Err: err}
		}
	}
	return first
}
