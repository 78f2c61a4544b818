package cgroups

import (
	"fmt"

	"github.com/opencontainers/cgroups"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const (
	minBlkioWeight = 10
	maxBlkioWeight = 1000
)

func blkioWeight(path string, w *uint16) (uint16, error) {
	if w == nil || *w == 0 {
		return 0, nil
	}
	if *w < minBlkioWeight || *w > maxBlkioWeight {
		return 0, fieldError(path, *w, "must be %d to %d", minBlkioWeight, maxBlkioWeight)
	}
	return *w, nil
}

func blkioDevice(path string, d specs.LinuxBlockIODevice) error {
	if d.Major < 0 {
		return fieldError(path+".major", d.Major, "must be a device major number (0 or more)")
	}
	if d.Minor < 0 {
		return fieldError(path+".minor", d.Minor, "must be a device minor number (0 or more)")
	}
	return nil
}

func convertBlockIO(r *specs.LinuxResources, out *cgroups.Resources) error {
	b := r.BlockIO
	if b == nil {
		return nil
	}
	var err error
	if out.BlkioWeight, err = blkioWeight("linux.resources.blockIO.weight", b.Weight); err != nil {
		return err
	}
	if out.BlkioLeafWeight, err = blkioWeight("linux.resources.blockIO.leafWeight", b.LeafWeight); err != nil {
		return err
	}
	for i, wd := range b.WeightDevice {
		path := fmt.Sprintf("linux.resources.blockIO.weightDevice[%d]", i)
		if err := blkioDevice(path, wd.LinuxBlockIODevice); err != nil {
			return err
		}
		w, err := blkioWeight(path+".weight", wd.Weight)
		if err != nil {
			return err
		}
		lw, err := blkioWeight(path+".leafWeight", wd.LeafWeight)
		if err != nil {
			return err
		}
		if w == 0 && lw == 0 {
			return fieldError(path, nil, "set weight, leafWeight or both")
		}
		out.BlkioWeightDevice = append(out.BlkioWeightDevice, cgroups.NewWeightDevice(wd.Major, wd.Minor, w, lw))
	}
	throttles := []struct {
		name string
		in   []specs.LinuxThrottleDevice
		out  *[]*cgroups.ThrottleDevice
	}{
		{"throttleReadBpsDevice", b.ThrottleReadBpsDevice, &out.BlkioThrottleReadBpsDevice},
		{"throttleWriteBpsDevice", b.ThrottleWriteBpsDevice, &out.BlkioThrottleWriteBpsDevice},
		{"throttleReadIOPSDevice", b.ThrottleReadIOPSDevice, &out.BlkioThrottleReadIOPSDevice},
		{"throttleWriteIOPSDevice", b.ThrottleWriteIOPSDevice, &out.BlkioThrottleWriteIOPSDevice},
	}
	for _, t := range throttles {
		for i, td := range t.in {
			path := fmt.Sprintf("linux.resources.blockIO.%s[%d]", t.name, i)
			if err := blkioDevice(path, td.LinuxBlockIODevice); err != nil {
				return err
			}
			*t.out = append(*t.out, cgroups.NewThrottleDevice(td.Major, td.Minor, td.Rate))
		}
	}
	return nil
}
