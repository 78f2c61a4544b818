package cgroups

import "github.com/opencontainers/runtime-spec/specs-go/features"

// Features reports the cgroup drivers built in, for `berth features`: the
// v1 (and hybrid) and v2 cgroupfs managers, the systemd driver of
// --systemd-cgroup, and linux.resources.rdma. Per the spec these say what
// is compiled in, not what this host runs. The user-session systemd driver
// is not claimed: berth has never been tried with it.
func Features() *features.Cgroup {
	yes := true
	return &features.Cgroup{V1: &yes, V2: &yes, Systemd: &yes, Rdma: &yes}
}
