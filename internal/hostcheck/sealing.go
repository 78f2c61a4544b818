package hostcheck

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/berthrun/berth/libcontainer/seal"
	"golang.org/x/sys/unix"
)

// checkOverlaySealing opens berth's binary through the lower-only overlay
// the container's init runs it from (package seal) and checks that it
// cannot be opened for writing.
func checkOverlaySealing() Check {
	c := Check{Name: "overlayfs-sealing",
		Berth: "runs the container's init from its binary seen through a lower-only overlay (no copy)"}
	if err := tryWrite(seal.Overlay, unix.EROFS); err != nil {
		c.Host = err.Error() + "; berth falls back to a sealed memfd copy"
		return c
	}
	c.OK, c.Host = true, "a lower-only overlay of berth's directory works, writes refused (EROFS)"
	return c
}

// checkMemfdSealing makes the sealed memfd copy of berth that the init
// runs where the overlay cannot be made, and checks that a write is refused.
func checkMemfdSealing() Check {
	c := Check{Name: "memfd-sealing", Required: true,
		Berth: "falls back to a sealed memfd copy of itself for the init"}
	if err := tryWrite(seal.Memfd, unix.EPERM); err != nil {
		c.Host = err.Error()
		return c
	}
	c.OK, c.Host = true, "memfd seals hold (write refused once sealed)"
	return c
}

// tryWrite seals berth's binary with open and writes through the handle,
// which must fail with want.
func tryWrite(open func(string) (*os.File, error), want error) error {
	f, err := open("/proc/self/exe")
	if err != nil {
		return err
	}
	defer f.Close()
	w, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(f.Fd())), os.O_WRONLY, 0)
	if err == nil {
		// Never the real binary: a memfd copy, and the overlay refuses the
		// open itself.
		_, err = w.WriteAt([]byte{0}, 0)
		w.Close()
	}
	if !errors.Is(err, want) {
		return fmt.Errorf("writing through the sealed binary gave %v, want %v", err, want)
	}
	return nil
}
