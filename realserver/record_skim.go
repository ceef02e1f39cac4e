package realserver

import (
	"bytes"
	"encoding/json"
	"net/netip"
)

// skim reads a pending record's changes without decoding every one: an
// address change, laid out as Record.Save writes it, is read from its line
// (mode, link, prefix) and left out when skip says so; every other change
// is decoded. At 10,000 VIPs that spares verify most of the record's
// decoding, which is what it costs. ok is false when the record is not
// pending, or not one change per line (an older or hand-edited record):
// then the caller decodes it whole.
func (r *Record) skim(skip func(mode, link string, p netip.Prefix) bool) (changes []Change, ok bool) {
	if r.pending == nil {
		return nil, false
	}
	body := bytes.TrimSpace(r.pending)
	body = bytes.TrimSuffix(bytes.TrimPrefix(body, []byte("[")), []byte("]"))
	n := 0
	for len(body) > 0 {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte("\n"))
		line = bytes.TrimSuffix(bytes.TrimSpace(line), []byte(","))
		if len(line) == 0 {
			continue
		}
		n++
		if mode, link, p, ok := addrLine(line); ok && skip(mode, link, p) {
			continue
		}
		var c Change
		if json.Unmarshal(line, &c) != nil {
			return nil, false // not one change per line
		}
		changes = append(changes, c)
	}
	if n != bytes.Count(r.pending, []byte(`"kind"`)) {
		return nil, false // a line held more than one change
	}
	return changes, true
}

// addrLine reads an address addition's mode, link and prefix from its line
// as encoding/json writes a Change.
func addrLine(line []byte) (mode, link string, p netip.Prefix, ok bool) {
	rest, ok := bytes.CutPrefix(line, []byte(`{"kind":"addr-add","mode":"`))
	if !ok {
		return "", "", p, false
	}
	field := func(after string) string {
		var v []byte
		if !ok {
			return ""
		}
		if rest, ok = bytes.CutPrefix(rest, []byte(after)); ok {
			v, rest, ok = bytes.Cut(rest, []byte(`"`))
		}
		return string(v)
	}
	mode = field("")
	link = field(`,"addr":{"Link":"`)
	prefix := field(`,"Prefix":"`)
	if !ok {
		return "", "", p, false
	}
	p, err := netip.ParsePrefix(prefix)
	return mode, link, p, err == nil
}
