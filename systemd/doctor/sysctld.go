package doctor

import (
	"bufio"
	"bytes"
	"fmt"
	"path"
	"strings"
)

// sysctlDirs are systemd-sysctl's directories in decreasing precedence
// (CONF_PATHS("sysctl.d"); /lib/sysctl.d on a split-/usr Debian, where on
// a merged /usr it holds the same names as /usr/lib and masks nothing).
var sysctlDirs = []string{"/etc/sysctl.d", "/run/sysctl.d", "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d", "/lib/sysctl.d"}

// sysctlConf is read last by `sysctl --system` (procps); systemd-sysctl
// reads it through the /etc/sysctl.d/99-sysctl.conf link distributions
// ship.
const sysctlConf = "/etc/sysctl.conf"

// Assignment is one line of a sysctl.d file.
type Assignment struct {
	Key    string // slash form: net/ipv4/conf/eth0.100/rp_filter
	Value  string
	Source string // file:line
	// IgnoreFailure is the leading "-": a failure to write is not an
	// error. It is still written when it can be.
	IgnoreFailure bool
	// Negative is "-key" without a value: the key is excluded from every
	// glob and not written.
	Negative bool
}

func (a Assignment) glob() bool { return strings.ContainsAny(a.Key, "*?[") }

// SysctlD is what `sysctl --system` applies, in systemd-sysctl's model
// (src/sysctl/sysctl.c, v249+): an ordered map from key to its latest
// assignment. A later assignment of a key with a different value moves it
// to the end; a glob is expanded when applied and skips every key that has
// an explicit entry of its own (whatever the order); among globs the last
// one written wins.
type SysctlD struct {
	order []string               // keys in the order they are applied
	byKey map[string]*Assignment // latest assignment per key (or glob)
}

// readSysctlD reads the files under t's root in systemd's order; each
// assignment's source is its file's path after symlinks.
func readSysctlD(t tree) *SysctlD {
	files := append(t.confFiles(".conf", sysctlDirs...), sysctlConf)
	s := &SysctlD{byKey: map[string]*Assignment{}}
	for _, f := range files {
		if data, ok := t.read(f); ok {
			// Named by the path the file really has: a link (Debian's
			// /etc/sysctl.d/99-sysctl.conf → ../sysctl.conf) is not where
			// a fix goes.
			if real, err := t.resolve(f); err == nil {
				f = real
			}
			s.parse(f, data)
		}
	}
	return s
}

// parse adds one file's assignments. Lines that are not assignments are
// skipped, as systemd-sysctl does (with a warning).
func (s *SysctlD) parse(file string, data []byte) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		a := Assignment{Source: fmt.Sprintf("%s:%d", file, n)}
		key, value, isAssign := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if strings.HasPrefix(key, "-") {
			key = strings.TrimSpace(key[1:])
			a.IgnoreFailure, a.Negative = isAssign, !isAssign
		} else if !isAssign {
			continue
		}
		a.Key, a.Value = normalizeKey(key), strings.TrimSpace(value)
		s.put(a)
	}
}

func (s *SysctlD) put(a Assignment) {
	if old, ok := s.byKey[a.Key]; ok {
		if old.Negative == a.Negative && old.Value == a.Value {
			old.IgnoreFailure = old.IgnoreFailure || a.IgnoreFailure
			return // same value: keeps its place and its first source
		}
		for i, k := range s.order {
			if k == a.Key {
				s.order = append(s.order[:i], s.order[i+1:]...)
				break
			}
		}
	}
	s.byKey[a.Key] = &a
	s.order = append(s.order, a.Key)
}

// Final is the assignment that decides key (slash form) after
// `sysctl --system`, or after udev runs systemd-sysctl with the prefix of
// a new interface (the same entries, filtered by prefix, so the same
// answer for that interface's keys). ok is false when nothing writes it.
func (s *SysctlD) Final(key string) (Assignment, bool) {
	if a, ok := s.byKey[key]; ok {
		if a.Negative {
			return Assignment{}, false
		}
		return *a, true
	}
	var last *Assignment
	for _, k := range s.order {
		a := s.byKey[k]
		if a.Negative || !a.glob() {
			continue
		}
		if ok, _ := pathMatch(a.Key, key); ok {
			last = a
		}
	}
	if last == nil {
		return Assignment{}, false
	}
	return *last, true
}

// normalizeKey is systemd's sysctl_normalize: when the first separator is
// a dot, dots and slashes swap (so net.ipv4.conf.eth0/100.rp_filter names
// the interface eth0.100); when it is a slash, the key is a path already.
// Repeated and leading slashes go.
func normalizeKey(k string) string {
	if i := strings.IndexAny(k, "./"); i >= 0 && k[i] == '.' {
		k = strings.Map(func(r rune) rune {
			switch r {
			case '.':
				return '/'
			case '/':
				return '.'
			}
			return r
		}, k)
	}
	parts := strings.FieldsFunc(k, func(r rune) bool { return r == '/' })
	return strings.Join(parts, "/")
}

// pathMatch is glob(3) on /proc/sys paths: "*" and "?" never cross "/".
func pathMatch(pattern, key string) (bool, error) { return path.Match(pattern, key) }
