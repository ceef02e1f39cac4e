package nstest

import (
	"bufio"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Serve starts test/tools/nsweb in the namespace, answering HTTP on :80
// with name; it is stopped when the test ends.
func (n *NS) Serve(t testing.TB, name string) {
	t.Helper()
	cmd := exec.Command("ip", "netns", "exec", n.Name, Build(t, "test/tools/nsweb"), "serve", name)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting nsweb in %s: %v", n.Name, err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan bool, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- strings.TrimSpace(line) == "listening"
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("nsweb in %s did not start", n.Name)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("nsweb in %s did not start within 10s", n.Name)
	}
}

// Get makes count HTTP requests from the namespace and returns one answer
// per request: the responder's name, or "ERR …" when none came within 5 s
// (a bound for a loaded machine; an expected "ERR" only takes longer).
func (n *NS) Get(t testing.TB, url string, count int) []string {
	t.Helper()
	out, err := n.Exec(Build(t, "test/tools/nsweb"), "get", url, strconv.Itoa(count), "5s")
	if err != nil {
		t.Fatalf("nsweb get in %s: %v\n%s", n.Name, err, out)
	}
	return strings.Split(strings.TrimSpace(out), "\n")
}
