package rootfs

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// Options is a spec mount's option list sorted into what mount(2),
// mount_setattr(2) and the filesystem each need.
type Options struct {
	// Flags are the MS_* flags to pass to mount(2).
	Flags uintptr
	// ClearFlags are MS_* flags the options explicitly turned off ("rw",
	// "suid", "atime", ...). They matter when a bind mount is remounted:
	// a flag neither set nor cleared is inherited from the source mount.
	ClearFlags uintptr
	// Propagation holds the propagation changes (MS_SHARED, MS_SLAVE|MS_REC,
	// ...) to apply, in order, once the mount exists.
	Propagation []uintptr
	// RecAttrSet and RecAttrClr are the MOUNT_ATTR_* bits to set and clear
	// on the whole mount tree with mount_setattr(AT_RECURSIVE) ("rro", ...).
	RecAttrSet uint64
	RecAttrClr uint64
	// Data is everything else, comma-joined in order: the filesystem's own
	// options ("mode=755", "size=64m", "newinstance", ...).
	Data string
	// TmpCopyUp asks for the destination's existing content to be copied
	// into a freshly mounted tmpfs.
	TmpCopyUp bool
}

// flagOption is one entry of the mount(2) flag table: the option either
// sets or clears flag.
type flagOption struct {
	clear bool
	flag  uintptr
}

// atimeFlags are the MS_* flags that together choose one atime mode; the
// kernel would silently combine them, so the last option given wins.
const atimeFlags = unix.MS_NOATIME | unix.MS_RELATIME | unix.MS_STRICTATIME

var flagOptions = map[string]flagOption{
	"defaults":      {false, 0},
	"ro":            {false, unix.MS_RDONLY},
	"rw":            {true, unix.MS_RDONLY},
	"nosuid":        {false, unix.MS_NOSUID},
	"suid":          {true, unix.MS_NOSUID},
	"nodev":         {false, unix.MS_NODEV},
	"dev":           {true, unix.MS_NODEV},
	"noexec":        {false, unix.MS_NOEXEC},
	"exec":          {true, unix.MS_NOEXEC},
	"sync":          {false, unix.MS_SYNCHRONOUS},
	"async":         {true, unix.MS_SYNCHRONOUS},
	"dirsync":       {false, unix.MS_DIRSYNC},
	"remount":       {false, unix.MS_REMOUNT},
	"mand":          {false, unix.MS_MANDLOCK},
	"nomand":        {true, unix.MS_MANDLOCK},
	"noatime":       {false, unix.MS_NOATIME},
	"atime":         {true, unix.MS_NOATIME},
	"nodiratime":    {false, unix.MS_NODIRATIME},
	"diratime":      {true, unix.MS_NODIRATIME},
	"relatime":      {false, unix.MS_RELATIME},
	"norelatime":    {true, unix.MS_RELATIME},
	"strictatime":   {false, unix.MS_STRICTATIME},
	"nostrictatime": {true, unix.MS_STRICTATIME},
	"lazytime":      {false, unix.MS_LAZYTIME},
	"nolazytime":    {true, unix.MS_LAZYTIME},
	"bind":          {false, unix.MS_BIND},
	"rbind":         {false, unix.MS_BIND | unix.MS_REC},
	"silent":        {false, unix.MS_SILENT},
	"loud":          {true, unix.MS_SILENT},
	"iversion":      {false, unix.MS_I_VERSION},
	"noiversion":    {true, unix.MS_I_VERSION},
	"nosymfollow":   {false, unix.MS_NOSYMFOLLOW},
	"symfollow":     {true, unix.MS_NOSYMFOLLOW},
}

