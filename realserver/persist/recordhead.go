package persist

import (
	"bytes"
	"encoding/json"
)

// RecordHead is a record file's framing: its version, the namespace it
// names, and its list of changes left as JSON (what a change is, is
// realserver's).
type RecordHead struct {
	Version int             `json:"version"`
	Netns   string          `json:"netns"`
	Changes json.RawMessage `json:"changes"`
}

// ReadHead decodes a record's version and netns and finds its list of
// changes, without decoding the changes. It accepts what readHeadSlow
// accepts, with the same result, in about half the time: a record as
// MarshalRecord lays it out is checked with json.Valid, one pass, and its list
// found by matching brackets; encoding/json's decoder would scan the list
// a second time to skip it.
func ReadHead(data []byte) (RecordHead, error) {
	if !json.Valid(data) {
		return readHeadSlow(data) // for encoding/json's error
	}
	head, changes, ok := splitRecord(data)
	if !ok {
		return readHeadSlow(data) // an older or hand-edited layout
	}
	var h RecordHead
	err := json.Unmarshal(append(head[:len(head):len(head)], "null}"...), &h)
	h.Changes = changes
	return h, err
}

// readHeadSlow is ReadHead by encoding/json alone.
func readHeadSlow(data []byte) (RecordHead, error) {
	var h RecordHead
	err := json.Unmarshal(data, &h)
	return h, err
}

// splitRecord splits valid JSON laid out as MarshalRecord writes it, a first
// line ending in "changes":[ and that list closed by the record's last
// brace, into the head up to the list and the list. ok is false for any
// other layout. A '[' ending the first line is outside any string (a
// string cannot hold a newline), and only the top-level object can close
// right after the list in valid JSON, so "changes" is its last key: the
// one encoding/json would keep.
func splitRecord(data []byte) (head, changes []byte, ok bool) {
	const key = `"changes":[`
	nl := bytes.IndexByte(data, '\n')
	if nl < 0 || !bytes.HasSuffix(data[:nl], []byte(key)) {
		return nil, nil, false
	}
	open := nl - 1
	end, ok := closing(data, open)
	if !ok || string(bytes.TrimSpace(data[end+1:])) != "}" {
		return nil, nil, false
	}
	return data[:open], data[open : end+1], true
}

// closing is the index of the bracket that closes the one at data[open],
// in valid JSON: brackets inside strings do not count. (A plain loop: it
// is several times faster than searching for the next bracket or quote.)
func closing(data []byte, open int) (int, bool) {
	depth := 0
	inString, escaped := false, false
	for i := open; i < len(data); i++ {
		c := data[i]
		switch {
		case escaped:
			escaped = false
		case inString:
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			depth--
			if depth == 0 {
				return i, true
			}
		}
	}
	return 0, false
}
