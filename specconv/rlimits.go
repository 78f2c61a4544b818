package specconv

import "sort"

// rlimits holds the resource limit names of Linux setrlimit(2).
var rlimits = map[string]bool{
	"RLIMIT_AS":         true,
	"RLIMIT_CORE":       true,
	"RLIMIT_CPU":        true,
	"RLIMIT_DATA":       true,
	"RLIMIT_FSIZE":      true,
	"RLIMIT_LOCKS":      true,
	"RLIMIT_MEMLOCK":    true,
	"RLIMIT_MSGQUEUE":   true,
	"RLIMIT_NICE":       true,
	"RLIMIT_NOFILE":     true,
	"RLIMIT_NPROC":      true,
	"RLIMIT_RSS":        true,
	"RLIMIT_RTPRIO":     true,
	"RLIMIT_RTTIME":     true,
	"RLIMIT_SIGPENDING": true,
	"RLIMIT_STACK":      true,
}

// rlimitNames lists the known names in order, for error messages.
func rlimitNames() []string {
	names := make([]string, 0, len(rlimits))
	for n := range rlimits {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
