package main

import (
	"fmt"
	"strings"
)

// unknownCommand is the error for a first word that is neither a mode nor
// a command: every mode and command, and the nearest when it is a likely
// typo.
func unknownCommand(word string) string {
	hint := ""
	if near := nearest(word, commandWords()); near != "" {
		hint = fmt.Sprintf(" (did you mean %q?)", near)
	}
	return fmt.Sprintf("unknown command %q%s: want a mode (%s) or a command (%s); see 'rsprep --help'",
		word, hint, strings.Join(modeNames(), ", "), strings.Join(commandWords()[len(modeNames()):], ", "))
}

// nearest is the word of words within two edits of w, if exactly one is
// closest.
func nearest(w string, words []string) string {
	best, bestD, ties := "", 3, 0
	for _, c := range words {
		switch d := editDistance(w, c); {
		case d < bestD:
			best, bestD, ties = c, d, 0
		case d == bestD:
			ties++
		}
	}
	if ties > 0 {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
