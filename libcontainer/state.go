package libcontainer

import (
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Status values of the OCI lifecycle, plus runc's "paused".
const (
	Creating = "creating"
	Created  = "created"
	Running  = "running"
	Stopped  = "stopped"
	Paused   = "paused"
)

// StateSpec is what `berth state` prints: the OCI state plus runc's rootfs,
// created and owner fields.
type StateSpec struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// savedState is state.json: everything later commands need to find and tear
// down the container. Status is not in it: it is derived (see status.go).
type savedState struct {
	ID            string `json:"id"`
	InitPid       int    `json:"initPid"`
	InitStartTime uint64 `json:"initStartTime"`
	// InitExe identifies the file the init runs until it execs the
	// container's process (see initExeced).
	InitExe     string            `json:"initExe,omitempty"`
	Created     time.Time         `json:"created"`
	CgroupPaths map[string]string `json:"cgroupPaths,omitempty"`
	Config      *Config           `json:"config"`
	Network     *netState         `json:"network,omitempty"` // what setupNetwork made
}

// hookState is the OCI state given to hooks on stdin.
func (s *savedState) hookState(status string) *specs.State {
	return &specs.State{
		Version:     specs.Version,
		ID:          s.ID,
		Status:      specs.ContainerState(status),
		Pid:         s.InitPid,
		Bundle:      s.Config.Bundle,
		Annotations: s.Config.Spec.Annotations,
	}
}
