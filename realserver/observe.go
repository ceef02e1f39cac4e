package realserver

import (
	"fmt"
	"log/slog"
)

// Observe is the one observation a run starts from: verify checks it,
// apply and down plan from it. It reads what every mode needs of the host
// now, the links and then the addresses, and rsprep's record of the
// namespace as records says. Routes, neighbours, sysctls and the other
// tables are read on first use, each at most once: only some modes check
// them. Apply observes afresh after each round of changes (see
// Engine.Apply); nothing else observes twice.
func Observe(h Host, records Records) (*View, error) {
	v := NewView(h)
	v.records = records.start()
	// Links first: the kernel host names an address's link from its last
	// link dump, so this one serves the address dump too.
	_, err := v.Links()
	if err == nil {
		_, err = v.Addrs()
	}
	if err != nil {
		v.record() // nothing of a failed observation outlives it
		return nil, &ObserveError{Err: err}
	}
	return v, nil
}

// Records says how an observation reads rsprep's record of the namespace.
// The zero value reads none.
type Records struct {
	load  func() (*Record, error)
	onUse bool
}

// RecordAlongside decodes the record with load on another goroutine while
// the host is dumped: apply and down always need it, and at 10,000 VIPs
// decoding it costs about what the address dump does, so the two overlap
// on two CPUs. (The dumps stay on the caller's goroutine: its thread is
// the one inside the namespace.) A failed read is the run's error
// (NewEngine returns it).
func RecordAlongside(load func() (*Record, error)) Records { return Records{load: load} }

// RecordOnUse reads the record only when a check first asks for it
// (View.Recorded): verify needs it only for NAT's keep-routes, so a verify
// of 10,000 DR VIPs never decodes the record of its 10,000 changes. A nil
// record (verify without root cannot read it) is none.
func RecordOnUse(load func() *Record) Records {
	return Records{load: func() (*Record, error) { return load(), nil }, onUse: true}
}

// recordRead is an observation's record: read, being read, or to be read.
type recordRead struct {
	wait func() (*Record, error) // blocks until the record is read; called once
	rec  *Record
	err  error
	done bool
}

func (r Records) start() *recordRead {
	switch {
	case r.load == nil:
		return &recordRead{done: true}
	case r.onUse:
		return &recordRead{wait: r.load}
	}
	type read struct {
		rec *Record
		err error
	}
	ch := make(chan read, 1)
	go func() {
		rec, err := r.load()
		ch <- read{rec, err}
	}()
	return &recordRead{wait: func() (*Record, error) {
		x := <-ch
		return x.rec, x.err
	}}
}

func (r *recordRead) get() (*Record, error) {
	if !r.done {
		r.rec, r.err = r.wait()
		r.done = true
	}
	return r.rec, r.err
}

// record is the observation's record; an error if it could not be read.
func (v *View) record() (*Record, error) {
	if v.records == nil {
		return nil, nil
	}
	return v.records.get()
}

// Recorded is what rsprep recorded it changed in this namespace, oldest
// first, for checks whose fix depends on a value rsprep replaced (NAT's
// keep-routes go via the default gateway as it was before rsprep). It is
// nil when the observation has no record; an error when the record's
// changes, decoded only now, are not valid changes.
func (v *View) Recorded() ([]Change, error) {
	rec, err := v.record()
	if err != nil || rec == nil {
		return nil, nil
	}
	if err := rec.decode(); err != nil {
		return nil, err
	}
	return rec.Changes, nil
}

// NewEngine starts a run of mode from observation v, with the record v
// read (see RecordAlongside).
func NewEngine(v *View, mode string, log *slog.Logger) (*Engine, error) {
	rec, err := v.record()
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, fmt.Errorf("observation of %s without rsprep's record: a run that changes the host needs it", mode)
	}
	return &Engine{Host: v.host, Record: rec, Mode: mode, Log: log, first: v}, nil
}
