package systemd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/journal"
)

// StderrIsJournal reports whether this process's stderr goes to the
// journal (systemd sets JOURNAL_STREAM for a service's stdio) and the
// journal's socket answers: then logging natively keeps the fields.
func StderrIsJournal() bool {
	ok, err := journal.StderrIsJournalStream()
	return err == nil && ok && journal.Enabled()
}

// JournalHandler is a slog.Handler that sends each record to the journal
// with every attribute as its own field (mode=dr → MODE=dr, before=0 →
// BEFORE=0), so `journalctl -u rsprep MODE=dr` or `INVARIANT=arp.ignore`
// selects records. MESSAGE carries the same attributes as text, for
// readers of plain journalctl output. If the journal refuses a record, it
// is written to Fallback instead of being lost.
type JournalHandler struct {
	Level    slog.Leveler
	Fallback io.Writer

	attrs  []slog.Attr // from WithAttrs, keys already prefixed by their groups
	prefix string      // from WithGroup: "group_"
}

// Enabled implements slog.Handler.
func (h *JournalHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.Level.Level()
}

// Handle implements slog.Handler.
func (h *JournalHandler) Handle(_ context.Context, r slog.Record) error {
	msg, vars := h.fields(r)
	if err := journal.Send(msg, priority(r.Level), vars); err != nil && h.Fallback != nil {
		fmt.Fprintf(h.Fallback, "level=%s msg=%s\n", r.Level, strconv.Quote(msg))
	}
	return nil
}

// fields is the record as the journal gets it: MESSAGE text and one field
// per attribute.
func (h *JournalHandler) fields(r slog.Record) (string, map[string]string) {
	vars := map[string]string{"SYSLOG_IDENTIFIER": "rsprep"}
	var msg strings.Builder
	msg.WriteString(r.Message)
	add := func(a slog.Attr) {
		a.Value = a.Value.Resolve()
		if a.Equal(slog.Attr{}) {
			return
		}
		v := a.Value.String()
		vars[fieldName(a.Key)] = v
		if strings.ContainsAny(v, " \"=") || v == "" {
			v = strconv.Quote(v)
		}
		fmt.Fprintf(&msg, " %s=%s", a.Key, v)
	}
	for _, a := range h.attrs {
		add(a)
	}
	r.Attrs(func(a slog.Attr) bool {
		a.Key = h.prefix + a.Key
		add(a)
		return true
	})
	return msg.String(), vars
}

// WithAttrs implements slog.Handler.
func (h *JournalHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append([]slog.Attr(nil), h.attrs...)
	for _, a := range as {
		a.Key = h.prefix + a.Key
		c.attrs = append(c.attrs, a)
	}
	return &c
}

// WithGroup implements slog.Handler.
func (h *JournalHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.prefix = h.prefix + name + "_"
	return &c
}

// fieldName makes a journal field name of an attribute key: upper case
// letters, digits and '_', not starting with '_' (reserved for trusted
// fields) or a digit, at most 64 characters.
func fieldName(key string) string {
	b := []byte(strings.ToUpper(key))
	for i, c := range b {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			b[i] = '_'
		}
	}
	name := string(b)
	if name == "" || name[0] == '_' || '0' <= name[0] && name[0] <= '9' {
		name = "RSPREP_" + name
	}
	return name[:min(len(name), 64)]
}

func priority(l slog.Level) journal.Priority {
	switch {
	case l >= slog.LevelError:
		return journal.PriErr
	case l >= slog.LevelWarn:
		return journal.PriWarning
	case l >= slog.LevelInfo:
		return journal.PriInfo
	}
	return journal.PriDebug
}
