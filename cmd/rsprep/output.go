package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"

	"github.com/rsprep/rsprep/realserver"
)

// jsonReport is the stable JSON schema: {mode, ok, checks:[{id, subject,
// ok, want, got, detail}]}, plus changes and notes for apply and down.
type jsonReport struct {
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
	if format == "json" {
		rep := jsonReport{Mode: r.Mode, Action: string(act), DryRun: dry, OK: r.OK || dry, Checks: r.Checks, Notes: r.Notes}
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
	}
	return bw.Flush()
}

// writeChecks prints one row per check, failing rows with their fix.
func writeChecks(w io.Writer, r realserver.Result) {
	failing := 0
	for _, f := range r.Checks {
		status := "ok  "
		if !f.OK {
			status = "FAIL"
			failing++
		}
		fmt.Fprintf(w, "%s %s %s want %s got %s", status, f.ID, f.Subject, f.Want, f.Got)
		if f.Detail != "" {
			fmt.Fprintf(w, " (%s)", f.Detail)
		}
		for i, c := range realserver.Plan(f.Fix) {
			sep := "; "
			if i == 0 {
				sep = " — fix: "
			}
			fmt.Fprint(w, sep+c.String())
		}
		fmt.Fprintln(w)
	}
	if failing == 0 {
		fmt.Fprintf(w, "%s: all %d checks hold\n", r.Mode, len(r.Checks))
	} else {
		fmt.Fprintf(w, "%s: %d of %d checks fail\n", r.Mode, failing, len(r.Checks))
	}
}
