package integration

import (
	"os"
	"strings"
	"testing"

	"github.com/berthrun/berth/internal/testbundle"
	"github.com/berthrun/berth/libcontainer"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestRunSeesItselfAsPid1(t *testing.T) {
	e := newEnv(t)
	out, code := e.run("pid1", testbundle.Spec("sh", "-c", "echo $$; hostname; exit 7"))
	if code != 7 {
		t.Errorf("exit code %d, want 7", code)
	}
	if got := strings.Fields(out); len(got) != 2 || got[0] != "1" || got[1] != "berth" {
		t.Errorf("output %q, want pid 1 and hostname berth", out)
	}
}

func TestLifecycle(t *testing.T) {
	e := newEnv(t)
	cfg := e.config("life", testbundle.Spec("sleep", "100"))
	c, err := e.rt.Create(cfg, libcontainer.CreateOpts{})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	c.Unlock()
	pid := c.Pid()
	expectStatus(t, e.rt, "life", libcontainer.Created)
	paths := cgroupDirs(t, pid)

	c, err = e.rt.LoadLocked("life")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatalf("start: %v", err)
	}
	if err := c.Start(); err == nil {
		t.Error("second start succeeded, want an error")
	}
	expectStatus(t, e.rt, "life", libcontainer.Running)
	if err := c.Delete(false); err == nil {
		t.Error("delete of a running container without force succeeded")
	}
	if err := c.Signal(unix.SIGKILL, false); err != nil {
		t.Fatalf("kill: %v", err)
	}
	waitStatus(t, e.rt, "life", libcontainer.Stopped)
	if err := c.Delete(false); err != nil {
		t.Fatalf("delete: %v", err)
	}
	c.Unlock()
	if _, err := e.rt.Load("life"); err == nil {
		t.Error("container still loads after delete")
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("cgroup %s still exists after delete", p)
		}
	}
}

func TestFailingCreateRuntimeHookLeavesNothing(t *testing.T) {
	e := newEnv(t)
	spec := testbundle.Spec("true")
	spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "exit 3"}}}}
	_, err := e.rt.Create(e.config("hookfail", spec), libcontainer.CreateOpts{})
	if err == nil || !strings.Contains(err.Error(), "hooks.createRuntime[0]") {
		t.Fatalf("create error %v, want one naming hooks.createRuntime[0]", err)
	}
	if _, err := e.rt.Load("hookfail"); err == nil {
		t.Error("state of the failed container remains")
	}
}

func TestJoinNetworkNamespace(t *testing.T) {
	e := newEnv(t)
	a, err := e.rt.Create(e.config("owner", testbundle.Spec("sleep", "100")), libcontainer.CreateOpts{})
	if err != nil {
		t.Fatal(err)
	}
	a.Unlock()
	t.Cleanup(func() { forceDelete(e.rt, "owner") })
	spec := testbundle.Spec("readlink", "/proc/self/ns/net")
	for i, ns := range spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			spec.Linux.Namespaces[i].Path = "/proc/" + pidStr(a.Pid()) + "/ns/net"
		}
	}
	out, code := e.run("joiner", spec)
	if code != 0 || strings.TrimSpace(out) != nsInode(a.Pid(), "net") {
		t.Errorf("joined net ns %q (exit %d), want %q", out, code, nsInode(a.Pid(), "net"))
	}
}
