package specconv

import "os"

// hookNames are the hooks checkHooks checks and berth runs, in lifecycle
// order; "prestart" is deprecated in the spec but still run.
var hookNames = []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}

// Hooks lists the hook names berth runs, for `berth features`.
func Hooks() []string { return append([]string(nil), hookNames...) }

// Namespaces lists the namespace types berth accepts that this kernel has
// (the time namespace needs Linux 5.6, the cgroup namespace 4.6), for
// `berth features`.
func Namespaces() []string {
	var out []string
	for _, t := range namespaceTypes {
		if _, err := os.Stat("/proc/self/ns/" + nsFileName(t)); err == nil {
			out = append(out, string(t))
		}
	}
	return out
}
