package hostcheck

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// minKernel is the oldest Linux with every syscall berth cannot do without:
// close_range with CLOSE_RANGE_CLOEXEC (5.11) is the newest of them
// (pidfd_open is 5.3, memfd seals 3.17). The syscall checks below probe each
// one, so a distribution kernel with backports still shows what it has.
var minKernel = [2]int{5, 11}

// KernelFacts is what uname says.
type KernelFacts struct {
	Release string `json:"release"`
	Major   int    `json:"major"`
	Minor   int    `json:"minor"`
	Machine string `json:"machine"`
}

func checkKernel() Check {
	c := Check{Name: "kernel", Required: true,
		Berth: fmt.Sprintf("needs Linux %d.%d or later", minKernel[0], minKernel[1])}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		c.Host = "uname: " + err.Error()
		return c
	}
	f := KernelFacts{Release: unix.ByteSliceToString(u.Release[:]), Machine: unix.ByteSliceToString(u.Machine[:])}
	var ok bool
	f.Major, f.Minor, ok = parseRelease(f.Release)
	c.Facts = f
	c.Host = "Linux " + f.Release + " " + f.Machine
	if !ok {
		c.Host += " (version not understood)"
		return c
	}
	c.OK = f.Major > minKernel[0] || (f.Major == minKernel[0] && f.Minor >= minKernel[1])
	return c
}

// parseRelease reads MAJOR.MINOR from a release such as "6.1.0-28-amd64".
func parseRelease(release string) (major, minor int, ok bool) {
	parts := strings.SplitN(release, ".", 3)
	if len(parts) < 2 {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(leadingDigits(parts[1]))
	return major, minor, err1 == nil && err2 == nil
}

// leadingDigits is the decimal number s starts with ("11" of "11-rc1").
func leadingDigits(s string) string {
	end := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if end < 0 {
		return s
	}
	return s[:end]
}
