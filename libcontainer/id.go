package libcontainer

import (
	"fmt"
	"regexp"
)

// maxIDLen bounds ids so a state path can never exceed PATH_MAX.
const maxIDLen = 1024

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)

// ValidateID checks a container id before any file is touched: the pattern
// allows no '/', and the first character rules out "." and "..", so an id can
// never name anything outside the state root.
func ValidateID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("container id is empty")
	case len(id) > maxIDLen:
		return fmt.Errorf("container id is %d bytes long (at most %d)", len(id), maxIDLen)
	case !idPattern.MatchString(id):
		return fmt.Errorf("container id %q is invalid: use letters, digits, '_', '.' and '-', starting with a letter or digit", id)
	}
	return nil
}
