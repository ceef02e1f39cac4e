// Command nsweb is the HTTP responder and client of rsprep's namespace tests
// and demo, so they need no web server or curl on the machine.
//
//	nsweb serve NAME [ADDR]      answer every request with "NAME\n" (ADDR default :80)
//	nsweb get URL N [TIMEOUT]    make N requests (fresh connection each), print one
//	                             body per line, "ERR <reason>" for a failed one
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: nsweb serve NAME [ADDR] | nsweb get URL N [TIMEOUT]")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		addr := ":80"
		if len(os.Args) > 3 {
			addr = os.Args[3]
		}
		serve(os.Args[2], addr)
	case "get":
		n, timeout := 1, 2*time.Second
		if len(os.Args) > 3 {
			n, _ = strconv.Atoi(os.Args[3])
		}
		if len(os.Args) > 4 {
			timeout, _ = time.ParseDuration(os.Args[4])
		}
		get(os.Args[2], n, timeout)
	default:
		fmt.Fprintln(os.Stderr, "nsweb: unknown command", os.Args[1])
		os.Exit(2)
	}
}

func serve(name, addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "nsweb:", err)
		os.Exit(1)
	}
	fmt.Println("listening") // tells the test the socket is open
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, name)
	}))
}

func get(url string, n int, timeout time.Duration) {
	for i := 0; i < n; i++ {
		// A fresh connection per request, so a load balancer schedules each.
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		resp, err := client.Do(req)
		if err != nil {
			fmt.Println("ERR", strings.ReplaceAll(err.Error(), "\n", " "))
			cancel()
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		fmt.Println(strings.TrimSpace(string(body)))
	}
}
