package network

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"path/filepath"
	"strings"
	"unicode"
)

// maxNameLen is the longest interface name the kernel takes (IFNAMSIZ-1).
const maxNameLen = 15

// hostVethPrefix starts the name of every host veth berth makes.
const hostVethPrefix = "berth"

// ContainerVethName is the name of the built-in veth's end in the container.
const ContainerVethName = "eth0"

// CheckName checks an interface name as the kernel's dev_valid_name does,
// plus the "%d" template that lets the kernel pick a free number.
func CheckName(name string) error {
	switch {
	case name == "":
		return errors.New("empty interface name")
	case len(name) > maxNameLen:
		return errors.New("longer than 15 bytes (the kernel's IFNAMSIZ limit)")
	case name == "." || name == "..":
		return errors.New("not a valid interface name")
	case strings.ContainsAny(name, "/:"):
		return errors.New("interface names cannot contain '/' or ':'")
	case strings.IndexFunc(name, unicode.IsSpace) >= 0:
		return errors.New("interface names cannot contain white space")
	}
	if n := strings.Count(name, "%"); n > 1 || (n == 1 && !strings.Contains(name, "%d")) {
		return errors.New("the only pattern allowed is one \"%d\", which the kernel replaces with a free number")
	}
	return nil
}

// IsTemplate reports whether name is a "%d" template rather than a name.
func IsTemplate(name string) bool { return strings.Contains(name, "%d") }

// HostVethName is the name of the host end of the container's veth, derived
// from the state root and id so that delete finds it even when a create was
// killed before it could record anything: "berth" and 10 hex digits.
func HostVethName(root, id string) string {
	if abs, err := filepath.Abs(root); err == nil {
		root = abs
	}
	sum := sha256.Sum256([]byte(root + "\x00" + id))
	return hostVethPrefix + hex.EncodeToString(sum[:5])
}
