// sdnotify sends its argument as one datagram to $NOTIFY_SOCKET, as
// sd_notify(3) does. The tests build it statically and copy it into a
// container's rootfs: busybox has no way to send a unix datagram.
package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: sdnotify MESSAGE")
		os.Exit(2)
	}
	path := os.Getenv("NOTIFY_SOCKET")
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sdnotify:", err)
		os.Exit(1)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(os.Args[1])); err != nil {
		fmt.Fprintln(os.Stderr, "sdnotify:", err)
		os.Exit(1)
	}
}
