package kernel

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// dumps returns a dump function that returns, in turn, the given errors
// (nil: a complete dump), and counts its calls. An interrupted dump comes
// with partial results, as vishvananda/netlink ≥1.2.1 returns them.
func dumps(errs ...error) (func() ([]int, error), *int) {
	calls := 0
	return func() ([]int, error) {
		err := errs[min(calls, len(errs)-1)]
		calls++
		if err != nil {
			return []int{1}, err // partial
		}
		return []int{1, 2, 3}, nil
	}, &calls
}

func interrupted(n int) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = fmt.Errorf("dumping: %w", netlink.ErrDumpInterrupted)
	}
	return errs
}

// An interrupted dump is retried until it completes, and only the complete
// result is returned.
func TestRetryDumpRetriesInterrupted(t *testing.T) {
	for n := 0; n <= dumpRetries; n++ {
		dump, calls := dumps(append(interrupted(n), nil)...)
		got, err := retryDump("link", dump)
		if err != nil || !slices.Equal(got, []int{1, 2, 3}) {
			t.Errorf("%d interruptions: got %v, %v; want the complete dump", n, got, err)
		}
		if *calls != n+1 {
			t.Errorf("%d interruptions: %d calls, want %d", n, *calls, n+1)
		}
	}
}

// A dump that keeps being interrupted gives up after a bounded number of
// tries with an error (cannot observe), never the partial results.
func TestRetryDumpGivesUp(t *testing.T) {
	dump, calls := dumps(interrupted(1)...) // interrupted forever
	got, err := retryDump("address", dump)
	if err == nil || got != nil {
		t.Fatalf("got %v, %v; want no results and an error", got, err)
	}
	if *calls != dumpRetries+1 {
		t.Errorf("%d calls, want %d", *calls, dumpRetries+1)
	}
	if !strings.Contains(err.Error(), "address dump was interrupted") {
		t.Errorf("error %q does not say which dump kept being interrupted", err)
	}
}

// Any other error is returned at once: retrying EPERM would only delay the
// report.
func TestRetryDumpDoesNotRetryOtherErrors(t *testing.T) {
	dump, calls := dumps(unix.EPERM, nil)
	got, err := retryDump("route", dump)
	if !errors.Is(err, unix.EPERM) || got != nil || *calls != 1 {
		t.Errorf("got %v, %v after %d calls; want EPERM after 1", got, err, *calls)
	}
}
