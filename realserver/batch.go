package realserver

import (
	"context"
	"os"
	"syscall"
)

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

// batchChunk bounds one AddrBatcher call: between chunks the run can stop
// at a safe point (ctx) and log what the chunk changed, so an interrupted
// 10,000-VIP apply has logged every address it bound before it rolls
// them back. A chunk is a few ms of kernel work.
const batchChunk = 256

// InterruptedError means the run was stopped at a safe point (Ctrl-C,
// SIGTERM) before it finished; what it had changed is rolled back.
type InterruptedError struct{ Cause error }

func (e *InterruptedError) Error() string { return "interrupted (" + e.Cause.Error() + ")" }
func (e *InterruptedError) Unwrap() error { return e.Cause }

// SignalError is the cause of a run stopped by a signal (SIGINT: exit
// 130, SIGTERM: 143, as a shell reports a process the signal killed).
type SignalError struct{ Signal os.Signal }

func (e SignalError) Error() string {
	switch e.Signal {
	case syscall.SIGINT:
		return "stopped by SIGINT"
	case syscall.SIGTERM:
		return "stopped by SIGTERM"
	}
	return "stopped by " + e.Signal.String()
}

// ExitCode is 128 + the signal's number.
func (e SignalError) ExitCode() int {
	if n, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 1
}

// interrupted is ctx's stop as an *InterruptedError, nil while it runs.
func interrupted(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return &InterruptedError{Cause: context.Cause(ctx)}
}

// runPlan makes plan's changes in order, calling made for each one that
// took effect. It returns the changes that took effect (plan itself when
// all did: at 10,000 VIPs, no 4 MB copy) and the first that failed (a
// *ChangeError), or an *InterruptedError when ctx stopped it between two
// changes. Runs of address changes of one kind go to an AddrBatcher host
// in chunks; a change after the failing one may then have taken effect
// too: it is among those returned, so that rollback undoes it as well.
func runPlan(ctx context.Context, h Host, plan []Change, made func(Change)) ([]Change, error) {
	b, batches := h.(AddrBatcher)
	for i := 0; i < len(plan); {
		if err := interrupted(ctx); err != nil {
			return plan[:i:i], err
		}
		c := plan[i]
		if !batches || (c.Kind != KindAddrAdd && c.Kind != KindAddrDel) {
			if err := c.Run(h); err != nil {
				return plan[:i:i], &ChangeError{Change: c, Err: err}
			}
			made(c)
			i++
			continue
		}
		j := i + 1
		for j < len(plan) && j-i < batchChunk && plan[j].Kind == c.Kind {
			j++
		}
		if errs, first := runAddrs(b, plan[i:j]); first >= 0 {
			done := plan[:i:i]
			for k, err := range errs {
				if err == nil {
					made(plan[i+k])
					done = append(done, plan[i+k])
				}
			}
			return done, &ChangeError{Change: plan[i+first], Err: errs[first]}
		}
		for _, c := range plan[i:j] {
			made(c)
		}
		i = j
	}
	return plan, nil
}

// runAddrs makes one run of address changes, all of one kind, in one call.
// It returns each change's result and the index of the first failure, -1
// if none failed.
func runAddrs(b AddrBatcher, cs []Change) ([]error, int) {
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
	for i, err := range errs {
		if err != nil {
			return errs, i
		}
	}
	return errs, -1
}
