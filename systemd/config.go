// Package systemd is rsprep's boot persistence: the config file in
// systemd's INI syntax, the rsprep.service unit, installing and enabling
// them (on a live host over D-Bus, or into an image root), and logging to
// the journal with structured fields.
package systemd

import (
	"bufio"
	"bytes"
	"strings"
	"unicode"

	"github.com/rsprep/rsprep/realserver/input"
)

// Entry is one "key = value" line of a config file, with where it stood,
// so that every complaint about it can name FILE:LINE.
type Entry struct {
	Section string
	Key     string
	Value   string
	Line    int
}

// ParseConfig reads systemd's INI syntax: [Section] headers, Key=Value
// lines (blanks around '=' are ignored), '#' and ';' comments, blank
// lines. go-systemd's unit.Deserialize reads the same syntax but drops line
// numbers, which an operator needs. Line continuations (a trailing '\')
// are refused rather than half-supported. A syntax error is bad input
// (exit 2) reported as "path:line: …".
func ParseConfig(path string, data []byte) ([]Entry, error) {
	var out []Entry
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
			continue
		case strings.ContainsFunc(line, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }):
			// No key or value has one; echoed back, it would garble the message.
			return nil, input.Errorf("%s:%d: %q has a control character", path, n, line)
		case strings.HasSuffix(line, `\`):
			return nil, input.Errorf("%s:%d: line continuations ('\\' at the end) are not supported: put each value on its own line", path, n)
		case line[0] == '[':
			name, ok := strings.CutSuffix(line[1:], "]")
			if !ok || name == "" || strings.ContainsAny(name, "[]") {
				return nil, input.Errorf("%s:%d: %q is not a section header like [rsprep]", path, n, line)
			}
			section = name
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || key == "" {
			return nil, input.Errorf("%s:%d: %q is not a key = value line", path, n, line)
		}
		if section == "" {
			return nil, input.Errorf("%s:%d: %s comes before any section: start the file with [rsprep]", path, n, key)
		}
		out = append(out, Entry{Section: section, Key: key, Value: value, Line: n})
	}
	if err := sc.Err(); err != nil {
		return nil, input.Errorf("%s: %v", path, err)
	}
	return out, nil
}
