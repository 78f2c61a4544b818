package libcontainer

import "strings"

// processEnv is the environment the container's process gets from
// process.env (and `exec -e`): a name given more than once appears once,
// where its last occurrence is, with the last value, and an empty HOME is
// dropped so that the init fills it in from the container's /etc/passwd.
// runc does both; programs that read the environment with getenv see the
// first of two entries, which would silently undo an `exec -e` override.
// The C init gets its environment from here (cinitPlan).
func processEnv(env []string) []string {
	seen := make(map[string]bool, len(env))
	out := make([]string, 0, len(env))
	for i := len(env) - 1; i >= 0; i-- {
		kv := env[i]
		name, value, _ := strings.Cut(kv, "=")
		if seen[name] {
			continue
		}
		seen[name] = true
		if name == "HOME" && value == "" {
			continue
		}
		out = append(out, kv)
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
