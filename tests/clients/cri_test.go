package clients

import (
	"os/exec"
	"testing"
)

func TestCRI(t *testing.T) {
	c := startCRI(t)
	t.Cleanup(func() {
		exec.Command("sh", "-c", "rm -rf /tmp/cri-debug; mkdir -p /tmp/cri-debug; cp "+c.w.path("containerd.log")+" /tmp/cri-debug/; for f in "+c.w.path("state/io.containerd.runtime.v2.task/k8s.io/*/log.json")+"; do cp $f /tmp/cri-debug/$(basename $(dirname $f)).json; done").Run()
	})
	t.Run("lifecycle", func(t *testing.T) {
		p := c.runPod(t, "life", false)
		id := c.run(t, p, ctrSpec{name: "sleeper", command: []string{"sleep", "1000"}})
		pid := c.runningPid(t, id)
		t.Logf("pid %d pod %+v", pid, c.inspectPod(t, p.id))
		t.Logf("%v", c.crictl(t, "exec", "-s", id, "sh", "-c", "echo out; echo err >&2; exit 3"))
		t.Logf("%v", c.crictl(t, "exec", "-s", id, "sh", "-c", "echo out; echo err >&2; cat /proc/1/cmdline"))
		t.Logf("%v", c.crictl(t, "stats", "-o", "json", id))
		t.Logf("%v", c.crictl(t, "inspect", id))
	})
	c.checkClean(t)
}
