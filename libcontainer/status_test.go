package libcontainer

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestStatus(t *testing.T) {
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Skip("skipped: cannot start sleep:", err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	waitExeced(t, cmd.Process.Pid)
	start, zombie, err := processStartTime(cmd.Process.Pid)
	if err != nil || zombie {
		t.Fatalf("processStartTime: %d %v %v", start, zombie, err)
	}
	waiting := startLikeInit(t) // runs from a memfd like berth's sealed init
	waitingStart, _, err := processStartTime(waiting.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	fifo := filepath.Join(dir, fifoName)
	tests := []struct {
		name string
		st   savedState
		fifo bool
		want string
	}{
		{"no init yet, create killed", savedState{}, false, Stopped},
		{"live init waiting on the fifo", savedState{InitPid: waiting.Process.Pid, InitStartTime: waitingStart}, true, Created},
		{"exec'd init, fifo left by a killed start", savedState{InitPid: cmd.Process.Pid, InitStartTime: start}, true, Running},
		{"live init, fifo gone", savedState{InitPid: cmd.Process.Pid, InitStartTime: start}, false, Running},
		{"recycled pid", savedState{InitPid: cmd.Process.Pid, InitStartTime: start + 1}, false, Stopped},
		{"dead pid", savedState{InitPid: 1 << 22, InitStartTime: 1}, false, Stopped},
	}
	for _, tt := range tests {
		os.Remove(fifo)
		if tt.fifo {
			os.WriteFile(fifo, nil, 0o600)
		}
		if got := tt.st.status(dir); got != tt.want {
			t.Errorf("%s: status %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestFrozen(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("FROZEN\n"), 0o600)
	if !frozen(map[string]string{"freezer": dir}) {
		t.Error("FROZEN freezer.state not seen as frozen")
	}
	os.WriteFile(filepath.Join(dir, "freezer.state"), []byte("THAWED\n"), 0o600)
	if frozen(map[string]string{"freezer": dir}) {
		t.Error("THAWED freezer.state seen as frozen")
	}
	os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("1\n"), 0o600)
	if !frozen(map[string]string{"": dir}) {
		t.Error("cgroup.freeze 1 not seen as frozen")
	}
}
