package cgroups

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"unsafe"

	"github.com/opencontainers/cgroups"
	devices "github.com/opencontainers/cgroups/devices/config"
	"golang.org/x/sys/unix"
)

// cgroup v2 has no devices files: access is decided by an eBPF program of
// type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. berth builds the
// program itself from the same model as v1 (devState), loads it with the
// bpf(2) syscall and attaches it, replacing what was attached before.
func init() {
	if cgroups.DevicesSetV2 == nil {
		cgroups.DevicesSetV2 = setDevicesV2
	}
}

// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
// access_type is (access << 16) | type.
const (
	bpfDevBlock = 1
	bpfDevChar  = 2

	bpfAccMknod = 1
	bpfAccRead  = 2
	bpfAccWrite = 4
)

// One eBPF instruction: opcode, dst:4|src:4, offset, immediate.
type bpfInsn struct {
	op   uint8
	regs uint8
	off  int16
	imm  int32
}

func insn(op, dst, src uint8, off int16, imm int32) bpfInsn {
	return bpfInsn{op: op, regs: dst | src<<4, off: off, imm: imm}
}

// The opcodes the program uses.
const (
	opLdxW    = 0x61 // dst = *(u32 *)(src + off)
	opAnd64K  = 0x57 // dst &= imm
	opRsh64K  = 0x77 // dst >>= imm
	opMov64K  = 0xb7 // dst = imm
	opMov64X  = 0xbf // dst = src
	opJeqK    = 0x15 // if dst == imm goto pc+off
	opJneK    = 0x55 // if dst != imm goto pc+off
	opExit    = 0x95
	regRet    = 0
	regCtx    = 1
	regType   = 2
	regAccess = 3
	regMajor  = 4
	regMinor  = 5
	regTmp    = 6
)

// bpfAccess converts the model's access bits to the program's.
func bpfAccess(a uint8) int32 {
	var b int32
	if a&accMknod != 0 {
		b |= bpfAccMknod
	}
	if a&accRead != 0 {
		b |= bpfAccRead
	}
	if a&accWrite != 0 {
		b |= bpfAccWrite
	}
	return b
}

// devicesProgram compiles the device rules into an eBPF program that
// returns 1 (allow) or 0 (deny), with the v1 controller's semantics: in
// deny-all mode a request is allowed when one exception covers all its
// access bits; in allow-all mode it is denied when an exception overlaps it.
func devicesProgram(rules []*devices.Rule) []bpfInsn {
	st := emulateDevices(rules)
	prog := []bpfInsn{
		insn(opLdxW, regType, regCtx, 0, 0),
		insn(opAnd64K, regType, 0, 0, 0xffff),
		insn(opLdxW, regAccess, regCtx, 0, 0),
		insn(opRsh64K, regAccess, 0, 0, 16),
		insn(opLdxW, regMajor, regCtx, 4, 0),
		insn(opLdxW, regMinor, regCtx, 8, 0),
	}
	verdict, fallback := int32(1), int32(0)
	if st.allowAll {
		verdict, fallback = 0, 1
	}
	for _, k := range st.order {
		acc := bpfAccess(st.exceptions[k])
		var block []bpfInsn
		typ := int32(bpfDevChar)
		if k.typ == devices.BlockDevice {
			typ = bpfDevBlock
		}
		// Each check jumps past the block's end on mismatch; offsets are
		// fixed up once the block's length is known.
		block = append(block, insn(opJneK, regType, 0, -1, typ))
		block = append(block, insn(opMov64X, regTmp, regAccess, 0, 0))
		if st.allowAll {
			block = append(block, insn(opAnd64K, regTmp, 0, 0, acc))
			block = append(block, insn(opJeqK, regTmp, 0, -1, 0)) // no overlap
		} else {
			block = append(block, insn(opAnd64K, regTmp, 0, 0, ^acc&0x7))
			block = append(block, insn(opJneK, regTmp, 0, -1, 0)) // asks for more
		}
		if k.major != wildcard {
			block = append(block, insn(opJneK, regMajor, 0, -1, int32(k.major)))
		}
		if k.minor != wildcard {
			block = append(block, insn(opJneK, regMinor, 0, -1, int32(k.minor)))
		}
		block = append(block, insn(opMov64K, regRet, 0, 0, verdict), insn(opExit, 0, 0, 0, 0))
		for i := range block {
			if block[i].off == -1 {
				block[i].off = int16(len(block) - i - 1)
			}
		}
		prog = append(prog, block...)
	}
	return append(prog, insn(opMov64K, regRet, 0, 0, fallback), insn(opExit, 0, 0, 0, 0))
}

func encodeProgram(prog []bpfInsn) []byte {
	b := make([]byte, 0, 8*len(prog))
	for _, in := range prog {
		b = append(b, in.op, in.regs)
		b = binary.LittleEndian.AppendUint16(b, uint16(in.off))
		b = binary.LittleEndian.AppendUint32(b, uint32(in.imm))
	}
	return b
}

// The bpf(2) attributes berth uses (include/uapi/linux/bpf.h).
type bpfProgLoadAttr struct {
	progType    uint32
	insnCnt     uint32
	insns       uint64
	license     uint64
	logLevel    uint32
	logSize     uint32
	logBuf      uint64
	kernVersion uint32
	progFlags   uint32
	progName    [16]byte
}

