package libcontainer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/berthrun/berth/internal/buildid"
	"github.com/berthrun/berth/internal/wire"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// state.brief is a companion of state.json for the C fast path
// (libcontainer/executor/fastpath.c), which answers `berth state` and
// `berth list` before the Go runtime starts. It holds what that code needs,
// with the JSON and table text already rendered here, so that C never parses
// JSON. Format (wire.Brief in internal/wire/schema.go):
//
//	berth-brief <version> <schema hash> <build id>\n
//	then, in exactly the order of wire.BriefFields, one record per field:
//	<name> <length>\n<length bytes of value>\n
//
// The header stamps the brief with the schema (wire.SchemaHash) and the
// binary (its GNU build id, internal/buildid) that wrote it: C trusts only
// a brief its own build wrote, since it runs the "execplan" record with
// its own C init and prints the templates as its own output. A brief of
// another build is left to Go (which reads state.json, never the brief)
// until the next save rewrites it. Without a build id no brief is written.
//
// Values are raw bytes (the templates span lines). The templates "state" and
// "json" are the output of `berth state` and one element of `list -f json`
// with two slots: byte 0x01 for the pid and 0x02 for the status. JSON text
// never holds a raw control byte, so the slots cannot be confused with data.
// The records "faststart", "fastdelete" and "cgroups" are for
// executor/fastops.c, which answers plain `start` and `delete` (brief_ops.go);
// "execboot" and "execplan" (binary) for executor/fastexec.c, which runs a
// plain `exec` (brief_exec.go).
//
// The brief is only trusted while "statejson" (inode, size, mtime of the
// state.json it was made from) matches state.json and "uid" matches the
// owner of the container's directory; anything else sends C back to Go. No
// brief is written while the init pid is unknown (creating) or when a table
// cell could not be rendered the way text/tabwriter does.
const (
	briefFile  = "state.brief"
	pidSlot    = "\x01"
	statusSlot = "\x02"
)

// briefHeader is the brief's first line, without its newline; "" when this
// binary has no build id.
func briefHeader() string {
	id := buildid.Get()
	if id == "" {
		return ""
	}
	return fmt.Sprintf("berth-brief %d %s %s", wire.BriefVersion, wire.SchemaHash, id)
}

// ownerCache keeps user-name lookups for the life of this process: a
// create saves its state more than once.
var ownerCache = struct {
	sync.Mutex
	names map[uint32]string
}{names: map[uint32]string{}}

// writeBrief writes state.brief beside a freshly saved state.json. It is
// best effort: a missing or stale brief only makes state and list take the
// Go path.
func (s stateStore) writeBrief(st *savedState) {
	dir := s.dir(st.ID)
	b, ok := renderBrief(s, st)
	if !ok {
		return
	}
	tmp, err := os.CreateTemp(dir, ".brief-*")
	if err != nil {
		return
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(dir, briefFile))
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
}

// renderBrief builds the brief of st, or reports false when the fast path
// must not answer for this container.
func renderBrief(s stateStore, st *savedState) ([]byte, bool) {
	header := briefHeader()
	if st.InitPid <= 0 || header == "" || !briefable(st) {
		return nil, false
	}
	dir := s.dir(st.ID)
	var js, ds unix.Stat_t
	if unix.Stat(filepath.Join(dir, stateFile), &js) != nil || unix.Stat(dir, &ds) != nil {
		return nil, false
	}
	owner := ownerName(s, st, ds.Uid)
	if !tableSafe(st.Config.Bundle) || !tableSafe(owner) {
		return nil, false
	}
	freezer, prefix := freezerFile(st.CgroupPaths)
	stateTpl, ok1 := stateTemplate(st, "", true)
	jsonTpl, ok2 := stateTemplate(st, owner, false)
	if !ok1 || !ok2 {
		return nil, false
	}
	execBoot, execPlan := execRecords(st)
	values := []string{
		st.ID, strconv.Itoa(st.InitPid), strconv.FormatUint(st.InitStartTime, 10), st.InitExe,
		fmt.Sprintf("%d %d %d %d", js.Ino, js.Size, js.Mtim.Sec, js.Mtim.Nsec),
		strconv.FormatUint(uint64(ds.Uid), 10), freezer, prefix,
		st.Config.Bundle, strconv.Itoa(utf8.RuneCountInString(st.Config.Bundle)),
		st.Created.Format(time.RFC3339Nano),
		owner, strconv.Itoa(utf8.RuneCountInString(owner)), stateTpl, jsonTpl,
		flagRecord(fastStartable(st)), flagRecord(fastDeletable(st)), cgroupDirs(st),
		execBoot, execPlan,
	}
	var b bytes.Buffer
	b.WriteString(header + "\n")
	for i, name := range wire.BriefFields {
		fmt.Fprintf(&b, "%s %d\n%s\n", name, len(values[i]), values[i])
	}
	return b.Bytes(), true
}

