package systemd

import (
	"context"
	"log/slog"
	"reflect"
	"testing"
	"time"
)

func TestFieldName(t *testing.T) {
	for in, want := range map[string]string{
		"mode":      "MODE",
		"before":    "BEFORE",
		"invariant": "INVARIANT",
		"group_key": "GROUP_KEY",
		"a.b-c":     "A_B_C",
		"_secret":   "RSPREP__SECRET",
		"1st":       "RSPREP_1ST",
		"":          "RSPREP_",
	} {
		if got := fieldName(in); got != want {
			t.Errorf("fieldName(%q) = %q, want %q", in, got, want)
		}
	}
}

// The engine's change record becomes one journal field per attribute, and
// a readable MESSAGE.
func TestJournalFields(t *testing.T) {
	h := (&JournalHandler{Level: slog.LevelInfo}).WithAttrs([]slog.Attr{slog.String("mode", "dr")}).(*JournalHandler)
	r := slog.NewRecord(time.Time{}, slog.LevelInfo, "changed", 0)
	r.AddAttrs(slog.String("change", "sysctl -w net.ipv4.conf.all.arp_ignore=1"),
		slog.String("sysctl", "net.ipv4.conf.all.arp_ignore"), slog.Int("before", 0), slog.Int("after", 1))
	msg, vars := h.fields(r)
	wantMsg := `changed mode=dr change="sysctl -w net.ipv4.conf.all.arp_ignore=1" sysctl=net.ipv4.conf.all.arp_ignore before=0 after=1`
	if msg != wantMsg {
		t.Errorf("MESSAGE %q\nwant    %q", msg, wantMsg)
	}
	want := map[string]string{
		"SYSLOG_IDENTIFIER": "rsprep", "MODE": "dr", "CHANGE": "sysctl -w net.ipv4.conf.all.arp_ignore=1",
		"SYSCTL": "net.ipv4.conf.all.arp_ignore", "BEFORE": "0", "AFTER": "1",
	}
	if !reflect.DeepEqual(vars, want) {
		t.Errorf("fields %v\nwant   %v", vars, want)
	}
	g := h.WithGroup("check").(*JournalHandler)
	r = slog.NewRecord(time.Time{}, slog.LevelWarn, "still failing", 0)
	r.AddAttrs(slog.String("invariant", "arp.ignore"))
	if _, vars := g.fields(r); vars["CHECK_INVARIANT"] != "arp.ignore" || vars["MODE"] != "dr" {
		t.Errorf("grouped fields: %v", vars)
	}
	if !h.Enabled(context.Background(), slog.LevelInfo) || h.Enabled(context.Background(), slog.LevelDebug) {
		t.Error("level filtering")
	}
}

func TestPriority(t *testing.T) {
	for l, want := range map[slog.Level]string{slog.LevelDebug: "7", slog.LevelInfo: "6", slog.LevelWarn: "4", slog.LevelError: "3"} {
		if got := priority(l); string(rune('0'+int(got))) != want {
			t.Errorf("priority(%v) = %d, want %s", l, got, want)
		}
	}
}
