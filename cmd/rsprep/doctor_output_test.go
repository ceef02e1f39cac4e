package main

import (
	"bytes"
	"testing"

	"github.com/rsprep/rsprep/systemd/doctor"
)

// -o json is a stable schema: {schema, mode, root, ok, findings:[{id, source,
// subject, what, fix}]}, subject left out when empty, findings [] (never
// null) when there are none.
func TestDoctorJSONSchema(t *testing.T) {
	for _, tc := range []struct {
		rep  doctor.Report
		want string
	}{
		{doctor.Report{Mode: "dr", Root: "/", OK: true, Findings: []doctor.Finding{}}, `{
  "schema": 1,
  "mode": "dr",
  "root": "/",
  "ok": true,
  "findings": []
}
`},
		{doctor.Report{Mode: "nat", Root: "/srv/image", Findings: []doctor.Finding{
			{ID: "cloudinit.network", Source: "/etc/cloud/cloud.cfg", What: "w", Fix: "f"},
			{ID: "nm.uplink-dhcp", Source: "/etc/NetworkManager/system-connections/a.nmconnection:7", Subject: "eth0", What: "w", Fix: "f"},
		}}, `{
  "schema": 1,
  "mode": "nat",
  "root": "/srv/image",
  "ok": false,
  "findings": [
    {
      "id": "cloudinit.network",
      "source": "/etc/cloud/cloud.cfg",
      "what": "w",
      "fix": "f"
    },
    {
      "id": "nm.uplink-dhcp",
      "source": "/etc/NetworkManager/system-connections/a.nmconnection:7",
      "subject": "eth0",
      "what": "w",
      "fix": "f"
    }
  ]
}
`},
	} {
		var b bytes.Buffer
		if err := writeDoctor(&b, "json", tc.rep); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("got\n%s\nwant\n%s", b.String(), tc.want)
		}
	}
}

// Text is a line per finding (subject in brackets when there is one) and
// the summary line.
func TestDoctorText(t *testing.T) {
	rep := doctor.Report{Mode: "nat", Root: "/srv/image", Findings: []doctor.Finding{
		{ID: "cloudinit.network", Source: "/etc/cloud/cloud.cfg", What: "w", Fix: "f"},
		{ID: "nm.uplink-dhcp", Source: "/etc/NetworkManager/system-connections/a.nmconnection:7", Subject: "eth0", What: "w", Fix: "f"},
	}}
	want := `cloudinit.network /etc/cloud/cloud.cfg: w — fix: f
nm.uplink-dhcp /etc/NetworkManager/system-connections/a.nmconnection:7 [eth0]: w — fix: f
doctor nat (root /srv/image): 2 risk(s) found
`
	var b bytes.Buffer
	if err := writeDoctor(&b, "text", rep); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if err := writeDoctor(&b, "text", doctor.Report{Mode: "dr", Root: "/", OK: true}); err != nil {
		t.Fatal(err)
	}
	if want := "doctor dr (root /): no risk found\n"; b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
