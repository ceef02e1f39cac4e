package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/rsprep/rsprep/cmd/rsprep/schema"
	"github.com/rsprep/rsprep/systemd/doctor"
)

// jsonDoctor is doctor's stable JSON schema: {schema, mode, root, ok,
// findings:[{id, source, subject, what, fix}]}, subject left out when
// empty. schema/rsprep.schema.json documents it; Schema is its version.
type jsonDoctor struct {
	Schema int `json:"schema"`
	doctor.Report
}

// writeDoctor prints a doctor report: text is one line per finding and a
// summary line; json is jsonDoctor.
func writeDoctor(w io.Writer, format string, r doctor.Report) error {
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(jsonDoctor{Schema: schema.Version, Report: r})
	}
	for _, f := range r.Findings {
		if _, err := fmt.Fprintln(w, f); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w, r.Summary())
	return err
}
