package systemd

import (
	"errors"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver/input"
)

// ParseConfig never panics; a rejection is bad input (exit 2) on one line
// naming the file; what it accepts is trimmed, well-formed, in line order,
// and reads back the same after RenderConfig writes it (what install
// writes, boot reads).
func FuzzParseConfig(f *testing.F) {
	for _, s := range []string{
		"[rsprep]\nmode = dr\nvip = 192.168.79.180\nvip = 2001:db8::80\n",
		"# c\n; c\n\n[rsprep]\nmode=nat\ndip=10.0.0.1\nkeep-route = 172.16.0.0/12\npin-gateway-arp = yes\n",
		"[rsprep]\r\nmode = tun\r\nvip=192.168.79.180\r\nrp-filter = loose\r\n",
		"vip=1.2.3.4\n", "[rsprep\n", "[]\n", "[a]]\nk=v\n", "[rsprep]\n=x\n", "[rsprep]\nk = a = b\n",
		"[rsprep]\nvip=1.2.3.4 \\\n 1.2.3.5\n", "[rsprep]\nk=\n", "[rsprep]\n k \t= \t v \n", "\xff\xfe[rsprep]\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		entries, err := ParseConfig("f.conf", data)
		if err != nil {
			var ie *input.Error
			if !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), "f.conf:") || strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("%q: rejected with %v, want one line of bad input naming f.conf", data, err)
			}
			return
		}
		var pairs [][2]string
		for i, e := range entries {
			switch {
			case e.Section == "" || e.Key == "" || strings.Contains(e.Key, "="),
				strings.TrimSpace(e.Key) != e.Key || strings.TrimSpace(e.Value) != e.Value,
				strings.ContainsAny(e.Key[:1], "#;["),
				e.Line < 1 || (i > 0 && e.Line <= entries[i-1].Line):
				t.Fatalf("%q: accepted a malformed entry %+v", data, e)
			}
			pairs = append(pairs, [2]string{e.Key, e.Value})
		}
		again, err := ParseConfig("f.conf", RenderConfig(ConfigPath, pairs))
		if err != nil || len(again) != len(entries) {
			t.Fatalf("%q: %d entries written back read as %d (%v)", data, len(entries), len(again), err)
		}
		for i := range again {
			if again[i].Key != entries[i].Key || again[i].Value != entries[i].Value {
				t.Fatalf("%q: %s = %q written back reads as %s = %q", data, entries[i].Key, entries[i].Value, again[i].Key, again[i].Value)
			}
		}
	})
}
