package clients

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// The CRI suite pulls nothing: its two images are built here from files
// on the host and imported into containerd as docker-archive tarballs.

// pauseSource is the sandbox's init. It holds the pod's namespaces; in a
// pod that shares its pid namespace it is pid 1 there, so it must reap the
// orphans the containers leave, and it must exit on SIGINT or SIGTERM,
// which a pid 1 does not do without a handler.
const pauseSource = `#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) { (void)sig; _exit(0); }

static void reap(int sig) {
	int saved = errno;
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

int main(void) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = quit;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = reap;
	sa.sa_flags = SA_NOCLDSTOP | SA_RESTART;
	sigaction(SIGCHLD, &sa, NULL);
	for (;;)
		pause();
}
`

// pauseRootfs compiles the pause program, static, as /pause of a new root
// filesystem in dir.
func pauseRootfs(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(filepath.Dir(dir), "pause.c")
	if err := os.WriteFile(src, []byte(pauseSource), 0o644); err != nil {
		t.Fatal(err)
	}
	mustSucceed(t, runCmd(t, nil, "gcc", "-static", "-O2", "-Wall", "-Werror", "-o", filepath.Join(dir, "pause"), src))
}

// image is what goes into a docker-archive: a name, one layer made of a
// directory, and the image config's entrypoint and command.
type image struct {
	ref        string
	rootfs     string
	entrypoint []string
	cmd        []string
}

// writeArchive writes img as a docker-archive (what `docker save` writes:
// manifest.json, the image config, the layer as a plain tar) to path.
func writeArchive(img image, path string) error {
	layer, err := tarDir(img.rootfs)
	if err != nil {
		return fmt.Errorf("layer of %s: %w", img.rootfs, err)
	}
	diffID := sha256.Sum256(layer)
	config, err := json.Marshal(map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"config": map[string]any{
			"Env":        []string{"PATH=/bin:/usr/bin:/sbin:/usr/sbin"},
			"Entrypoint": img.entrypoint,
			"Cmd":        img.cmd,
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + hex.EncodeToString(diffID[:])}},
	})
	if err != nil {
		return err
	}
	configSum := sha256.Sum256(config)
	configName := hex.EncodeToString(configSum[:]) + ".json"
	layerName := hex.EncodeToString(diffID[:]) + "/layer.tar"
	manifest, err := json.Marshal([]map[string]any{{"Config": configName, "RepoTags": []string{img.ref}, "Layers": []string{layerName}}})
	if err != nil {
		return err
	}
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	for _, f := range []struct {
		name string
		data []byte
	}{{configName, config}, {layerName, layer}, {"manifest.json", manifest}} {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o644, Size: int64(len(f.data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(f.data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}

// tarDir returns a tar of the tree below dir (directories, regular files
// and symlinks), owned by root, as an image layer holds it.
func tarDir(dir string) ([]byte, error) {
	var out bytes.Buffer
	tw := tar.NewWriter(&out)
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		hdr.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "root", "root"
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// importImage writes img as an archive in the world and imports it into
// containerd's k8s.io namespace, the one its CRI serves.
func (c *cri) importImage(t *testing.T, img image) {
	t.Helper()
	archive := c.w.path(filepath.Base(img.rootfs) + ".tar")
	if err := writeArchive(img, archive); err != nil {
		t.Fatalf("image %s: %v", img.ref, err)
	}
	mustSucceed(t, runCmd(t, nil, "ctr", "--address", c.sock, "--namespace", "k8s.io", "images", "import", archive))
}
