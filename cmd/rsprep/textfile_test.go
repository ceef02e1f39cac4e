package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rsprep/rsprep/realserver"
	"github.com/rsprep/rsprep/realserver/watch"
)

// BenchmarkWriteTextfile is watch's textfile of 10,000 VIPs (two
// findings each), written as after each repair.
func BenchmarkWriteTextfile(b *testing.B) {
	s := watch.Status{Mode: "dr", Repairs: map[string]int{"vip.bound": 1}, Drift: map[string]int{"vip.bound": 1}, Fights: map[string]bool{}}
	for i := range 10000 {
		ip := fmt.Sprintf("10.200.%d.%d", i/250, i%250+1)
		s.Checks = append(s.Checks,
			realserver.Finding{ID: "vip.bound", Subject: ip, Want: ip + "/32 on lo", Got: ip + "/32 on lo", OK: true},
			realserver.Finding{ID: "vip.exclusive", Subject: ip, Want: "on no ARP-capable interface", Got: "on none", OK: true})
	}
	path := filepath.Join(b.TempDir(), "rsprep.prom")
	b.ReportAllocs()
	for b.Loop() {
		if err := writeTextfile(path, s); err != nil {
			b.Fatal(err)
		}
	}
}

// The textfile's series cost no allocation each: watch rewrites 20,000
// of them after each repair at 10,000 VIPs, under a 28 MiB soft memory
// limit (a replacer built per label made that 280 MB of garbage and a
// 1.5 s reaction). A label that needs escaping is still escaped.
func TestPrometheusSeriesAllocateNothingEach(t *testing.T) {
	var checks []realserver.Finding
	for i := range 1000 {
		checks = append(checks, realserver.Finding{ID: "vip.bound", Subject: fmt.Sprintf("10.200.%d.%d", i/250, i%250+1), OK: true})
	}
	checks = append(checks, realserver.Finding{ID: "route.keep", Subject: `a "quoted" \ subject`})
	var b bytes.Buffer
	b.Grow(1 << 20)
	allocs := testing.AllocsPerRun(5, func() {
		b.Reset()
		writePrometheus(&b, realserver.Result{Mode: "dr", Checks: checks}, time.Unix(0, 0), "watch")
	})
	if allocs > 50 {
		t.Errorf("%.0f allocations for %d series, want a few per write, none per series", allocs, len(checks))
	}
	if want := `rsprep_invariant_ok{mode="dr",id="route.keep",subject="a \"quoted\" \\ subject",source="watch"} 0` + "\n"; !strings.Contains(b.String(), want) {
		t.Errorf("no %q in:\n%s", want, b.String()[b.Len()-400:])
	}
}
