package doctor

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"

	"github.com/coreos/go-systemd/v22/unit"
)

// iniFile is a systemd-style INI file (a .network, networkd.conf, a
// NetworkManager keyfile) parsed by go-systemd's unit parser, with the
// line of each option kept for the finding's file:line.
type iniFile struct {
	path string
	opts []*unit.UnitOption
	data []byte
}

// readINI reads and parses one file; ok is false when it is missing, or
// could not be read or parsed (recorded: a file doctor cannot see into is
// not one without risk).
func (t tree) readINI(p string) (*iniFile, bool) {
	data, ok := t.read(p)
	if !ok {
		return nil, false
	}
	opts, err := unit.DeserializeOptions(bytes.NewReader(data))
	if err != nil {
		source := p
		if n := badINILine(data); n > 0 {
			source = fmt.Sprintf("%s:%d", p, n)
		}
		t.cannotRead(source, err)
		return nil, false
	}
	return &iniFile{path: p, opts: opts, data: data}, true
}

// badINILine is the first line that is neither blank, a comment, a
// [section] nor an assignment (0 when every line looks right: the parser
// then failed on a continuation or a quote, and the file is named alone).
func badINILine(data []byte) int {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		switch {
		case l == "", l[0] == '#', l[0] == ';':
		case l[0] == '[':
			if !strings.HasSuffix(l, "]") {
				return n
			}
		case !strings.Contains(l, "="):
			return n
		}
	}
	return 0
}

// last is the value of the last section/name option (systemd: a later
// assignment wins), and whether there is one.
func (f *iniFile) last(section, name string) (string, bool) {
	v, ok := "", false
	for _, o := range f.opts {
		if strings.EqualFold(o.Section, section) && o.Name == name {
			v, ok = o.Value, true
		}
	}
	return v, ok
}

// all is every word of a list option, as networkd reads its [Match]
// lists: Name= may repeat, an empty assignment resets the list, and an
// assignment that starts with "!" negates each of its words (kept with a
// "!" prefix).
func (f *iniFile) all(section, name string) []string {
	var out []string
	for _, o := range f.opts {
		if strings.EqualFold(o.Section, section) && o.Name == name {
			if o.Value == "" {
				out = nil
				continue
			}
			v, neg := strings.CutPrefix(o.Value, "!")
			for _, w := range strings.Fields(v) {
				if neg {
					w = "!" + w
				}
				out = append(out, w)
			}
		}
	}
	return out
}

// where is "file:line" of the last section/name option, or the file
// alone when it has none.
func (f *iniFile) where(section, name string) string {
	sc := bufio.NewScanner(bytes.NewReader(f.data))
	cur, at := "", 0
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		switch {
		case strings.HasPrefix(l, "["):
			cur = strings.Trim(l, "[]")
		case strings.EqualFold(cur, section) && strings.HasPrefix(l, name) && strings.HasPrefix(strings.TrimSpace(l[len(name):]), "="):
			at = n
		}
	}
	if at == 0 {
		return f.path
	}
	return fmt.Sprintf("%s:%d", f.path, at)
}

// isTrue is systemd's parse_boolean truth.
func isTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "yes", "y", "true", "t", "on":
		return true
	}
	return false
}
