package rootfs

import "testing"

func TestSameNamespace(t *testing.T) {
	if same, err := sameNamespace("/proc/self/ns/mnt", "/proc/thread-self/ns/mnt"); err != nil || !same {
		t.Errorf("a namespace differs from itself: %v %v", same, err)
	}
	if same, err := sameNamespace("/proc/self/ns/mnt", "/proc/self/ns/uts"); err != nil || same {
		t.Errorf("mnt and uts namespaces are the same: %v %v", same, err)
	}
}
