package tunnel

import (
	"strconv"

	"github.com/rsprep/rsprep/realserver"
)

// MSS is --mss: 0 no clamp, MSSAuto, else the MSS to advertise.
type MSS int

// MSSAuto derives the MSS from the uplink's MTU.
const MSSAuto MSS = -1

// ParseMSS parses --mss.
func ParseMSS(s string) (MSS, error) {
	if s == "" {
		return 0, nil
	}
	if s == "auto" {
		return MSSAuto, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 536 || n > 65495 {
		return 0, realserver.Inputf("--mss %q: want auto or a number of bytes from 536 to 65495", s)
	}
	return MSS(n), nil
}

func (m MSS) validate() error { return nil }
