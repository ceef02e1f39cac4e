package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/rsprep/rsprep/cmd/rsprep/schema"
	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/input"
)

// jsonReport is the stable JSON schema: {schema, mode, ok, checks:[{id,
// subject, ok, want, got, detail}]}, plus changes and notes for apply and
// down. schema/rsprep.schema.json documents it; Schema is its version.
type jsonReport struct {
	Schema  int                  `json:"schema"`
	Mode    string               `json:"mode"`
	Action  string               `json:"action"`
	DryRun  bool                 `json:"dry_run,omitempty"`
	OK      bool                 `json:"ok"`
	Checks  []realserver.Finding `json:"checks"`
	Changes []string             `json:"changes,omitempty"`
	Notes   []string             `json:"notes,omitempty"`
}

// writeResult prints a run's result. Text: verify prints one row per check;
// apply and down print nothing unless --dry-run (their changes are logged),
// so a second apply prints nothing at all.
func writeResult(w io.Writer, format string, act action, r realserver.Result, dry bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if format == "prometheus" {
		writePrometheus(bw, r, time.Now(), "verify")
		return bw.Flush()
	}
	if format == "json" {
		// ok means every check holds now: on a dry run nothing was
		// changed, so it is what the checks found, not what a run would make.
		ok := r.OK
		if dry {
			ok = realserver.AllOK(r.Checks)
		}
		rep := jsonReport{Schema: schema.Version, Mode: r.Mode, Action: string(act), DryRun: dry, OK: ok, Checks: r.Checks, Notes: r.Notes}
		if rep.Checks == nil {
			rep.Checks = []realserver.Finding{}
		}
		for _, c := range r.Changes {
			rep.Changes = append(rep.Changes, c.String())
		}
		enc := json.NewEncoder(bw)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
		return bw.Flush()
	}
	switch {
	case act == actVerify:
		writeChecks(bw, r)
	case dry:
		for _, c := range r.Changes {
			fmt.Fprintln(bw, c.String())
		}
		if len(r.Changes) == 0 {
			fmt.Fprintln(bw, "# nothing to change")
		}
		if marksAddr(r.Changes) {
			fmt.Fprint(bw, protoNote)
		}
	}
	return bw.Flush()
}

// protoNote explains the "proto 114" of the ip commands printed above it.
var protoNote = fmt.Sprintf("# proto %d: rsprep's mark on each address it adds (IFA_PROTO, Linux ≥ 5.18; ASCII 'r'), so status and down know the address as rsprep's even without the record\n", realserver.AddrProto)

// marksAddr reports whether a change adds an address with rsprep's mark.
func marksAddr(changes []realserver.Change) bool {
	for _, c := range changes {
		if c.Kind == realserver.KindAddrAdd && c.Addr.Proto == realserver.AddrProto {
			return true
		}
	}
	return false
}

// writeChecks prints one row per check, failing rows with their fix.
// Rows are appended to one reused line buffer rather than formatted by
// fmt: at 10,000 VIPs verify prints 20,000 rows, and Fprintf's boxing of
// five strings per row was an eighth of verify's CPU time.
func writeChecks(w io.Writer, r realserver.Result) {
	failing, marked := 0, false
	var line []byte
	for _, f := range r.Checks {
		status := "ok   "
		if !f.OK {
			status = "FAIL "
			failing++
		}
		line = append(line[:0], status...)
		line = append(append(line, f.ID...), ' ')
		line = append(append(line, f.Subject...), " want "...)
		line = append(append(line, f.Want...), " got "...)
		line = append(line, f.Got...)
		if f.Detail != "" {
			line = append(append(append(line, " ("...), f.Detail...), ')')
		}
		if len(f.Fix) > 0 {
			plan := realserver.Plan(f.Fix)
			marked = marked || marksAddr(plan)
			for i, c := range plan {
				sep := "; "
				if i == 0 {
					sep = " — fix: "
				}
				line = append(append(line, sep...), c.String()...)
			}
		}
		w.Write(append(line, '\n'))
	}
	if failing == 0 {
		fmt.Fprintf(w, "%s: all %d checks hold\n", r.Mode, len(r.Checks))
	} else {
		fmt.Fprintf(w, "%s: %d of %d checks fail\n", r.Mode, failing, len(r.Checks))
	}
	if marked {
		fmt.Fprint(w, protoNote)
	}
}

