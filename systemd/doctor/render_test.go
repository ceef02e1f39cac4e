package doctor

import (
	"bytes"
	"testing"
)

// -o json is a stable schema: {schema, mode, root, ok, findings:[{id, source,
// subject, what, fix}]}, subject left out when empty, findings [] (never
// null) when there are none.
func TestJSONSchema(t *testing.T) {
	for _, tc := range []struct {
		rep  Report
		want string
	}{
		{Report{Mode: "dr", Root: "/", OK: true, Findings: nonNil(nil)}, `{
  "schema": 1,
  "mode": "dr",
  "root": "/",
  "ok": true,
  "findings": []
}
`},
		{Report{Mode: "nat", Root: "/srv/image", Findings: []Finding{
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
		if err := WriteJSON(&b, tc.rep); err != nil {
			t.Fatal(err)
		}
		if b.String() != tc.want {
			t.Errorf("got\n%s\nwant\n%s", b.String(), tc.want)
		}
	}
}
