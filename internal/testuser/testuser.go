// Package testuser gives the rootless tests (tests/ and tests/clients) their
// unprivileged user, berth-rootless, made with useradd when the host lacks
// it, with subordinate uid and gid ranges as newuidmap/newgidmap and rootless
// podman need.
package testuser

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// Name is the test user.
const Name = "berth-rootless"

// fallbackRange is given to the user when useradd left it none (an
// /etc/login.defs without SUB_UID_COUNT, or a user made before).
const fallbackRange = "300000-365535"

// User is the test user as the host knows it.
type User struct {
	Name     string
	UID, GID int
}

var (
	once    sync.Once
	theUser *User
	err     error
)

// Ensure makes the user once per test binary, with subordinate ids, and
// returns it. It needs root.
func Ensure() (*User, error) {
	once.Do(func() { theUser, err = ensure() })
	return theUser, err
}

func ensure() (*User, error) {
	if _, err := user.Lookup(Name); err != nil {
		if _, err := exec.LookPath("useradd"); err != nil {
			return nil, fmt.Errorf("no user %s and no useradd to make it", Name)
		}
		if out, err := exec.Command("useradd", "--create-home", "--shell", "/bin/sh", Name).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("useradd %s: %v: %s", Name, err, out)
		}
	}
	for _, f := range []string{"/etc/subuid", "/etc/subgid"} {
		if _, _, ok := SubIDRange(f); ok {
			continue
		}
		flag := "--add-subuids"
		if strings.HasSuffix(f, "subgid") {
			flag = "--add-subgids"
		}
		if out, err := exec.Command("usermod", flag, fallbackRange, Name).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("usermod %s: %v: %s", flag, err, out)
		}
	}
	u, err := user.Lookup(Name)
	if err != nil {
		return nil, err
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %s: uid %q gid %q", Name, u.Uid, u.Gid)
	}
	return &User{Name: Name, UID: uid, GID: gid}, nil
}

// SubIDRange is the user's first range in a subuid/subgid file.
func SubIDRange(file string) (start, size uint64, ok bool) {
	f, err := os.Open(file)
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), ":")
		if len(p) == 3 && p[0] == Name {
			a, err1 := strconv.ParseUint(p[1], 10, 32)
			b, err2 := strconv.ParseUint(p[2], 10, 32)
			if err1 == nil && err2 == nil && b > 0 {
				return a, b, true
			}
		}
	}
	return 0, 0, false
}

// ChownTree gives a tree to uid:gid (symlinks themselves, not their
// targets), so that the test user can use bundles and worlds root made.
func ChownTree(dir string, uid, gid int) error {
	return filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
}