// checkOutput accepts the output formats an action has: prometheus only
// for verify (it is an audit's result).
func checkOutput(act action, format string) error {
	switch {
	case (act == actDrain || act == actUndrain) && format != "text":
		return input.Errorf("--output %q: %s prints text only", format, act)
	case format == "text" || format == "json":
		return nil
	case format == "prometheus" && act == actVerify:
		return nil
	case act == actVerify:
		return input.Errorf("--output %q: want text, json or prometheus", format)
	}
	return input.Errorf("--output %q: want text or json (prometheus is for verify)", format)
}

// logFailing logs each invariant an apply left failing, one record each,
// so that the journal has them as fields (INVARIANT=arp.ignore) and the
// error line's "first:" is not all an operator sees.
func logFailing(log *slog.Logger, mode string, err error) {
	var nc *realserver.NotConvergedError
	if !errors.As(err, &nc) {
		return
	}
	for _, f := range nc.Failing {
		log.Warn("still failing", "mode", mode, "invariant", f.ID, "subject", f.Subject, "want", f.Want, "got", f.Got)
	}
}

// writePrometheus writes a verify result in the text exposition format
// that node_exporter's textfile collector reads: one rsprep_invariant_ok
// gauge per (id, subject), a summary gauge, and when the audit ran, so a
// stale file (the audit stopped running) can be alerted on too. A repeated
// (id, subject) is merged (both must hold): the collector rejects a whole
// file that has a series twice.
//
// Every series carries source: "verify" (verify -o prometheus, the audit
// timer) or "watch" (watch --textfile). node_exporter reads every *.prom
// of its directory into one registry; two files with the same series (a
// timer's and a watcher's) make every scrape fail with "was collected
// before with the same name and label values". One producer per host is
// the documented setup; the label makes a second one harmless.
func writePrometheus(w io.Writer, r realserver.Result, now time.Time, source string) {
	type series struct{ id, subject string }
	ok := make(map[series]bool, len(r.Checks))
	order := make([]series, 0, len(r.Checks))
	for _, f := range r.Checks {
		s := series{f.ID, f.Subject}
		if prev, seen := ok[s]; seen {
			ok[s] = prev && f.OK
			continue
		}
		ok[s] = f.OK
		order = append(order, s)
	}
	mode := promLabel(r.Mode)
	src := promLabel(source)
	fmt.Fprint(w, "# HELP rsprep_invariant_ok Whether an invariant holds for a subject (1) or has drifted (0), per rsprep verify.\n# TYPE rsprep_invariant_ok gauge\n")
	// Piece by piece: 20,000 lines at 10,000 VIPs, no allocation each.
	head, tail := "rsprep_invariant_ok{mode="+mode+",id=", ",source="+src+"} "
	for _, s := range order {
		io.WriteString(w, head)
		writePromLabel(w, s.id)
		io.WriteString(w, ",subject=")
		writePromLabel(w, s.subject)
		io.WriteString(w, tail)
		io.WriteString(w, [2]string{"0\n", "1\n"}[promBool(ok[s])])
	}
	fmt.Fprint(w, "# HELP rsprep_verify_ok Whether every invariant holds (1) or not (0).\n# TYPE rsprep_verify_ok gauge\n")
	fmt.Fprintf(w, "rsprep_verify_ok{mode=%s,source=%s} %d\n", mode, src, promBool(realserver.AllOK(r.Checks)))
	fmt.Fprint(w, "# HELP rsprep_verify_timestamp_seconds When rsprep verify ran, in seconds since the epoch.\n# TYPE rsprep_verify_timestamp_seconds gauge\n")
	fmt.Fprintf(w, "rsprep_verify_timestamp_seconds{mode=%s,source=%s} %d\n", mode, src, now.Unix())
}

// promLabel quotes a label value: backslash, double quote and newline are
// the characters the format escapes.
func promLabel(v string) string {
	if !strings.ContainsAny(v, "\\\"\n") {
		return `"` + v + `"` // most: watch writes 20,000 of them per textfile at 10,000 VIPs
	}
	return `"` + promEscaper.Replace(v) + `"`
}

// writePromLabel writes promLabel(v).
func writePromLabel(w io.Writer, v string) {
	if strings.ContainsAny(v, "\\\"\n") {
		v = promEscaper.Replace(v)
	}
	io.WriteString(w, `"`)
	io.WriteString(w, v)
	io.WriteString(w, `"`)
}

// promEscaper is promLabel's: one for the process (a Replacer is safe
// for concurrent use, and building one per label made a 10,000-VIP
// textfile allocate 280 MB).
var promEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func promBool(b bool) int {
	if b {
		return 1
	}
	return 0
}