type bpfAttachAttr struct {
	targetFd     uint32
	attachBpfFd  uint32
	attachType   uint32
	attachFlags  uint32
	replaceBpfFd uint32
}

type bpfQueryAttr struct {
	targetFd    uint32
	attachType  uint32
	queryFlags  uint32
	attachFlags uint32
	progIDs     uint64
	progCnt     uint32
	_           uint32
}

type bpfGetFdAttr struct {
	id        uint32
	nextID    uint32
	openFlags uint32
}

func bpfCall(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// progLoadAttempts bounds the loads of a program the verifier interrupts.
const progLoadAttempts = 5

// loadDevicesProgram loads prog and returns its fd; a verifier refusal
// carries the verifier's log.
func loadDevicesProgram(prog []bpfInsn) (int, error) {
	code := encodeProgram(prog)
	license := []byte("Apache\x00")
	logBuf := make([]byte, 64*1024)
	attr := bpfProgLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(prog)),
		insns:    uint64(uintptr(unsafe.Pointer(&code[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
		logLevel: 1,
		logSize:  uint32(len(logBuf)),
		logBuf:   uint64(uintptr(unsafe.Pointer(&logBuf[0]))),
	}
	copy(attr.progName[:], "berth_devices")
	// The verifier gives up with EAGAIN when a signal is pending (it checks
	// between instructions), and the Go runtime signals its threads (SIGURG
	// preemption, SIGCHLD of the container's processes): load again, as
	// libbpf and cilium/ebpf do. Seen in the emulated guest of make vmtest
	// once in ~50 runs, "processed 1 insns".
	var fd int
	var err error
	for attempt := 0; ; attempt++ {
		fd, err = bpfCall(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		if !errors.Is(err, unix.EAGAIN) || attempt == progLoadAttempts-1 {
			break
		}
		clear(logBuf)
	}
	runtime.KeepAlive(code)
	runtime.KeepAlive(license)
	runtime.KeepAlive(logBuf)
	if err != nil {
		if n := clen(logBuf); n > 0 {
			return -1, fmt.Errorf("load device eBPF program: %w (verifier: %s)", err, logBuf[:n])
		}
		return -1, fmt.Errorf("load device eBPF program: %w", err)
	}
	return fd, nil
}

func clen(b []byte) int {
	for i, c := range b {
		if c == 0 {
			return i
		}
	}
	return len(b)
}

// attachedDevicePrograms lists the ids of the device programs attached to
// the cgroup and the flags they were attached with.
func attachedDevicePrograms(dirFd int) ([]uint32, uint32, error) {
	ids := make([]uint32, 64)
	attr := bpfQueryAttr{
		targetFd:   uint32(dirFd),
		attachType: unix.BPF_CGROUP_DEVICE,
		progIDs:    uint64(uintptr(unsafe.Pointer(&ids[0]))),
		progCnt:    uint32(len(ids)),
	}
	_, err := bpfCall(unix.BPF_PROG_QUERY, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	runtime.KeepAlive(ids)
	if err != nil {
		return nil, 0, fmt.Errorf("query device eBPF programs: %w", err)
	}
	return ids[:attr.progCnt], attr.attachFlags, nil
}

// attachDevicesProgram attaches progFd to the cgroup directory and detaches
// what was there before, so the cgroup is never without a program: while
// both are attached a request must pass both.
func attachDevicesProgram(dir string, progFd int) error {
	dirFd, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(dirFd)
	old, flags, err := attachedDevicePrograms(dirFd)
	if err != nil {
		return err
	}
	attach := bpfAttachAttr{targetFd: uint32(dirFd), attachBpfFd: uint32(progFd), attachType: unix.BPF_CGROUP_DEVICE, attachFlags: unix.BPF_F_ALLOW_MULTI}
	if len(old) > 0 && flags&unix.BPF_F_ALLOW_MULTI == 0 {
		// Someone attached an exclusive program: attaching one in the
		// same mode replaces it atomically.
		attach.attachFlags = flags
		old = nil
	}
	if _, err := bpfCall(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attach), unsafe.Sizeof(attach)); err != nil {
		return fmt.Errorf("attach device eBPF program to %s: %w", dir, err)
	}
	for _, id := range old {
		get := bpfGetFdAttr{id: id}
		fd, err := bpfCall(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&get), unsafe.Sizeof(get))
		if err != nil {
			if errors.Is(err, unix.ENOENT) {
				continue
			}
			return fmt.Errorf("detach old device eBPF program %d: %w", id, err)
		}
		detach := bpfAttachAttr{targetFd: uint32(dirFd), attachBpfFd: uint32(fd), attachType: unix.BPF_CGROUP_DEVICE}
		_, err = bpfCall(unix.BPF_PROG_DETACH, unsafe.Pointer(&detach), unsafe.Sizeof(detach))
		unix.Close(fd)
		if err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("detach old device eBPF program %d from %s: %w", id, dir, err)
		}
	}
	return nil
}

func setDevicesV2(dir string, r *cgroups.Resources) error {
	if r.SkipDevices {
		return nil
	}
	if dir == "" {
		return errors.New("devices: no cgroup directory")
	}
	fd, err := loadDevicesProgram(devicesProgram(r.Devices))
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := attachDevicesProgram(dir, fd); err != nil {
		if errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("%w (attaching device programs needs CAP_SYS_ADMIN)", err)
		}
		return err
	}
	return nil
}
