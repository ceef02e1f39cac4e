package main

import (
	"fmt"
	"path/filepath"
	"testing"

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
