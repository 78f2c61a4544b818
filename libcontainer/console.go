package libcontainer

import (
	"fmt"
	"net"
	"os"
)

// consoleConn is the socket the pty master goes over: conn when the caller
// has one (a terminal proxy), else a connection to the --console-socket path.
func consoleConn(path string, conn *os.File) (*os.File, error) {
	if conn != nil {
		return conn, nil
	}
	return dialConsoleSocket(path)
}

// dialConsoleSocket connects to --console-socket; the init sends the pty
// master over it (the contract containerd and conmon use).
func dialConsoleSocket(path string) (*os.File, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--console-socket %q: %w", path, err)
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return nil, fmt.Errorf("--console-socket %q: not a unix socket", path)
	}
	conn, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("--console-socket %q: %w", path, err)
	}
	defer conn.Close()
	f, err := conn.File() // a dup, blocking, that the init inherits
	if err != nil {
		return nil, fmt.Errorf("--console-socket %q: %w", path, err)
	}
	return f, nil
}
