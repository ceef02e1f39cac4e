package systemd

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/rsprep/rsprep/realserver/input"
)

func TestParseConfig(t *testing.T) {
	in := "# comment\n; also a comment\n\n[rsprep]\nmode=dr\n  vip = 192.168.79.180  \nvip=2001:db8::80\n[other]\nk = a = b\n"
	got, err := ParseConfig("f.conf", []byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Section: "rsprep", Key: "mode", Value: "dr", Line: 5},
		{Section: "rsprep", Key: "vip", Value: "192.168.79.180", Line: 6},
		{Section: "rsprep", Key: "vip", Value: "2001:db8::80", Line: 7},
		{Section: "other", Key: "k", Value: "a = b", Line: 9},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"vip=1.2.3.4\n", "f.conf:1: vip comes before any section"},
		{"[rsprep]\n\nvip 1.2.3.4\n", "f.conf:3: \"vip 1.2.3.4\" is not a key = value line"},
		{"[rsprep]\n=x\n", "f.conf:2: \"=x\" is not a key = value line"},
		{"[rsprep\n", "f.conf:1: \"[rsprep\" is not a section header"},
		{"[]\n", "f.conf:1: \"[]\" is not a section header"},
		{"[rsprep]\nvip=1.2.3.4 \\\n 1.2.3.5\n", "f.conf:2: line continuations"},
	} {
		_, err := ParseConfig("f.conf", []byte(tc.in))
		var ie *input.Error
		if !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: got %v, want an input error starting %q", tc.in, err, tc.want)
		}
	}
}
