package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/berthrun/berth/libcontainer"
	"github.com/berthrun/berth/libcontainer/cgroups"
	"github.com/berthrun/berth/libcontainer/network"
	"github.com/berthrun/berth/libcontainer/rootfs"
	"github.com/berthrun/berth/seccomp"
	"github.com/berthrun/berth/specconv"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"github.com/urfave/cli/v2"
)

var featuresCommand = &cli.Command{
	Name:  "features",
	Usage: "print what this berth supports, as the runtime-spec features JSON",
	Action: func(c *cli.Context) error {
		if c.NArg() != 0 {
			return fmt.Errorf("features: takes no arguments (got %d)", c.NArg())
		}
		b, err := json.MarshalIndent(berthFeatures(), "", "    ")
		if err != nil {
			return err
		}
		os.Stdout.Write(append(b, '\n'))
		return nil
	},
}

// berthFeatures asks each package what it accepts, so the answer follows the
// code: a list holds only what a config may use with this build on this
// host, and a feature berth refuses says enabled false. The LSMs are
// reported for this host, not only this build: without AppArmor a profile
// is refused, without SELinux a label is ignored, so neither is supported
// here whatever the build could do.
func berthFeatures() *features.Features {
	yes, no := true, false
	apparmor, selinux := libcontainer.AppArmorEnabled(), libcontainer.SELinuxEnabled()
	return &features.Features{
		// checkVersion accepts every 1.x config.
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         specconv.Hooks(),
		MountOptions:  rootfs.MountOptions(),
		Linux: &features.Linux{
			Namespaces:   specconv.Namespaces(),
			Capabilities: libcontainer.Capabilities(),
			Cgroup:       cgroups.Features(),
			Seccomp:      seccomp.Features(),
			Apparmor:     &features.Apparmor{Enabled: &apparmor},
			Selinux:      &features.Selinux{Enabled: &selinux},
			// Intel RDT and idmapped mounts are not implemented.
			IntelRdt:        &features.IntelRdt{Enabled: &no},
			MountExtensions: &features.MountExtensions{IDMap: &features.IDMap{Enabled: &no}},
			NetDevices:      &features.NetDevices{Enabled: &yes},
		},
		Annotations: map[string]string{
			"io.github.seccomp.libseccomp.version": seccomp.LibraryVersion(),
			"run.berth.version":                    version,
			"run.berth.commit":                     commit,
		},
		// The built-in veth: these annotations make berth create host
		// network devices, so an engine should not pass them from users.
		PotentiallyUnsafeConfigAnnotations: []string{network.AnnotationPrefix},
	}
}
