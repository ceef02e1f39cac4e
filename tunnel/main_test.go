package tunnel

import (
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

// No test here writes the host's /run/rsprep or leaves a built binary
// behind (see nstest.Main).
func TestMain(m *testing.M) { nstest.Main(m) }
