package test

import (
	"encoding/json"
	"testing"
)

// -o json's "ok" means every check holds now, on a dry run too: a dry run
// on an unprepared host says false (and lists the changes), and true only
// once a real run has made the checks hold.
func TestDryRunJSONOKMeansChecksHold(t *testing.T) {
	rs, _ := realServer(t)
	okOf := func() (bool, int) {
		t.Helper()
		var rep struct {
			OK      bool     `json:"ok"`
			Changes []string `json:"changes"`
		}
		r := mustRun(t, rs, 0, "dr", "--vip", vip, "--dry-run", "-o", "json")
		if err := json.Unmarshal([]byte(r.Stdout), &rep); err != nil {
			t.Fatalf("%v\n%s", err, r.Stdout)
		}
		return rep.OK, len(rep.Changes)
	}
	if ok, changes := okOf(); ok || changes == 0 {
		t.Errorf("dry run on an unprepared host: ok=%v with %d changes planned, want ok=false", ok, changes)
	}
	mustRun(t, rs, 0, "dr", "--vip", vip)
	if ok, changes := okOf(); !ok || changes != 0 {
		t.Errorf("dry run on a prepared host: ok=%v with %d changes planned, want ok=true and none", ok, changes)
	}
}
