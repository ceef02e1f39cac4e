package kernel

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// window is how many requests rtnl keeps in flight. The kernel queues one
// ack per request on the socket; 64 acks stay far below the default
// receive buffer (an overflow would lose acks: ENOBUFS).
const window = 64

// rtnl is a plain rtnetlink socket for the work done once per VIP: adding
// and removing addresses, and dumping them. Requests are pipelined (a
// window of them per sendto, every ack checked) so that at 10,000 VIPs
// rsprep does not wait for the kernel one address at a time; dumps are
// parsed in place. Everything else goes through vishvananda/netlink.
type rtnl struct {
	fd  int
	pid uint32 // our port id: acks and dump parts carry it
	seq uint32
	out []byte // the requests of one window, back to back
	in  []byte // receive buffer; a dump part never exceeds 32 KiB
}

var kernelAddr = &unix.SockaddrNetlink{Family: unix.AF_NETLINK}

func openRtnl() (*rtnl, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	r := &rtnl{fd: fd, in: make([]byte, 64<<10)}
	err = unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK})
	if err == nil {
		// An ack then carries only the header of its request, not all of it.
		err = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
	}
	if err == nil {
		err = unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 10})
	}
	var sa unix.Sockaddr
	if err == nil {
		sa, err = unix.Getsockname(fd)
	}
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	r.pid = sa.(*unix.SockaddrNetlink).Pid
	return r, nil
}

func (r *rtnl) close() { unix.Close(r.fd) }

// appendMsg appends a message header and body to b. Its length and
// sequence number are filled in when it is sent (finishMsg).
func appendMsg(b []byte, typ, flags uint16, body ...byte) []byte {
	b = binary.NativeEndian.AppendUint32(b, 0) // length
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, unix.NLM_F_REQUEST|flags)
	b = binary.NativeEndian.AppendUint64(b, 0) // sequence number, port id
	return append(b, body...)
}