var propagationOptions = map[string]uintptr{
	"shared":      unix.MS_SHARED,
	"rshared":     unix.MS_SHARED | unix.MS_REC,
	"slave":       unix.MS_SLAVE,
	"rslave":      unix.MS_SLAVE | unix.MS_REC,
	"private":     unix.MS_PRIVATE,
	"rprivate":    unix.MS_PRIVATE | unix.MS_REC,
	"unbindable":  unix.MS_UNBINDABLE,
	"runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// recAttrOption is one entry of the recursive attribute table. atime marks
// the options that pick the atime mode, which mount_setattr(2) only accepts
// as "clear the whole MOUNT_ATTR__ATIME field, set one mode".
type recAttrOption struct {
	clear bool
	attr  uint64
	atime bool
}

var recAttrOptions = map[string]recAttrOption{
	"rro":          {false, unix.MOUNT_ATTR_RDONLY, false},
	"rrw":          {true, unix.MOUNT_ATTR_RDONLY, false},
	"rnosuid":      {false, unix.MOUNT_ATTR_NOSUID, false},
	"rsuid":        {true, unix.MOUNT_ATTR_NOSUID, false},
	"rnodev":       {false, unix.MOUNT_ATTR_NODEV, false},
	"rdev":         {true, unix.MOUNT_ATTR_NODEV, false},
	"rnoexec":      {false, unix.MOUNT_ATTR_NOEXEC, false},
	"rexec":        {true, unix.MOUNT_ATTR_NOEXEC, false},
	"rnodiratime":  {false, unix.MOUNT_ATTR_NODIRATIME, false},
	"rdiratime":    {true, unix.MOUNT_ATTR_NODIRATIME, false},
	"rnosymfollow": {false, unix.MOUNT_ATTR_NOSYMFOLLOW, false},
	"rsymfollow":   {true, unix.MOUNT_ATTR_NOSYMFOLLOW, false},
	// The atime modes. "Turning off" noatime or strictatime falls back to
	// the kernel default, relatime; turning off relatime means strictatime.
	"rnoatime":       {false, unix.MOUNT_ATTR_NOATIME, true},
	"ratime":         {false, unix.MOUNT_ATTR_RELATIME, true},
	"rrelatime":      {false, unix.MOUNT_ATTR_RELATIME, true},
	"rnorelatime":    {false, unix.MOUNT_ATTR_STRICTATIME, true},
	"rstrictatime":   {false, unix.MOUNT_ATTR_STRICTATIME, true},
	"rnostrictatime": {false, unix.MOUNT_ATTR_RELATIME, true},
}

// refusedOptions are valid OCI options this runtime does not implement yet;
// refusing them is better than silently mounting something else.
var refusedOptions = map[string]string{
	"idmap":  "idmapped mounts are not supported yet",
	"ridmap": "idmapped mounts are not supported yet",
}

// ParseOptions sorts a spec mount's options. Flag options that contradict
// each other resolve to the last one given, as mount(8) does.
func ParseOptions(opts []string) (Options, error) {
	var o Options
	var data []string
	atimeSeen := false
	var atimeMode uint64
	for _, opt := range opts {
		if why, ok := refusedOptions[opt]; ok {
			return Options{}, fmt.Errorf("mount option %q: %s", opt, why)
		}
		if f, ok := flagOptions[opt]; ok {
			o.applyFlag(f)
			continue
		}
		if p, ok := propagationOptions[opt]; ok {
			o.Propagation = append(o.Propagation, p)
			continue
		}
		if r, ok := recAttrOptions[opt]; ok {
			if r.atime {
				atimeSeen, atimeMode = true, r.attr
				continue
			}
			o.applyRecAttr(r)
			continue
		}
		if opt == "tmpcopyup" {
			o.TmpCopyUp = true
			continue
		}
		data = append(data, opt)
	}
	if atimeSeen {
		o.RecAttrClr |= unix.MOUNT_ATTR__ATIME
		o.RecAttrSet |= atimeMode
	}
	o.Data = strings.Join(data, ",")
	return o, nil
}

func (o *Options) applyFlag(f flagOption) {
	if f.clear {
		o.Flags &^= f.flag
		o.ClearFlags |= f.flag
		return
	}
	if f.flag&atimeFlags != 0 {
		// A new atime mode replaces the previous one.
		o.Flags &^= atimeFlags
	}
	o.Flags |= f.flag
	o.ClearFlags &^= f.flag
}

func (o *Options) applyRecAttr(r recAttrOption) {
	if r.clear {
		o.RecAttrSet &^= r.attr
		o.RecAttrClr |= r.attr
		return
	}
	o.RecAttrSet |= r.attr
	o.RecAttrClr &^= r.attr
}

// hasRecAttrs reports whether mount_setattr(2) has work to do.
func (o *Options) hasRecAttrs() bool {
	return o.RecAttrSet != 0 || o.RecAttrClr != 0
}
