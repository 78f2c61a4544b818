package libcontainer

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Config is a validated container configuration: the OCI spec as read from the
// bundle (already checked by specconv) plus the facts that specconv derived from
// it and from the command line. The init process receives it as JSON.
type Config struct {
	// ID is the container id, already checked against the id rules.
	ID string `json:"id"`
	// Bundle is the absolute path of the bundle directory.
	Bundle string `json:"bundle"`
	// Rootfs is the absolute path of the root filesystem (root.path resolved
	// against the bundle, symlinks evaluated).
	Rootfs string `json:"rootfs"`
	// Spec is the validated OCI configuration. Spec.Process and Spec.Linux are
	// never nil once specconv has accepted the bundle.
	Spec *specs.Spec `json:"spec"`
	// Namespaces lists the namespaces to create (Path empty) or join, in the
	// order the spec gives them.
	Namespaces []Namespace `json:"namespaces"`
	// CgroupsPath is linux.cgroupsPath as given (may be empty: derived from ID).
	CgroupsPath string `json:"cgroupsPath,omitempty"`

	NoPivot       bool `json:"noPivot,omitempty"`
	NoNewKeyring  bool `json:"noNewKeyring,omitempty"`
	SystemdCgroup bool `json:"systemdCgroup,omitempty"`
	Rootless      bool `json:"rootless,omitempty"`
	// NotifySocket is the caller's NOTIFY_SOCKET: start relays the
	// container's READY=1 to it (see notify.go).
	NotifySocket string `json:"notifySocket,omitempty"`
	// OOMScoreAdjEarly: process.oomScoreAdj is written by the nsenter
	// stage before the user namespace (an unprivileged caller's init
	// could not open its own oom_score_adj later), so the init skips it.
	OOMScoreAdjEarly bool `json:"oomScoreAdjEarly,omitempty"`

	// idMaps is how an unprivileged caller's new user namespace gets its
	// maps (planIDMaps), worked out by Create; nil: written directly.
	idMaps *idMapPlan
}

// Namespace is one namespace of the container: new when Path is empty, joined
// otherwise.
type Namespace struct {
	Type specs.LinuxNamespaceType `json:"type"`
	Path string                   `json:"path,omitempty"`
}

// Namespace returns the container's namespace of type t and whether it has one.
func (c *Config) Namespace(t specs.LinuxNamespaceType) (Namespace, bool) {
	for _, ns := range c.Namespaces {
		if ns.Type == t {
			return ns, true
		}
	}
	return Namespace{}, false
}

// NewNamespace reports whether the container creates a new namespace of type t.
func (c *Config) NewNamespace(t specs.LinuxNamespaceType) bool {
	ns, ok := c.Namespace(t)
	return ok && ns.Path == ""
}
