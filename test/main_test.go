package test

import (
	"testing"

	"github.com/rsprep/rsprep/test/nstest"
)

// No test writes the host's /run/rsprep (see nstest.Main).
func TestMain(m *testing.M) { nstest.Main(m) }
