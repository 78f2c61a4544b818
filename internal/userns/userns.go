// Package userns tells whether berth runs in a user namespace other than
// the host's: root there is root in name only (no mknod, no host cgroups),
// which decides the rootless defaults and how devices are made.
package userns

import (
	"bytes"
	"os"
	"sync"
)

// Running reports whether the calling process is in a user namespace other
// than the initial one, which alone maps every id onto itself. The answer
// cannot change for a process, so the file is read once.
var Running = sync.OnceValue(func() bool {
	b, err := os.ReadFile("/proc/self/uid_map")
	if err != nil {
		return false
	}
	return !initialMap(b)
})

func initialMap(b []byte) bool {
	f := bytes.Fields(b)
	return len(f) == 3 && string(f[0]) == "0" && string(f[1]) == "0" && string(f[2]) == "4294967295"
}
