package specconv

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Validate checks a parsed spec. bundle is the absolute bundle directory,
// used to resolve a relative root.path. It returns the first problem found,
// as one line naming the JSON path of the bad field; the checks run in the
// order of config.json's sections so that the first error is the one nearest
// the top of the file.
func Validate(spec *specs.Spec, bundle string, opts Options) error {
	_, err := validate(spec, bundle, opts)
	return err
}

// validate is Validate that also returns the resolved rootfs, which Load
// needs and which costs a walk of the path to compute.
func validate(spec *specs.Spec, bundle string, opts Options) (rootfs string, err error) {
	if spec == nil {
		return "", errors.New("config.json: no configuration")
	}
	if err := checkVersion(spec.Version); err != nil {
		return "", err
	}
	if rootfs, err = resolveRootfs(spec.Root, bundle); err != nil {
		return "", err
	}
	if err := checkProcess(spec.Process); err != nil {
		return "", err
	}
	if spec.Linux == nil {
		return "", badField("linux", "missing (berth only runs Linux containers; add a \"linux\" object with at least the namespaces)")
	}
	ns, err := checkNamespaces(spec.Linux.Namespaces)
	if err != nil {
		return "", err
	}
	checks := []func() error{
		func() error { return checkUTSNames(spec, ns) },
		func() error { return checkMounts(spec.Mounts) },
		func() error { return checkHooks(spec.Hooks) },
		func() error { return checkAnnotations(spec.Annotations) },
		func() error { return checkUserNamespace(spec.Linux, ns) },
		func() error { return checkTimeOffsets(spec.Linux.TimeOffsets, ns) },
		func() error { return checkSysctl(spec, ns) },
		func() error { return checkDevices(spec.Linux.Devices) },
		func() error { return checkRootfsPropagation(spec.Linux.RootfsPropagation) },
		func() error { return checkPathsNeedMountNamespace(spec.Linux, ns) },
		func() error { return checkSecurity(spec) },
		func() error { return checkLinuxAttrs(spec.Linux) },
		func() error { return checkAbsolutePaths("linux.maskedPaths", spec.Linux.MaskedPaths) },
		func() error { return checkAbsolutePaths("linux.readonlyPaths", spec.Linux.ReadonlyPaths) },
		func() error { return checkCgroupsPath(spec.Linux.CgroupsPath, opts.SystemdCgroup) },
		func() error { return checkNetwork(spec, ns, opts) },
	}
	for _, check := range checks {
		if err := check(); err != nil {
			return "", err
		}
	}
	return rootfs, nil
}

// checkVersion accepts any 1.x version: the spec keeps compatibility within a
// major version, so a bundle written for 1.4 still means what it says to a
// runtime that knows 1.3 (unknown fields are ignored).
func checkVersion(v string) error {
	if v == "" {
		return badValue("ociVersion", v, "missing (want a 1.x version such as %q)", specs.Version)
	}
	major, ok := semverMajor(v)
	if !ok {
		return badValue("ociVersion", v, "not a semantic version (want MAJOR.MINOR.PATCH such as %q)", specs.Version)
	}
	if major != specs.VersionMajor {
		return badValue("ociVersion", v, "unsupported major version %d (berth supports %d.x)", major, specs.VersionMajor)
	}
	return nil
}

// semverMajor parses MAJOR.MINOR.PATCH[-prerelease][+build] and returns
// MAJOR. Pre-release tags such as "1.0.2-dev" are common in the wild.
func semverMajor(v string) (int, bool) {
	core, _, _ := strings.Cut(v, "+")
	core, _, _ = strings.Cut(core, "-")
	parts := strings.Split(core, ".")
	if len(parts) != 3 {
		return 0, false
	}
	for _, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return 0, false
		}
	}
	major, err := strconv.Atoi(parts[0])
	return major, err == nil
}

// checkAbsolutePaths checks a list of container paths (maskedPaths,
// readonlyPaths): they are resolved inside the container root, and a relative
// path has no defined meaning there.
func checkAbsolutePaths(field string, paths []string) error {
	for i, p := range paths {
		if !filepath.IsAbs(p) {
			return badValue(at(field, i), p, "must be an absolute path in the container")
		}
	}
	return nil
}
