package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver/input"
)

// A config file is user input like the flags: whatever it holds, reading
// it as apply does either gives a mode that validates, or bad input (exit
// 2) on one line naming the file. It never panics and is never a host
// error.
func FuzzModeConfig(f *testing.F) {
	for _, s := range []string{
		"[rsprep]\nmode = dr\nvip = 192.168.79.180\nvip = 2001:db8::80\n",
		"[rsprep]\nmode = dr\nvip = 192.168.79.180\npin-gateway-arp = yes\ngateway = 10.0.0.1\ngateway-mac = 52:54:00:12:34:56\n",
		"[rsprep]\nmode = tun\nvip = 192.168.79.180\nrp-filter = loose\n",
		"[rsprep]\nmode = nat\ndip = 10.0.0.1\nkeep-route = 172.16.0.0/12\nkeep-route = 192.168.0.0/16\n",
		"[rsprep]\nmode = dr\nvip = 192.168.79.180\nvip = 192.168.79.180/32\n",
		"[rsprep]\nmode = nat\ndip = 10.0.0.1\ndip = 10.0.0.2\n",
		"[rsprep]\nmode = dr\nmode = tun\n", "[rsprep]\nmode = xx\n", "[rsprep]\nvip = 1.2.3.4\n", "[other]\nmode = dr\n",
		"[rsprep]\nmode = dr\nvip =\n", "[rsprep]\nmode = dr\nnetns = x\n", "[rsprep]\nmode = tun\nvip = 2001:db8::1\nrp-filter = off\n",
		"[rsprep]\nmode = dr\nvip = 1.2.3.4\npin-gateway-arp = maybe\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fail := func(err error) {
			var ie *input.Error
			if !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), "f.conf") || strings.ContainsAny(err.Error(), "\n\r") {
				t.Fatalf("%q: rejected with %T %v, want one line of bad input naming f.conf", data, err, err)
			}
		}
		c, err := parseModeConfig("f.conf", data)
		if err != nil {
			fail(err)
			return
		}
		def := modeDefs()[c.mode]
		var o options
		if err := c.applyTo(ownFlags(def, &o), def); err != nil {
			fail(err)
			return
		}
		if _, err := def.mode(&o); err != nil {
			t.Fatalf("%q: accepted, but the mode it gives does not validate: %v", data, err)
		}
	})
}
