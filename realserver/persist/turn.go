package persist

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
)

// Turn is the count of writers' turns the namespace's lock file holds.
// Every writer, once it holds the lock and before it changes anything,
// writes the count one higher (with its pid, taken out again when it
// unlocks); readers write nothing. So a count read under the lock that
// equals the one read before an observation means no other rsprep wrote
// the namespace since: by construction, not by timing.
type Turn struct {
	known bool // false: the file's state proves nothing; never the same as another
	n     uint64
}

// Same reports whether found is this turn, known.
func (t Turn) Same(found Turn) bool { return t.known && t == found }

// lockContent is the lock file's content: "PID\nturn N\n" while a writer
// holds it (a waiter names the pid), "turn N\n" after.
func lockContent(pid int, n uint64) []byte {
	turn := "turn " + strconv.FormatUint(n, 10) + "\n"
	if pid == 0 {
		return []byte(turn)
	}
	return []byte(strconv.Itoa(pid) + "\n" + turn)
}

// parseLock reads lockContent: the holder's pid (0 if none) and the
// count. Anything else (an older rsprep's file, a read torn by a write)
// is an unknown turn.
func parseLock(data string) (pid int, t Turn) {
	if first, rest, ok := strings.Cut(data, "\n"); ok && !strings.HasPrefix(first, "turn ") {
		pid, _ = strconv.Atoi(first)
		data = rest
	}
	num, ok := strings.CutPrefix(data, "turn ")
	num, end := strings.CutSuffix(num, "\n")
	n, err := strconv.ParseUint(num, 10, 64)
	if ok && end && err == nil && strconv.FormatUint(n, 10) == num {
		t = Turn{known: true, n: n}
	}
	return pid, t
}

// highestCount is the highest count of turns in a lock file's content,
// whatever else it holds: a writer killed between the two steps of
// rewrite leaves its count followed by the end of the longer content
// before. The next count is higher than every count ever written, so no
// waiter can mistake it for the one it saw.
func highestCount(data string) uint64 {
	var high uint64
	for _, line := range strings.Split(data, "\n") {
		if num, ok := strings.CutPrefix(line, "turn "); ok {
			if n, err := strconv.ParseUint(num, 10, 64); err == nil {
				high = max(high, n)
			}
		}
	}
	return high
}

// readLock reads the lock file's content through f.
func readLock(f *os.File) string {
	data, _ := io.ReadAll(io.NewSectionReader(f, 0, 4096))
	return string(data)
}

// LastTurn is the lock file's turn now, taken before an observation. A
// missing file is turn 0: no writer ever had one. It is unknown while a
// writer holds the lock (its pid is in the file), and for a file of an
// older rsprep, which counted no turns.
func (s Files) LastTurn() Turn {
	data, err := os.ReadFile(s.lockPath())
	if errors.Is(err, fs.ErrNotExist) {
		return Turn{known: true}
	}
	pid, t := parseLock(string(data))
	if err != nil || pid != 0 {
		return Turn{}
	}
	return t
}
