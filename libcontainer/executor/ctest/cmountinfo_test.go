package ctest

import "testing"

// TestMountinfo: the fields the rootfs program needs, unescaped, with
// the peer group read from the optional fields only.
func TestMountinfo(t *testing.T) {
	for _, tt := range []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", "22 1 0:21 / /proc rw,nosuid shared:5 - proc proc rw\n", "/|/proc|proc|1\n", true},
		{"no optional fields", "23 1 0:22 / /sys rw - sysfs sysfs rw\n", "/|/sys|sysfs|0\n", true},
		{"master only", "24 1 0:23 / /a rw master:3 - tmpfs tmpfs rw\n", "/|/a|tmpfs|0\n", true},
		{"several optional", "25 1 0:24 /sub /b\\040c rw shared:7 master:2 - ext4 /dev/vda rw\n", "/sub|/b c|ext4|1\n", true},
		{"escapes", "26 1 0:25 / /x\\011y\\134z rw - tmpfs a rw\n", "/|/x\ty\\z|tmpfs|0\n", true},
		{"shared: in the super options is no peer group", "27 1 0:26 / /d rw - tmpfs tmpfs shared:1\n", "/|/d|tmpfs|0\n", true},
		{"no newline at the end", "28 1 0:27 / /e rw - tmpfs tmpfs rw", "/|/e|tmpfs|0\n", true},
		{"two lines", "1 0 0:1 / / rw shared:1 - ext4 /dev/vda rw\n2 1 0:2 / /run rw - tmpfs tmpfs rw\n",
			"/|/|ext4|1\n/|/run|tmpfs|0\n", true},
		{"no separator", "29 1 0:28 / /f rw shared:1 tmpfs tmpfs rw\n", "", false},
		{"truncated", "30 1 0:29 /\n", "", false},
		{"empty", "", "", true},
	} {
		got, ok := Mountinfo([]byte(tt.in))
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("%s: %q %v, want %q %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestPathUnder(t *testing.T) {
	for _, tt := range []struct {
		path, dir string
		want      bool
	}{
		{"/a/b", "/a", true}, {"/a", "/a", true}, {"/ab", "/a", false}, {"/a/b", "/", true},
		{"/", "/", true}, {"/b", "/a/b", false}, {"/a/b/c", "/a/b", true},
	} {
		if got := PathUnder(tt.path, tt.dir); got != tt.want {
			t.Errorf("path_under(%q, %q) = %v, want %v", tt.path, tt.dir, got, tt.want)
		}
	}
}
