package persist

import (
	"bytes"
	"net/netip"
	"testing"
)

// ReadHead, which matches brackets itself in a record laid out as MarshalRecord
// writes it, accepts exactly what encoding/json accepts and finds the same
// version, netns and list of changes.
func FuzzReadHeadAsEncodingJSON(f *testing.F) {
	head := `{"version":1,"netns":"net:[4026532177]","changes":[` + "\n"
	for _, rest := range []string{"]}\n", "\n]}\n", `{"kind":"link-up","link":"lo"}` + "\n]}\n",
		`{"kind":"a]}\"[{\\","link":"\\\\"},` + "\n" + `{"kind":"b"}` + "\n]}\n",
		`{"kind":"a"}],"version":2,"x":[` + "\n]}\n", `{"kind":"a"}]}` + "\n}", `{"kind":"a"}]},{"a":[` + "\n]}\n",
		`{"kind":"a"}` + "\n]}\n]", `{"kind":"a"}` + "\n]} x", "1]}", "]} \n\t"} {
		f.Add(head + rest)
	}
	f.Add(`{"a":{"changes":[` + "\n]}}")
	f.Add(`{"netns":"x\",\"changes\":[` + "\n" + `"}`)
	f.Fuzz(func(t *testing.T, data string) {
		got, err := ReadHead([]byte(data))
		want, wantErr := readHeadSlow([]byte(data))
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("%q: ReadHead %v, encoding/json %v", data, err, wantErr)
		}
		if err != nil {
			return
		}
		if got.Version != want.Version || got.Netns != want.Netns || !bytes.Equal(bytes.TrimSpace(got.Changes), bytes.TrimSpace(want.Changes)) {
			t.Fatalf("%q: ReadHead %d %q %q, encoding/json %d %q %q", data, got.Version, got.Netns, got.Changes, want.Version, want.Netns, want.Changes)
		}
	})
}

func BenchmarkReadHead(b *testing.B) {
	// A change as realserver writes one: the framing does not care.
	type addr struct {
		Link   string       `json:"link"`
		Prefix netip.Prefix `json:"prefix"`
	}
	type change struct {
		Kind string `json:"kind"`
		Mode string `json:"mode"`
		Addr addr   `json:"addr"`
	}
	var changes []change
	for i := range 10000 {
		a := netip.AddrFrom4([4]byte{10, 200, byte(i / 250), byte(i%250 + 1)})
		changes = append(changes, change{"addr-add", "dr", addr{"lo", netip.PrefixFrom(a, 32)}})
	}
	data, err := MarshalRecord(1, "net:[4026532177]", changes)
	if err != nil {
		b.Fatal(err)
	}
	for name, read := range map[string]func([]byte) (RecordHead, error){"fast": ReadHead, "encoding/json": readHeadSlow} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if h, err := read(data); err != nil || len(h.Changes) < len(data)-100 {
					b.Fatal(err, len(h.Changes))
				}
			}
		})
	}
}
