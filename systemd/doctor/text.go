package doctor

import "fmt"

// String is the finding in one line: ID, source, subject, what, fix.
func (f Finding) String() string {
	subject := ""
	if f.Subject != "" {
		subject = " [" + f.Subject + "]"
	}
	return fmt.Sprintf("%s %s%s: %s — fix: %s", f.ID, f.Source, subject, f.What, f.Fix)
}

// Summary is the report's last line: the mode, the root and how many
// risks were found.
func (r Report) Summary() string {
	summary := fmt.Sprintf("doctor %s (root %s): ", r.Mode, r.Root)
	if r.OK {
		return summary + "no risk found"
	}
	return summary + fmt.Sprintf("%d risk(s) found", len(r.Findings))
}
