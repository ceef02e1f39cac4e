package kernel

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"

	"github.com/rsprep/rsprep/realserver"
)

// The payloads iproute2 sends, derived from include/uapi/linux/fou.h and
// ip/ipfou.c (fou_parse_opt: addattr16 PORT in network order, addattr8
// TYPE, addattr8 AF, no IPPROTO for gue), each attribute padded to 4
// bytes. Lengths and types are in host order: these are little-endian.
var iproute2Fou = []struct {
	cmd  string
	c    uint8
	p    realserver.FouPort
	want []byte
}{
	{"ip fou add port 6080 gue", fouCmdAdd, realserver.FouPort{Family: 4, Port: 6080, GUE: true}, []byte{
		0x01, 0x01, 0x00, 0x00, // genlmsghdr: FOU_CMD_ADD, version 1
		0x06, 0x00, 0x01, 0x00, 0x17, 0xc0, 0x00, 0x00, // FOU_ATTR_PORT 6080 (be16), padding
		0x05, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00, // FOU_ATTR_TYPE FOU_ENCAP_GUE
		0x05, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00, // FOU_ATTR_AF AF_INET
	}},
	{"ip -6 fou add port 6080 gue", fouCmdAdd, realserver.FouPort{Family: 6, Port: 6080, GUE: true}, []byte{
		0x01, 0x01, 0x00, 0x00,
		0x06, 0x00, 0x01, 0x00, 0x17, 0xc0, 0x00, 0x00,
		0x05, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00,
		0x05, 0x00, 0x02, 0x00, 0x0a, 0x00, 0x00, 0x00, // AF_INET6
	}},
	{"ip fou del port 5555 gue", fouCmdDel, realserver.FouPort{Family: 4, Port: 5555, GUE: true}, []byte{
		0x02, 0x01, 0x00, 0x00, // FOU_CMD_DEL
		0x06, 0x00, 0x01, 0x00, 0x15, 0xb3, 0x00, 0x00,
		0x05, 0x00, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00,
		0x05, 0x00, 0x02, 0x00, 0x02, 0x00, 0x00, 0x00,
	}},
}

func TestFouRequestIsWhatIproute2Sends(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the expected bytes are little-endian")
	}
	for _, tc := range iproute2Fou {
		got := fouRequest(tc.c, tc.p)
		if !bytes.Equal(got, tc.want) {
			t.Errorf("%s:\n got % x\nwant % x", tc.cmd, got, tc.want)
		}
		// No FOU_ATTR_IPPROTO (type 3): the attribute 6.1 rejects for GUE.
		for b := got[4:]; len(b) >= 4; b = b[(binary.NativeEndian.Uint16(b)+3)&^3:] {
			if typ := binary.NativeEndian.Uint16(b[2:]); typ == 3 {
				t.Errorf("%s: sends FOU_ATTR_IPPROTO", tc.cmd)
			}
		}
	}
	// The whole message as sent: header, then the payload, with an ack asked.
	req := nl.NewNetlinkRequest(0x1f, unix.NLM_F_ACK)
	req.AddRawData(fouRequest(fouCmdAdd, iproute2Fou[0].p))
	msg := req.Serialize()
	if l := binary.NativeEndian.Uint32(msg); l != 16+28 || int(l) != len(msg) {
		t.Errorf("message length %d (%d bytes), want 44", l, len(msg))
	}
	if typ, flags := binary.NativeEndian.Uint16(msg[4:]), binary.NativeEndian.Uint16(msg[6:]); typ != 0x1f || flags != unix.NLM_F_REQUEST|unix.NLM_F_ACK {
		t.Errorf("type %#x flags %#x, want the family id and NLM_F_REQUEST|NLM_F_ACK", typ, flags)
	}
}
