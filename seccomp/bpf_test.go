package seccomp

import (
	"testing"

	"golang.org/x/sys/unix"
)

// call is one struct seccomp_data: what a compiled program is run on.
type call struct {
	arch uint32
	nr   int32
	args [6]uint64
}

// word reads the 32-bit word at off, as the kernel lays seccomp_data out
// on a little-endian machine: nr, arch, ip (64-bit), then six 64-bit args.
func (c call) word(t *testing.T, off uint32) uint32 {
	switch {
	case off == 0:
		return uint32(c.nr)
	case off == 4:
		return c.arch
	case off == 8 || off == 12:
		return 0 // ip
	case off >= 16 && off < 64 && off%4 == 0:
		a := c.args[(off-16)/8]
		if off%8 == 0 {
			return uint32(a)
		}
		return uint32(a >> 32)
	}
	t.Fatalf("load of seccomp_data offset %d", off)
	return 0
}

// runBPF interprets a classic BPF seccomp program on c and returns the
// action word, so tests can check what a compiled filter decides without
// installing it. It knows the instructions libseccomp and the ENOSYS stub
// emit and fails the test on any other.
func runBPF(t *testing.T, prog []unix.SockFilter, c call) uint32 {
	t.Helper()
	var a, x uint32
	var mem [16]uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			a = c.word(t, in.K)
		case unix.BPF_LD | unix.BPF_IMM:
			a = in.K
		case unix.BPF_LD | unix.BPF_MEM:
			a = mem[in.K]
		case unix.BPF_LDX | unix.BPF_IMM:
			x = in.K
		case unix.BPF_LDX | unix.BPF_MEM:
			x = mem[in.K]
		case unix.BPF_ST:
			mem[in.K] = a
		case unix.BPF_STX:
			mem[in.K] = x
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			a &= in.K
		case unix.BPF_MISC | unix.BPF_TAX:
			x = a
		case unix.BPF_MISC | unix.BPF_TXA:
			a = x
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K:
			pc += branch(in, a == in.K)
		case unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K:
			pc += branch(in, a > in.K)
		case unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K:
			pc += branch(in, a >= in.K)
		case unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			pc += branch(in, a&in.K != 0)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_X:
			pc += branch(in, a == x)
		case unix.BPF_JMP | unix.BPF_JGT | unix.BPF_X:
			pc += branch(in, a > x)
		case unix.BPF_JMP | unix.BPF_JGE | unix.BPF_X:
			pc += branch(in, a >= x)
		case unix.BPF_RET | unix.BPF_K:
			return in.K
		case unix.BPF_RET | unix.BPF_A:
			return a
		default:
			t.Fatalf("pc %d: opcode %#x not interpreted", pc, in.Code)
		}
	}
	t.Fatal("program ran off its end")
	return 0
}

func branch(in unix.SockFilter, taken bool) int {
	if taken {
		return int(in.Jt)
	}
	return int(in.Jf)
}
