package specconv

import "fmt"

// fieldError is a problem with one field of config.json. It prints as a
// single line: the JSON path of the field, its value when there is one, and
// what is wrong with it, e.g.
//
//	linux.namespaces[3].path "/proc/1/ns/xyz": no such file
//
// Callers only see it as an error: the message is the contract.
type fieldError struct {
	field string // JSON path: process.rlimits[2].type, linux.sysctl["net.x"]
	value any    // the offending value; nil when the field has none to show
	msg   string
}

func (e *fieldError) Error() string {
	switch v := e.value.(type) {
	case nil:
		return e.field + ": " + e.msg
	case string:
		return fmt.Sprintf("%s %q: %s", e.field, v, e.msg)
	default:
		return fmt.Sprintf("%s %v: %s", e.field, v, e.msg)
	}
}

// badValue reports that field holds value and what is wrong with it.
func badValue(field string, value any, format string, args ...any) error {
	return &fieldError{field: field, value: value, msg: fmt.Sprintf(format, args...)}
}

// badField reports a problem with field as a whole (missing, or the value is
// a structure that does not print well).
func badField(field string, format string, args ...any) error {
	return &fieldError{field: field, msg: fmt.Sprintf(format, args...)}
}

// at formats an indexed JSON path such as mounts[3] or mounts[3].source.
func at(list string, i int, sub ...string) string {
	s := fmt.Sprintf("%s[%d]", list, i)
	for _, part := range sub {
		s += "." + part
	}
	return s
}