// appendAttr appends one attribute, padded to four bytes.
func appendAttr(b []byte, typ uint16, data ...byte) []byte {
	b = binary.NativeEndian.AppendUint16(b, uint16(unix.SizeofRtAttr+len(data)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, data...)
	for len(b)%unix.RTA_ALIGNTO != 0 {
		b = append(b, 0)
	}
	return b
}

// finishMsg numbers the message that is all of msg.
func finishMsg(msg []byte, seq uint32) {
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint32(msg[8:], seq)
}

// errNotSent is the result of a request left unsent because an earlier
// one failed: the caller stops at the first failure, as with one-by-one
// requests, and rolls back what did happen.
var errNotSent = errors.New("not attempted after an earlier failure")

// do sends n requests (each with NLM_F_ACK; encode(i, b) appends request
// i to b), a window at a time, and returns each request's result: nil, or
// what failed(i, err) makes of the error its ack carries (nil for an error
// that is fine, such as EEXIST on an add). After a window with a failure
// it sends no more: the rest are errNotSent.
func (r *rtnl) do(n int, encode func(i int, b []byte) []byte, failed func(i int, err error) error) []error {
	errs := make([]error, n)
	for start := 0; start < n; start += window {
		end := min(start+window, n)
		r.exchange(start, end, encode, errs[start:end])
		stop := false
		for i := start; i < end; i++ {
			if errs[i] != nil {
				errs[i] = failed(i, errs[i])
				stop = stop || errs[i] != nil
			}
		}
		if stop {
			for i := end; i < n; i++ {
				errs[i] = errNotSent
			}
			break
		}
	}
	return errs
}

// pending marks a request whose ack has not come yet.
var pending = errors.New("no ack")

// exchange sends requests start to end in one sendto and fills errs with
// their acks. If the exchange itself fails, each request without an ack
// gets that error.
func (r *rtnl) exchange(start, end int, encode func(i int, b []byte) []byte, errs []error) {
	first := r.seq + 1
	r.out = r.out[:0]
	for i := start; i < end; i++ {
		at := len(r.out)
		r.out = encode(i, r.out)
		r.seq++
		finishMsg(r.out[at:], r.seq)
		errs[i-start] = pending
	}
	fail := func(err error) {
		for i := range errs {
			if errs[i] == pending {
				errs[i] = err
			}
		}
	}
	if err := unix.Sendto(r.fd, r.out, 0, kernelAddr); err != nil {
		fail(fmt.Errorf("sending to rtnetlink: %w", err))
		return
	}
	for left := len(errs); left > 0; {
		b, err := r.receive()
		if err != nil {
			fail(fmt.Errorf("waiting for the kernel's ack: %w", err))
			return
		}
		for h, body, rest, ok := nextMessage(b); ok; h, body, rest, ok = nextMessage(rest) {
			i := int(h.Seq - first)
			if h.Type != unix.NLMSG_ERROR || h.Pid != r.pid || i < 0 || i >= len(errs) || errs[i] != pending {
				continue
			}
			errs[i] = ackError(body)
			left--
		}
	}
}

// receive reads what the kernel sends us next: one or more messages.
func (r *rtnl) receive() ([]byte, error) {
	for {
		n, from, err := unix.Recvfrom(r.fd, r.in, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if nl, ok := from.(*unix.SockaddrNetlink); !ok || nl.Pid != 0 {
			continue // only the kernel talks to us
		}
		return r.in[:n], nil
	}
}

// nextMessage splits the first message off b, as
// syscall.ParseNetlinkMessage does, without allocating.
func nextMessage(b []byte) (h unix.NlMsghdr, body, rest []byte, ok bool) {
	if len(b) < unix.SizeofNlMsghdr {
		return h, nil, nil, false
	}
	h = unix.NlMsghdr{
		Len:   binary.NativeEndian.Uint32(b[0:]),
		Type:  binary.NativeEndian.Uint16(b[4:]),
		Flags: binary.NativeEndian.Uint16(b[6:]),
		Seq:   binary.NativeEndian.Uint32(b[8:]),
		Pid:   binary.NativeEndian.Uint32(b[12:]),
	}
	if h.Len < unix.SizeofNlMsghdr || int(h.Len) > len(b) {
		return h, nil, nil, false
	}
	aligned := (int(h.Len) + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1)
	return h, b[unix.SizeofNlMsghdr:h.Len], b[min(aligned, len(b)):], true
}

// ackError is the result an NLMSG_ERROR message carries: nil for an ack.
func ackError(body []byte) error {
	if len(body) < 4 {
		return errors.New("short netlink ack")
	}
	if errno := -int32(binary.NativeEndian.Uint32(body)); errno != 0 {
		return unix.Errno(errno)
	}
	return nil
}

// dump sends a dump request (one message) and calls each with the body of every message
// of type typ in the answer; a get request with NLM_F_ACK works too (its
// reply, then the ack ends it). An interrupted dump (the table changed while
// it was read) returns netlink.ErrDumpInterrupted, for retryDump.
func (r *rtnl) dump(req []byte, typ uint16, each func(body []byte)) error {
	r.seq++
	seq := r.seq
	finishMsg(req, seq)
	if err := unix.Sendto(r.fd, req, 0, kernelAddr); err != nil {
		return fmt.Errorf("sending to rtnetlink: %w", err)
	}
	interrupted := false
	for {
		b, err := r.receive()
		if err != nil {
			return fmt.Errorf("reading the dump: %w", err)
		}
		for h, body, rest, ok := nextMessage(b); ok; h, body, rest, ok = nextMessage(rest) {
			if h.Seq != seq || h.Pid != r.pid {
				continue
			}
			interrupted = interrupted || h.Flags&unix.NLM_F_DUMP_INTR != 0
			switch h.Type {
			case unix.NLMSG_DONE:
				if interrupted {
					return netlink.ErrDumpInterrupted
				}
				return nil
			case unix.NLMSG_ERROR:
				// An error ends the answer; so does the ack of a request
				// that asked for one (a get by name), after its reply.
				return ackError(body)
			case typ:
				each(body)
			}
		}
	}
}
