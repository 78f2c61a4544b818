package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// blockDevice is a whole-disk block device of the host (blkio throttles
// and io.max take only disks, not partitions).
type blockDevice struct {
	name         string
	major, minor int64
}

func (d blockDevice) String() string { return fmt.Sprintf("%s (%d:%d)", d.name, d.major, d.minor) }

// wholeDisks lists /sys/block, disks with a size first.
func wholeDisks(t *testing.T) []blockDevice {
	t.Helper()
	entries, _ := os.ReadDir("/sys/block")
	var sized, empty []blockDevice
	for _, de := range entries {
		dev, err := os.ReadFile(filepath.Join("/sys/block", de.Name(), "dev"))
		if err != nil {
			continue
		}
		maj, min, ok := strings.Cut(strings.TrimSpace(string(dev)), ":")
		ma, err1 := strconv.ParseInt(maj, 10, 64)
		mi, err2 := strconv.ParseInt(min, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		d := blockDevice{name: de.Name(), major: ma, minor: mi}
		if size, _ := os.ReadFile(filepath.Join("/sys/block", de.Name(), "size")); strings.TrimSpace(string(size)) != "0" {
			sized = append(sized, d)
		} else {
			empty = append(empty, d)
		}
	}
	sort.Slice(sized, func(i, j int) bool { return sized[i].name < sized[j].name })
	sort.Slice(empty, func(i, j int) bool { return empty[i].name < empty[j].name })
	return append(sized, empty...)
}

// hostBlockDevice finds a disk to throttle. The vmtest guest boots from an
// initramfs with no disk at all: there the loop driver (its devices exist
// once the module is loaded) or, failing that, a RAM disk (brd) provides
// one. The test skips only when none of these can be had.
func hostBlockDevice(t *testing.T) blockDevice {
	t.Helper()
	if disks := wholeDisks(t); len(disks) > 0 {
		return disks[0]
	}
	var tried []string
	for _, mod := range [][]string{{"loop"}, {"brd", "rd_nr=1", "rd_size=4096"}} {
		out, err := exec.Command("modprobe", mod...).CombinedOutput()
		tried = append(tried, fmt.Sprintf("modprobe %s: %v %s", strings.Join(mod, " "), err, strings.TrimSpace(string(out))))
		if disks := wholeDisks(t); len(disks) > 0 {
			t.Logf("no block device on this host; made %s with modprobe %s", disks[0], mod[0])
			return disks[0]
		}
	}
	t.Skipf("no block device on this host and none could be made: %s", strings.Join(tried, "; "))
	return blockDevice{}
}

// throttleLine is the line of a throttle file for dev: v1
// blkio.throttle.*_device "MAJ:MIN RATE", v2 io.max "MAJ:MIN rbps=… …".
func throttleLine(t *testing.T, dir, file string, dev blockDevice) string {
	t.Helper()
	prefix := fmt.Sprintf("%d:%d ", dev.major, dev.minor)
	for _, l := range lines(cgFile(t, dir, file)) {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// TestBlockIOLimits: linux.resources.blockIO throttles and weight reach the
// kernel, at create and by update. cgroup v1: blkio.throttle.*_device and
// blkio.weight (or BFQ's blkio.bfq.weight). cgroup v2: one io.max line per
// device ("rbps=… wbps=… riops=… wiops=…"), and the weight in io.bfq.weight
// as is when BFQ is there, else in io.weight converted to 1..10000 as runc
// converts (1 + (w−10)·9999/990).
func TestBlockIOLimits(t *testing.T) {
	t.Parallel()
	dev := hostBlockDevice(t)
	e := newEnv(t)
	v2 := pureCgroup2()
	throttle := func(rate uint64) []specs.LinuxThrottleDevice {
		var d specs.LinuxThrottleDevice
		d.Major, d.Minor, d.Rate = dev.major, dev.minor, rate
		return []specs.LinuxThrottleDevice{d}
	}
	// The weight file comes with an I/O scheduler or policy the kernel
	// may not have (CFQ, BFQ, iocost), and berth refuses a weight where
	// there is none. On v2 only non-root cgroups have it: look in ours.
	weightFile := blkioWeightFile()
	if v2 {
		weightFile = ""
		for _, d := range ownCgroupDirs() {
			for _, f := range []string{"io.bfq.weight", "io.weight"} {
				if _, err := os.Stat(filepath.Join(d, f)); err == nil && weightFile == "" {
					weightFile = f
				}
			}
		}
	}
	weight := func(w uint16) string { return strconv.Itoa(int(w)) }
	if weightFile == "io.weight" {
		weight = func(w uint16) string { return strconv.FormatUint(1+(uint64(w)-10)*9999/990, 10) }
	}
	spec := sh(waitingScript)
	spec.Linux.Resources = &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
		ThrottleReadBpsDevice:   throttle(1 << 20),
		ThrottleWriteIOPSDevice: throttle(120),
	}}
	t.Logf("throttling %s; weight file %q", dev, weightFile)
	if weightFile != "" {
		spec.Linux.Resources.BlockIO.Weight = ptr(uint16(500))
	} else {
		t.Logf("no I/O weight file here (no CFQ, BFQ or iocost): blockIO.weight not tested")
	}
	ctrl := "blkio"
	if v2 {
		ctrl = "io"
	}
	id, _, st := e.startDetached("blkio", spec)
	dirs := cgroupDirs(t, st.Pid)
	dir, ok := dirs[ctrl]
	if !ok {
		t.Fatalf("the container is in no %s cgroup of its own: %v", ctrl, cgroupOf(t, st.Pid))
	}
	check := func(when string, rbps, wiops uint64, w uint16) {
		t.Helper()
		key := fmt.Sprintf("%d:%d", dev.major, dev.minor)
		if v2 {
			want := fmt.Sprintf("%s rbps=%d wbps=max riops=max wiops=%d", key, rbps, wiops)
			if got := throttleLine(t, dir, "io.max", dev); got != want {
				t.Errorf("%s: io.max line of %s = %q, want %q (io.max: %q)", when, dev, got, want, cgFile(t, dir, "io.max"))
			}
		} else {
			for file, v := range map[string]uint64{"blkio.throttle.read_bps_device": rbps, "blkio.throttle.write_iops_device": wiops} {
				if got, want := throttleLine(t, dir, file, dev), fmt.Sprintf("%s %d", key, v); got != want {
					t.Errorf("%s: %s line of %s = %q, want %q", when, file, dev, got, want)
				}
			}
		}
		if weightFile == "" {
			return
		}
		if got := cgValue(t, dir, weightFile); got != weight(w) {
			t.Errorf("%s: %s/%s = %q, want %q (blockIO.weight %d)", when, dir, weightFile, got, weight(w), w)
		}
	}
	check("after create", 1<<20, 120, 500)

	upd := fmt.Sprintf(`{"blockIO":{"throttleReadBpsDevice":[{"major":%d,"minor":%d,"rate":%d}]}}`, dev.major, dev.minor, 2<<20)
	if r := e.berthOpts(runOpts{stdin: upd}, "update", "--resources", "-", id); r.code != 0 {
		t.Fatalf("update throttleReadBpsDevice: %v", r)
	}
	check("after update of throttleReadBpsDevice", 2<<20, 120, 500)
	if weightFile != "" {
		e.mustBerth("update", "--blkio-weight", "300", id)
		check("after update --blkio-weight 300", 2<<20, 120, 300)
	}
	e.mustBerth("delete", "--force", id)
}
