package cgroups

import "github.com/opencontainers/cgroups/systemd"

// SystemdOwnerUID is the uid owning the systemd instance on the caller's
// user bus (sd_bus_creds_get_owner_uid; `busctl --user status`'s
// OwnerUID). --rootless auto asks it, as runc does, when root in a user
// namespace uses the systemd driver: a user's systemd (owner not 0) means
// rootless, a root systemd inside the namespace does not. Outside a user
// namespace it is the caller's own uid, without asking.
func SystemdOwnerUID() (int, error) { return systemd.DetectUID() }
