package wire

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryStepIsUsed: a step declared but reported by no C or Go code is
// an orphan (its text can drift unseen); a step's name must appear as
// STEP_X in C or wire.StepX in Go outside the generated files.
func TestEveryStepIsUsed(t *testing.T) {
	var src strings.Builder
	for _, dir := range []string{"libcontainer", "internal", "cmd", "specconv", "seccomp"} {
		walk(t, filepath.Join("..", "..", dir), &src)
	}
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`\bSTEP_[A-Z0-9_]+\b|\bwire\.Step[A-Za-z0-9]+\b`).FindAllString(src.String(), -1) {
		used[m] = true
	}
	for _, st := range Steps {
		if !used["STEP_"+strings.ToUpper(st.Name)] && !used["wire.Step"+camel(st.Name)] {
			t.Errorf("step %d %s (%q) is reported nowhere: use it or remove it", st.ID, st.Name, st.Text)
		}
	}
}

// walk appends every non-generated, non-test .c and .go file under root.
func walk(t *testing.T, root string, src *strings.Builder) {
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		base := d.Name()
		if d.IsDir() || strings.HasPrefix(base, "wire_gen.") || strings.HasSuffix(base, "_test.go") ||
			!(strings.HasSuffix(base, ".c") || strings.HasSuffix(base, ".go")) {
			return nil
		}
		b, err := os.ReadFile(path)
		src.Write(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// camel is the generator's Go name of a step (initialisms included).
func camel(name string) string {
	up := map[string]string{"id": "ID", "pid": "PID", "uid": "UID", "json": "JSON", "fs": "FS", "oom": "OOM", "nnp": "NNP"}
	var b strings.Builder
	for _, p := range strings.Split(name, "_") {
		if u, ok := up[p]; ok {
			b.WriteString(u)
		} else if p != "" {
			b.WriteString(strings.ToUpper(p[:1]) + p[1:])
		}
	}
	return b.String()
}

// TestStepTemplates: every placeholder of every step is one Render
// replaces, numbered from 0 without a gap, and the rendered text keeps no
// brace of a placeholder.
func TestStepTemplates(t *testing.T) {
	ph := regexp.MustCompile(`\{q?(\d)\}`)
	args := []string{"A0", "A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9"}
	for _, st := range Steps {
		max := -1
		for _, m := range ph.FindAllStringSubmatch(st.Text, -1) {
			max = maxInt(max, int(m[1][0]-'0'))
		}
		for i := 0; i <= max; i++ {
			if !strings.Contains(st.Text, "{"+string(rune('0'+i))+"}") && !strings.Contains(st.Text, "{q"+string(rune('0'+i))+"}") {
				t.Errorf("step %s %q: no {%d}, but {%d}", st.Name, st.Text, i, max)
			}
		}
		got := Render(&Failure{Step: st.ID, Args: args})
		if ph.MatchString(got) || strings.Contains(got, "unknown step") {
			t.Errorf("step %s renders %q", st.Name, got)
		}
	}
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}
