package main

import (
	"os"
	"path/filepath"

	"github.com/berthrun/berth/internal/testbundle"
)

// ociVersion is the config version every runtime under test accepts: crun
// 1.8 refuses versions it does not know ("unknown version specified"), and
// nothing the bundles use is newer than 1.0.2.
const ociVersion = "1.0.2"

// makeBundles builds one busybox root filesystem in base and two bundles
// that share it (through an absolute root.path): one whose process is
// `true`, one whose process sleeps for a day. Every runtime runs these same
// two config.json files.
func makeBundles(base string) (trueBundle, sleepBundle string, err error) {
	rootfs := filepath.Join(base, "rootfs")
	if err := testbundle.Rootfs(rootfs); err != nil {
		return "", "", err
	}
	trueBundle = filepath.Join(base, "bundle-true")
	sleepBundle = filepath.Join(base, "bundle-sleep")
	for dir, args := range map[string][]string{trueBundle: {"true"}, sleepBundle: {"sleep", "86400"}} {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return "", "", err
		}
		spec := testbundle.Spec(args...)
		spec.Version = ociVersion
		spec.Root.Path = rootfs
		if err := testbundle.Write(dir, spec); err != nil {
			return "", "", err
		}
	}
	return trueBundle, sleepBundle, nil
}
