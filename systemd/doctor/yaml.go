package doctor

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ynode is one "key: value" of a YAML document, with its children: a
// mapping's entries, or a sequence's items (key "-").
//
// Documents are parsed by gopkg.in/yaml.v3, so every YAML form netplan
// and cloud-init accept (flow and block collections, anchors, aliases and
// merge keys, block scalars) reads the same as in those programs; a file
// that does not parse is recorded as unreadable, never taken as empty.
// Scalars keep their text: YAML 1.1 booleans are judged by yamlTrue.
type ynode struct {
	key, value string
	line       int
	kids       []*ynode
}

// readYAML reads and parses one file; ok is false when it is missing or
// could not be read or parsed (recorded, with the line when the parser
// gives one).
func (t tree) readYAML(p string) (*ynode, bool) {
	data, ok := t.read(p)
	if !ok {
		return nil, false
	}
	y, line, err := parseYAML(data)
	if err != nil {
		source := p
		if line > 0 {
			source = fmt.Sprintf("%s:%d", p, line)
		}
		t.cannotRead(source, err)
		return nil, false
	}
	return y, true
}

// yamlLine is the line a yaml.v3 error names ("yaml: line 3: …").
var yamlLine = regexp.MustCompile(`line (\d+)`)

// parseYAML parses the first document of data (netplan and cloud-init
// read one); line is where the parser's error is, when it says.
func parseYAML(data []byte) (root *ynode, line int, err error) {
	var doc yaml.Node
	err = yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc)
	if errors.Is(err, io.EOF) {
		return &ynode{}, 0, nil // an empty file
	}
	if err != nil {
		if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ = strconv.Atoi(m[1])
		}
		return nil, line, err
	}
	root = &ynode{}
	if len(doc.Content) > 0 {
		fill(root, doc.Content[0], 0)
	}
	return root, 0, nil
}

// fill gives y the content of n: a scalar's text, a mapping's entries (a
// merge key "<<" brings its mappings' entries in first, so that the
// file's own keys win), a sequence's items. Aliases read as what they
// name; depth bounds alias chains (yaml.v3 refuses recursive ones).
func fill(y *ynode, n *yaml.Node, depth int) {
	if depth > 64 {
		return
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch n.Kind {
	case yaml.ScalarNode:
		y.value = n.Value
	case yaml.SequenceNode:
		for _, item := range n.Content {
			k := &ynode{key: "-", line: item.Line}
			fill(k, item, depth+1)
			y.kids = append(y.kids, k)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			if key.Tag == "!!merge" {
				merged := &ynode{}
				fill(merged, val, depth+1)
				var pre []*ynode // a later entry wins: the first mapping listed goes last
				if len(merged.kids) > 0 && merged.kids[0].key == "-" {
					for i := len(merged.kids) - 1; i >= 0; i-- {
						pre = append(pre, merged.kids[i].kids...)
					}
				} else {
					pre = merged.kids
				}
				y.kids = append(pre, y.kids...)
				continue
			}
			k := &ynode{key: key.Value, line: key.Line}
			fill(k, val, depth+1)
			y.kids = append(y.kids, k)
		}
	}
}

// child is the last child named key (a later key wins), or nil.
func (y *ynode) child(key string) *ynode {
	if y == nil {
		return nil
	}
	var c *ynode
	for _, k := range y.kids {
		if k.key == key {
			c = k
		}
	}
	return c
}

// children is y's children; none for a missing node.
func (y *ynode) children() []*ynode {
	if y == nil {
		return nil
	}
	return y.kids
}

// path follows keys down from y.
func (y *ynode) path(keys ...string) *ynode {
	for _, k := range keys {
		y = y.child(k)
	}
	return y
}

// yamlTrue is YAML 1.1's truth, which netplan and cloud-init accept.
func yamlTrue(y *ynode) bool {
	if y == nil {
		return false
	}
	switch strings.ToLower(y.value) {
	case "true", "yes", "on", "y":
		return true
	}
	return false
}

func yamlFalse(y *ynode) bool {
	if y == nil {
		return false
	}
	switch strings.ToLower(y.value) {
	case "false", "no", "off", "n":
		return true
	}
	return false
}
