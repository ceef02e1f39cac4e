package test

import (
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Debian's node_exporter (package prometheus-node-exporter) scrapes a
// textfile directory holding both rsprep producers at once — the audit
// timer's verify -o prometheus and watch --textfile — under two names,
// without an error: each series says its source, so none is "collected
// before with the same name and label values" (which fails every scrape
// and keeps one of the two at random). It listens on loopback only.
func TestNodeExporterScrapesBothProducers(t *testing.T) {
	bin := nodeExporter(t)
	rs, _ := realServer(t)
	w := startWatch(t, rs, "dr", "--vip", vip)
	dir := filepath.Dir(w.Textfile)
	r := rs.Rsprep(t, "verify", "dr", "--vip", vip, "-o", "prometheus")
	if r.Code != 0 {
		t.Fatalf("verify: exit %d: %s", r.Code, r.Stderr)
	}
	if err := os.WriteFile(filepath.Join(dir, "rsprep-audit.prom"), []byte(r.Stdout), 0o644); err != nil {
		t.Fatal(err)
	}

	addr := freeLoopbackPort(t)
	var log lockedBuffer
	cmd := exec.Command(bin, "--web.listen-address="+addr, "--collector.disable-defaults",
		"--collector.textfile", "--collector.textfile.directory="+dir)
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })

	var body string
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && strings.Contains(string(b), "rsprep_verify_ok") {
				body = string(b)
				break
			}
		}
		select {
		case <-exited:
			t.Fatalf("node_exporter exited:\n%s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scrape with rsprep's series within 30s (%v):\n%s", err, log.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	<-exited
	for _, want := range []string{
		"node_textfile_scrape_error 0",
		`rsprep_verify_ok{mode="dr",source="verify"} 1`,
		`rsprep_verify_ok{mode="dr",source="watch"} 1`,
		`rsprep_invariant_ok{id="vip.bound",mode="dr",source="watch",subject="192.168.79.180"} 1`,
		`rsprep_invariant_ok{id="vip.bound",mode="dr",source="verify",subject="192.168.79.180"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if l := log.String(); strings.Contains(l, "collected before") || strings.Contains(l, "level=error") {
		t.Errorf("node_exporter logged errors:\n%s", l)
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}

// nodeExporter is Debian's node_exporter binary: $RSPREP_NODE_EXPORTER
// (test/run extracts it from the .deb), or on PATH; without it the test
// skips, except under CI.
func nodeExporter(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("RSPREP_NODE_EXPORTER"); p != "" {
		return p
	}
	for _, name := range []string{"prometheus-node-exporter", "node_exporter"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("node_exporter is missing (test/run extracts Debian's prometheus-node-exporter into test/.cache and sets RSPREP_NODE_EXPORTER), and CI=true forbids skipping")
	}
	t.Skip("node_exporter is missing: set RSPREP_NODE_EXPORTER (test/run does), or apt-get install prometheus-node-exporter")
	return ""
}

// freeLoopbackPort is a 127.0.0.1 address no one listens on just now.
func freeLoopbackPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
