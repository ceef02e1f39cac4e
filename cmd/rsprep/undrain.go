package main

import (
	"fmt"
	"slices"

	"github.com/rsprep/rsprep/realserver/drain"
	"github.com/rsprep/rsprep/realserver/input"
)

// undrain ends the drain of the mode's VIPs: the director's probe
// succeeds again. Not drained: nothing changes, exit 0.
func (r *modeRun) undrain() int {
	if r.name == "nat" {
		return r.fail(input.Errorf("undrain is for dr and tun, as drain"))
	}
	unlock, err := r.state.Lock(r.o.lockWait)
	if err != nil {
		return r.fail(err)
	}
	defer unlock()
	ended, err := r.endDrain()
	if err != nil {
		return r.fail(err)
	}
	for _, p := range ended {
		fmt.Fprintf(r.stdout, "undrained %s: the director's probes from %s succeed again\n", p.VIP, p.DIP)
	}
	return exitOK
}

// endDrain removes the drain rules of the mode's VIPs (undrain, down);
// down --all and down --config end every drain of the namespace. It runs
// under the namespace's lock the caller holds.
func (r *modeRun) endDrain() ([]drain.Pair, error) {
	return r.endDrains(func(have []drain.Pair) []drain.Pair {
		if r.act == actDown && (r.all || r.fromConfig) {
			return have
		}
		return drain.Of(have, r.mode.VIPList())
	})
}

// endUndeclaredDrains ends the drains of VIPs a config no longer declares
// (apply --config): a drain of a declared VIP is the operator's to end.
func (r *modeRun) endUndeclaredDrains() error {
	_, err := r.endDrains(func(have []drain.Pair) []drain.Pair {
		vips := r.mode.VIPList()
		return slices.DeleteFunc(slices.Clone(have), func(p drain.Pair) bool { return slices.Contains(vips, p.VIP) })
	})
	return err
}

// endDrains removes the drain rules in place that which picks.
func (r *modeRun) endDrains(which func(have []drain.Pair) []drain.Pair) ([]drain.Pair, error) {
	rules, err := drain.Open()
	if err != nil {
		return nil, err
	}
	defer rules.Close()
	have, err := rules.List()
	if err != nil {
		return nil, err
	}
	mine := which(have)
	if len(mine) == 0 {
		return nil, nil
	}
	if err := rules.Del(mine); err != nil {
		return nil, err
	}
	if err := r.state.ClearDrain(); err != nil {
		return nil, fmt.Errorf("forgetting the finished drain: %w", err)
	}
	for _, p := range mine {
		r.log.Info("drain ended", "vip", p.VIP.String(), "dip", p.DIP.String())
	}
	return mine, nil
}
