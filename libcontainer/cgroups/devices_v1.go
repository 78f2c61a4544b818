package cgroups

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/opencontainers/cgroups"
	devices "github.com/opencontainers/cgroups/devices/config"
)

// berth programs the v1 devices controller itself: the upstream setter
// lives in a package that also pulls in an eBPF library berth does not
// otherwise need. Registering it lets the fs manager's Set apply
// Resources.Devices.
func init() {
	if cgroups.DevicesSetV1 == nil {
		cgroups.DevicesSetV1 = setDevicesV1
	}
}

// Access bits, as the kernel keeps them.
const (
	accMknod = 1 << iota
	accRead
	accWrite
	accAll = accMknod | accRead | accWrite
)

func accessBits(p devices.Permissions) uint8 {
	var b uint8
	for _, c := range p {
		switch c {
		case 'r':
			b |= accRead
		case 'w':
			b |= accWrite
		case 'm':
			b |= accMknod
		}
	}
	return b
}

func accessString(b uint8) string {
	s := ""
	if b&accRead != 0 {
		s += "r"
	}
	if b&accWrite != 0 {
		s += "w"
	}
	if b&accMknod != 0 {
		s += "m"
	}
	return s
}

type devKey struct {
	typ          devices.Type
	major, minor int64
}

func (k devKey) String(access uint8) string {
	num := func(n int64) string {
		if n == wildcard {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%c %s:%s %s", k.typ, num(k.major), num(k.minor), accessString(access))
}

// devState models one cgroup v1 devices controller the way
// security/device_cgroup.c does: a default behaviour plus exceptions keyed
// by exact type:major:minor.
type devState struct {
	allowAll   bool
	order      []devKey
	exceptions map[devKey]uint8
}

func newDevState(allowAll bool) *devState {
	return &devState{allowAll: allowAll, exceptions: map[devKey]uint8{}}
}

func (s *devState) add(k devKey, acc uint8) {
	if _, ok := s.exceptions[k]; !ok {
		s.order = append(s.order, k)
	}
	s.exceptions[k] |= acc
}

func (s *devState) remove(k devKey, acc uint8) {
	cur, ok := s.exceptions[k]
	if !ok {
		return
	}
	if cur &^= acc; cur != 0 {
		s.exceptions[k] = cur
		return
	}
	delete(s.exceptions, k)
	for i, o := range s.order {
		if o == k {
			s.order = append(s.order[:i], s.order[i+1:]...)
			break
		}
	}
}

// apply is what writing the rule to devices.allow or devices.deny does.
func (s *devState) apply(r *devices.Rule) {
	if r.Type == devices.WildcardDevice {
		*s = *newDevState(r.Allow)
		return
	}
	k := devKey{r.Type, r.Major, r.Minor}
	acc := accessBits(r.Permissions)
	// An exception is an allow in deny mode and a deny in allow mode.
	if r.Allow != s.allowAll {
		s.add(k, acc)
	} else {
		s.remove(k, acc)
	}
}

func emulateDevices(rules []*devices.Rule) *devState {
	s := newDevState(false)
	for _, r := range rules {
		s.apply(r)
	}
	return s
}

// parseDevicesList reads devices.list. In allow-all mode the kernel prints
// only "a *:* rwm", so exceptions are unknown and known is false.
func parseDevicesList(list string) (s *devState, known bool, err error) {
	s = newDevState(false)
	for _, line := range strings.Split(strings.TrimSpace(list), "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, false, fmt.Errorf("devices.list line %q: want TYPE MAJOR:MINOR ACCESS", line)
		}
		if f[0] == "a" {
			return newDevState(true), false, nil
		}
		maj, min, ok := strings.Cut(f[1], ":")
		if !ok || (f[0] != "c" && f[0] != "b") {
			return nil, false, fmt.Errorf("devices.list line %q: want TYPE MAJOR:MINOR ACCESS", line)
		}
		k := devKey{typ: devices.Type(f[0][0])}
		if k.major, err = listDevNum(maj); err != nil {
			return nil, false, fmt.Errorf("devices.list line %q: %w", line, err)
		}
		if k.minor, err = listDevNum(min); err != nil {
			return nil, false, fmt.Errorf("devices.list line %q: %w", line, err)
		}
		s.add(k, accessBits(devices.Permissions(f[2])))
	}
	return s, true, nil
}

func listDevNum(s string) (int64, error) {
	if s == "*" {
		return wildcard, nil
	}
	return strconv.ParseInt(s, 10, 64)
}

// devicesTransition is the writes (file, line) that take the controller
// from cur to target without ever allowing more than both of them allow,
// when both deny by default.
func devicesTransition(cur *devState, curKnown bool, target *devState) [][2]string {
	var w [][2]string
	if target.allowAll {
		// The kernel hides allow-mode exceptions, so reset and deny anew.
		w = append(w, [2]string{"devices.allow", "a"})
		for _, k := range target.order {
			w = append(w, [2]string{"devices.deny", k.String(target.exceptions[k])})
		}
		return w
	}
	if cur.allowAll || !curKnown {
		w = append(w, [2]string{"devices.deny", "a"})
		cur = newDevState(false)
	}
	for _, k := range cur.order {
		if drop := cur.exceptions[k] &^ target.exceptions[k]; drop != 0 {
			w = append(w, [2]string{"devices.deny", k.String(drop)})
		}
	}
	for _, k := range target.order {
		if add := target.exceptions[k] &^ cur.exceptions[k]; add != 0 {
			w = append(w, [2]string{"devices.allow", k.String(add)})
		}
	}
	return w
}

func sameExceptions(a, b *devState) bool {
	if a.allowAll != b.allowAll || len(a.exceptions) != len(b.exceptions) {
		return false
	}
	for k, v := range a.exceptions {
		if b.exceptions[k] != v {
			return false
		}
	}
	return true
}

func setDevicesV1(path string, r *cgroups.Resources) error {
	if r.SkipDevices {
		return nil
	}
	list, err := cgroups.ReadFile(path, "devices.list")
	if err != nil {
		return err
	}
	cur, known, err := parseDevicesList(list)
	if err != nil {
		return err
	}
	target := emulateDevices(r.Devices)
	for _, wr := range devicesTransition(cur, known, target) {
		if err := cgroups.WriteFile(path, wr[0], wr[1]); err != nil {
			return fmt.Errorf("%s: %w", wr[0], err)
		}
	}
	if target.allowAll {
		return nil // the kernel does not show allow-mode exceptions
	}
	list, err = cgroups.ReadFile(path, "devices.list")
	if err != nil {
		return err
	}
	after, _, err := parseDevicesList(list)
	if err != nil {
		return err
	}
	if !sameExceptions(after, target) {
		return fmt.Errorf("%s/devices.list does not match the device rules after writing them", path)
	}
	return nil
}
