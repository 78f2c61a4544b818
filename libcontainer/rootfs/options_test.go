package rootfs

import (
	"reflect"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseOptions(t *testing.T) {
	const atimeClr = unix.MOUNT_ATTR__ATIME
	tests := []struct {
		name string
		in   []string
		want Options
	}{
		{"none", nil, Options{}},
		{"defaults", []string{"defaults"}, Options{}},
		{"ro", []string{"ro"}, Options{Flags: unix.MS_RDONLY}},
		{"rw", []string{"rw"}, Options{ClearFlags: unix.MS_RDONLY}},
		{"ro then rw", []string{"ro", "rw"}, Options{ClearFlags: unix.MS_RDONLY}},
		{"rw then ro", []string{"rw", "ro"}, Options{Flags: unix.MS_RDONLY}},
		{"nosuid nodev noexec", []string{"nosuid", "nodev", "noexec"},
			Options{Flags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC}},
		{"suid dev exec", []string{"suid", "dev", "exec"},
			Options{ClearFlags: unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC}},
		{"sync", []string{"sync"}, Options{Flags: unix.MS_SYNCHRONOUS}},
		{"async", []string{"async"}, Options{ClearFlags: unix.MS_SYNCHRONOUS}},
		{"dirsync", []string{"dirsync"}, Options{Flags: unix.MS_DIRSYNC}},
		{"remount", []string{"remount"}, Options{Flags: unix.MS_REMOUNT}},
		{"mand", []string{"mand"}, Options{Flags: unix.MS_MANDLOCK}},
		{"nomand", []string{"nomand"}, Options{ClearFlags: unix.MS_MANDLOCK}},
		{"noatime", []string{"noatime"}, Options{Flags: unix.MS_NOATIME}},
		{"atime", []string{"atime"}, Options{ClearFlags: unix.MS_NOATIME}},
		{"relatime", []string{"relatime"}, Options{Flags: unix.MS_RELATIME}},
		{"norelatime", []string{"norelatime"}, Options{ClearFlags: unix.MS_RELATIME}},
		{"strictatime", []string{"strictatime"}, Options{Flags: unix.MS_STRICTATIME}},
		{"nostrictatime", []string{"nostrictatime"}, Options{ClearFlags: unix.MS_STRICTATIME}},
		{"last atime mode wins", []string{"noatime", "relatime", "strictatime"},
			Options{Flags: unix.MS_STRICTATIME}},
		{"atime mode then noatime", []string{"strictatime", "noatime"}, Options{Flags: unix.MS_NOATIME}},
		{"nodiratime", []string{"nodiratime"}, Options{Flags: unix.MS_NODIRATIME}},
		{"diratime", []string{"diratime"}, Options{ClearFlags: unix.MS_NODIRATIME}},
		{"lazytime", []string{"lazytime"}, Options{Flags: unix.MS_LAZYTIME}},
		{"nolazytime", []string{"nolazytime"}, Options{ClearFlags: unix.MS_LAZYTIME}},
		{"silent", []string{"silent"}, Options{Flags: unix.MS_SILENT}},
		{"loud", []string{"loud"}, Options{ClearFlags: unix.MS_SILENT}},
		{"iversion", []string{"iversion"}, Options{Flags: unix.MS_I_VERSION}},
		{"noiversion", []string{"noiversion"}, Options{ClearFlags: unix.MS_I_VERSION}},
		{"nosymfollow", []string{"nosymfollow"}, Options{Flags: unix.MS_NOSYMFOLLOW}},
		{"symfollow", []string{"symfollow"}, Options{ClearFlags: unix.MS_NOSYMFOLLOW}},
		{"bind", []string{"bind"}, Options{Flags: unix.MS_BIND}},
		{"rbind", []string{"rbind"}, Options{Flags: unix.MS_BIND | unix.MS_REC}},
		{"rbind bind", []string{"rbind", "bind"}, Options{Flags: unix.MS_BIND | unix.MS_REC}},
		{"shared", []string{"shared"}, Options{Propagation: []uintptr{unix.MS_SHARED}}},
		{"rslave", []string{"rslave"}, Options{Propagation: []uintptr{unix.MS_SLAVE | unix.MS_REC}}},
		{"propagation in order", []string{"private", "rshared", "slave", "runbindable", "rprivate", "unbindable"},
			Options{Propagation: []uintptr{
				unix.MS_PRIVATE, unix.MS_SHARED | unix.MS_REC, unix.MS_SLAVE,
				unix.MS_UNBINDABLE | unix.MS_REC, unix.MS_PRIVATE | unix.MS_REC, unix.MS_UNBINDABLE,
			}}},
		{"rro", []string{"rro"}, Options{RecAttrSet: unix.MOUNT_ATTR_RDONLY}},
		{"rrw", []string{"rrw"}, Options{RecAttrClr: unix.MOUNT_ATTR_RDONLY}},
		{"rro then rrw", []string{"rro", "rrw"}, Options{RecAttrClr: unix.MOUNT_ATTR_RDONLY}},
		{"recursive set", []string{"rnosuid", "rnodev", "rnoexec", "rnodiratime", "rnosymfollow"},
			Options{RecAttrSet: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC |
				unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSYMFOLLOW}},
		{"recursive clear", []string{"rsuid", "rdev", "rexec", "rdiratime", "rsymfollow"},
			Options{RecAttrClr: unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC |
				unix.MOUNT_ATTR_NODIRATIME | unix.MOUNT_ATTR_NOSYMFOLLOW}},
		{"rnoatime", []string{"rnoatime"}, Options{RecAttrSet: unix.MOUNT_ATTR_NOATIME, RecAttrClr: atimeClr}},
		{"rstrictatime", []string{"rstrictatime"}, Options{RecAttrSet: unix.MOUNT_ATTR_STRICTATIME, RecAttrClr: atimeClr}},
		{"rrelatime", []string{"rrelatime"}, Options{RecAttrSet: unix.MOUNT_ATTR_RELATIME, RecAttrClr: atimeClr}},
		{"ratime", []string{"ratime"}, Options{RecAttrSet: unix.MOUNT_ATTR_RELATIME, RecAttrClr: atimeClr}},
		{"rnorelatime", []string{"rnorelatime"}, Options{RecAttrSet: unix.MOUNT_ATTR_STRICTATIME, RecAttrClr: atimeClr}},
		{"rnostrictatime", []string{"rnostrictatime"}, Options{RecAttrSet: unix.MOUNT_ATTR_RELATIME, RecAttrClr: atimeClr}},
		{"last recursive atime wins", []string{"rstrictatime", "rnoatime"},
			Options{RecAttrSet: unix.MOUNT_ATTR_NOATIME, RecAttrClr: atimeClr}},
		{"recursive atime with others", []string{"rnoatime", "rro", "rnosuid"},
			Options{RecAttrSet: unix.MOUNT_ATTR_NOATIME | unix.MOUNT_ATTR_RDONLY | unix.MOUNT_ATTR_NOSUID, RecAttrClr: atimeClr}},
		{"data", []string{"mode=755", "size=65536k"}, Options{Data: "mode=755,size=65536k"}},
		{"data mixed with flags keeps order", []string{"nosuid", "newinstance", "noexec", "ptmxmode=0666", "mode=0620", "gid=5"},
			Options{Flags: unix.MS_NOSUID | unix.MS_NOEXEC, Data: "newinstance,ptmxmode=0666,mode=0620,gid=5"}},
		{"unknown words are data", []string{"context=\"system_u:object_r:container_file_t:s0\"", "xino=off"},
			Options{Data: "context=\"system_u:object_r:container_file_t:s0\",xino=off"}},
		{"tmpcopyup", []string{"tmpcopyup", "mode=1777"}, Options{TmpCopyUp: true, Data: "mode=1777"}},
		{"typical bind", []string{"rbind", "ro", "rprivate", "rnoexec", "nosuid"},
			Options{
				Flags:       unix.MS_BIND | unix.MS_REC | unix.MS_RDONLY | unix.MS_NOSUID,
				Propagation: []uintptr{unix.MS_PRIVATE | unix.MS_REC},
				RecAttrSet:  unix.MOUNT_ATTR_NOEXEC,
			}},
		{"typical cgroup", []string{"nosuid", "noexec", "nodev", "relatime", "ro"},
			Options{Flags: unix.MS_NOSUID | unix.MS_NOEXEC | unix.MS_NODEV | unix.MS_RELATIME | unix.MS_RDONLY}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseOptions(tc.in)
			if err != nil {
				t.Fatalf("ParseOptions(%q): %v", tc.in, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseOptions(%q)\n got  %+v\n want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseOptionsRefused(t *testing.T) {
	for _, in := range [][]string{{"idmap"}, {"rbind", "ridmap"}, {"ro", "idmap", "rw"}} {
		_, err := ParseOptions(in)
		if err == nil {
			t.Errorf("ParseOptions(%q): no error", in)
			continue
		}
		if !strings.Contains(err.Error(), "idmap") || !strings.Contains(err.Error(), "not supported") {
			t.Errorf("ParseOptions(%q): unclear error %q", in, err)
		}
	}
}

func TestEveryOCIOptionIsKnown(t *testing.T) {
	// The option names of config.md; none of them may end up in the data
	// string, where the kernel would reject or misread it.
	oci := []string{
		"async", "atime", "bind", "defaults", "dev", "diratime", "dirsync", "exec",
		"iversion", "lazytime", "loud", "mand", "noatime", "nodev", "nodiratime", "noexec",
		"noiversion", "nolazytime", "nomand", "norelatime", "nostrictatime", "nosuid",
		"nosymfollow", "private", "ratime", "rbind", "rdev", "rdiratime", "relatime",
		"remount", "rexec", "rnoatime", "rnodiratime", "rnoexec", "rnodev", "rnorelatime",
		"rnostrictatime", "rnosuid", "rnosymfollow", "ro", "rprivate", "rrelatime", "rro",
		"rrw", "rshared", "rslave", "rstrictatime", "rsuid", "rsymfollow", "runbindable",
		"rw", "shared", "silent", "slave", "strictatime", "suid", "symfollow", "sync",
		"tmpcopyup", "unbindable",
	}
	for _, o := range oci {
		got, err := ParseOptions([]string{o})
		if err != nil {
			t.Errorf("%q: %v", o, err)
		} else if got.Data != "" {
			t.Errorf("%q ended up in the data string", o)
		}
	}
}