// briefable repeats what decodeState would refuse after a round trip
// through state.json, and refuses strings that json.Marshal would rewrite
// (invalid UTF-8): the brief must say exactly what Go would print after
// loading the file.
func briefable(st *savedState) bool {
	c := st.Config
	if ValidateID(st.ID) != nil || c == nil || c.Spec == nil || c.Spec.Process == nil || c.Spec.Linux == nil {
		return false
	}
	for _, p := range st.CgroupPaths {
		if !filepath.IsAbs(p) || filepath.Clean(p) != p {
			return false
		}
	}
	if !utf8.ValidString(c.Bundle) || !utf8.ValidString(c.Rootfs) {
		return false
	}
	for k, v := range c.Spec.Annotations {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return false
		}
	}
	return true
}

// tableSafe refuses what text/tabwriter would treat specially (cell and
// line ends, its escape byte 0xff, which valid UTF-8 never holds): C pads
// cells by their rune count only.
func tableSafe(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsAny(s, "\t\n\v\f")
}

// ownerName is the owner column of `list`, as Container.owner gives it.
func ownerName(s stateStore, st *savedState, uid uint32) string {
	ownerCache.Lock()
	defer ownerCache.Unlock()
	if name, ok := ownerCache.names[uid]; ok {
		return name
	}
	name := (&Container{rt: &Runtime{Root: s.root}, st: st}).owner()
	ownerCache.names[uid] = name
	return name
}

// freezerFile names the file and the prefix that mean "frozen", as frozen()
// reads them; empty when the container has no freezer.
func freezerFile(paths map[string]string) (file, prefix string) {
	if p, ok := paths["freezer"]; ok {
		return filepath.Join(p, "freezer.state"), "FROZEN"
	}
	if p, ok := paths[""]; ok {
		return filepath.Join(p, "cgroup.freeze"), "1"
	}
	return "", ""
}

// stateTemplate renders the StateSpec that Container.State gives (indented
// and newline-terminated as `berth state` prints it, or compact as one
// element of `list -f json`) with the pid and status replaced by slots.
func stateTemplate(st *savedState, owner string, indent bool) (string, bool) {
	spec := &StateSpec{
		OCIVersion: specs.Version, ID: st.ID, Bundle: st.Config.Bundle, Rootfs: st.Config.Rootfs,
		Created: st.Created, Owner: owner, Annotations: st.Config.Spec.Annotations,
	}
	var b []byte
	var err error
	marker, slotted := `,"pid":0,"status":"",`, `,"pid":`+pidSlot+`,"status":"`+statusSlot+`",`
	if indent {
		b, err = json.MarshalIndent(spec, "", "  ")
		marker = "\n  \"pid\": 0,\n  \"status\": \"\",\n"
		slotted = "\n  \"pid\": " + pidSlot + ",\n  \"status\": \"" + statusSlot + "\",\n"
		b = append(b, '\n')
	} else {
		b, err = json.Marshal(spec)
	}
	// The first match is the field: the marker holds a quote not preceded
	// by a backslash (or a raw newline), which no JSON string value can.
	i := bytes.Index(b, []byte(marker))
	if err != nil || i < 0 {
		return "", false
	}
	return string(b[:i]) + slotted + string(b[i+len(marker):]), true
}
