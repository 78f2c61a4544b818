package libcontainer

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
)

// decodeState parses the state.json of container id and checks what later
// commands take for granted about it. The file is berth's own, but a
// hand-edited or truncated one must give an error, never a panic or an
// action on the wrong thing: an id that does not match its directory would
// make delete remove another container's, and a cgroup path with ".." would
// make it kill processes outside the container.
func decodeState(id string, b []byte) (*savedState, error) {
	st := new(savedState)
	if err := json.Unmarshal(b, st); err != nil {
		return nil, corruptState(id, "%v", err)
	}
	switch {
	case st.ID != id:
		return nil, corruptState(id, "id %q does not match its directory", st.ID)
	case st.InitPid < 0:
		return nil, corruptState(id, "initPid %d is negative", st.InitPid)
	case st.Config == nil || st.Config.Spec == nil:
		return nil, corruptState(id, "no config")
	case st.Config.Spec.Process == nil || st.Config.Spec.Linux == nil:
		return nil, corruptState(id, "config has no process or no linux section")
	}
	for _, name := range slices.Sorted(maps.Keys(st.CgroupPaths)) {
		p := st.CgroupPaths[name]
		if !filepath.IsAbs(p) || filepath.Clean(p) != p {
			return nil, corruptState(id, "cgroupPaths[%q] %q is not a clean absolute path", name, p)
		}
	}
	return st, nil
}

func corruptState(id, format string, args ...any) error {
	return fmt.Errorf("container %q: corrupt %s: %s", id, stateFile, fmt.Sprintf(format, args...))
}
