package doctor

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/rsprep/rsprep/cmd/rsprep/schema"
)

// WriteText writes one line per finding (ID, source, what, fix) and a
// summary line.
func WriteText(w io.Writer, r Report) error {
	for _, f := range r.Findings {
		subject := ""
		if f.Subject != "" {
			subject = " [" + f.Subject + "]"
		}
		if _, err := fmt.Fprintf(w, "%s %s%s: %s — fix: %s\n", f.ID, f.Source, subject, f.What, f.Fix); err != nil {
			return err
		}
	}
	summary := fmt.Sprintf("doctor %s (root %s): ", r.Mode, r.Root)
	if r.OK {
		summary += "no risk found"
	} else {
		summary += fmt.Sprintf("%d risk(s) found", len(r.Findings))
	}
	_, err := fmt.Fprintln(w, summary)
	return err
}

// WriteJSON writes the report as one JSON object:
// {schema, mode, root, ok, findings:[{id, source, subject, what, fix}]},
// as cmd/rsprep/schema/rsprep.schema.json documents it.
func WriteJSON(w io.Writer, r Report) error {
	r.Schema = schema.Version
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
