package doctor

import (
	"bufio"
	"bytes"
	"strings"
)

// ynode is one "key: value" of a YAML document, with its block children.
//
// This is a minimal reader for the shapes cloud-init and netplan files
// use for what doctor asks (nested block mappings of scalars, and a
// one-level flow mapping such as `network: {config: disabled}`); no YAML
// library is allowed. It does not handle: anchors and aliases, multi-line
// or block scalars (| >), flow sequences and nested flow mappings, tabs
// for indentation, multiple documents, and keys inside sequence items
// ("- name: …" is kept as an item whose children are not looked into).
type ynode struct {
	key, value string
	line       int
	kids       []*ynode
}

func parseYAML(data []byte) *ynode {
	root := &ynode{}
	type open struct {
		indent int
		n      *ynode
	}
	stack := []open{{-1, root}}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		raw := stripComment(sc.Text())
		content := strings.TrimSpace(raw)
		if content == "" || content == "---" {
			continue
		}
		indent := len(raw) - len(strings.TrimLeft(raw, " "))
		for stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		parent := stack[len(stack)-1].n
		node := &ynode{line: n}
		if strings.HasPrefix(content, "-") {
			node.key = "-"
		} else {
			k, v, _ := strings.Cut(content, ":")
			node.key, node.value = unquote(k), strings.TrimSpace(v)
			if strings.HasPrefix(node.value, "{") && strings.HasSuffix(node.value, "}") {
				for _, kv := range strings.Split(strings.Trim(node.value, "{}"), ",") {
					fk, fv, _ := strings.Cut(kv, ":")
					node.kids = append(node.kids, &ynode{key: unquote(fk), value: unquote(fv), line: n})
				}
				node.value = ""
			} else {
				node.value = unquote(node.value)
			}
		}
		parent.kids = append(parent.kids, node)
		stack = append(stack, open{indent, node})
	}
	return root
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

// stripComment drops a " #" comment outside quotes.
func stripComment(s string) string {
	quote := rune(0)
	for i, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

func unquote(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && (s[0] == '"' || s[0] == '\'') && s[len(s)-1] == s[0] {
		return s[1 : len(s)-1]
	}
	return s
}
