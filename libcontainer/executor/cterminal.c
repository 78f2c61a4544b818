// process.terminal in the C init: the container's pty (cproc.h). The pty
// comes from the devpts the container sees at /dev/ptmx; its peer is
// opened through the master (TIOCGPTPEER), not by a path a mount could
// redirect. The master leaves over the console fd the parent passed (the
// --console-socket connection, or the socket of berth's own proxy) with
// SCM_RIGHTS, as containerd and conmon expect.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/mount.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "cproc.h"
#include "nsexec.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

// open_peer opens the pty's other end: through the master where the
// kernel can (4.13+), else by its number under /dev/pts.
static int open_peer(int master)
{
	int fd = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0 || (errno != EINVAL && errno != ENOTTY))
		return fd;
	unsigned int n;
	char name[64];
	if (ioctl(master, TIOCGPTN, &n) < 0)
		berth_step(STEP_PTY_NUMBER, errno, NULL);
	snprintf(name, sizeof(name), "/dev/pts/%u", n);
	return open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
}

static void send_master(int sock, int master)
{
	char data[] = "/dev/ptmx";
	struct iovec iov = { data, sizeof(data) - 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	memset(u.buf, 0, sizeof(u.buf));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &master, sizeof(int));
	if (sendmsg(sock, &msg, 0) < 0)
		berth_step(STEP_CONSOLE_SOCKET_SEND, errno, NULL);
}

// bind_console binds the peer on /dev/console, as runc does for a
// container with a terminal. /dev/console is made if absent and must not
// be a symlink (an image's link to /proc/sys/kernel/core_pattern would
// otherwise get the pty mounted on its target: CVE-2025-52565); /dev must
// be a directory of the container's own, not procfs. A /dev that cannot
// hold the file (read-only) is left alone: the console is then only the
// process's stdio. The mount is a clone of the peer's own (open_tree), so
// it needs no /proc.
static void bind_console(int peer)
{
	struct open_how how = {
		.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	struct stat st, root;
	struct statfs sf;

	int rootfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0 || fstat(rootfd, &root) < 0)
		berth_step(STEP_CONSOLE_OPEN_ROOT, errno, NULL);
	int dev = syscall(SYS_openat2, rootfd, "dev", &how, sizeof(how));
	close(rootfd);
	if (dev < 0)
		return; /* no /dev directory: nothing to bind on */
	if (fstat(dev, &st) < 0)
		berth_step(STEP_CONSOLE_STAT_DEV, errno, NULL);
	if (st.st_dev == root.st_dev && st.st_ino == root.st_ino)
		berth_step(STEP_CONSOLE_DEV_IS_ROOT, 0, NULL);
	if (fstatfs(dev, &sf) < 0)
		berth_step(STEP_CONSOLE_STATFS_DEV, errno, NULL);
	if (sf.f_type == PROC_SUPER_MAGIC)
		berth_step(STEP_CONSOLE_DEV_PROCFS, 0, "/dev", NULL);
	int fd = openat(dev, "console", O_CREAT | O_EXCL | O_NOFOLLOW | O_RDONLY | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	else if (errno == EROFS) {
		close(dev);
		return;
	} else if (errno != EEXIST)
		berth_step(STEP_CONSOLE_CREATE, errno, "/dev/console", NULL);
	int dst = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (dst < 0)
		berth_step(STEP_CONSOLE_OPEN, errno, "/dev/console", NULL);
	if (fstat(dst, &st) < 0)
		berth_step(STEP_CONSOLE_STAT, errno, "/dev/console", NULL);
	if (S_ISLNK(st.st_mode))
		berth_step(STEP_CONSOLE_SYMLINK, 0, "/dev/console", NULL);
	int tree = syscall(SYS_open_tree, peer, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
	if (tree < 0)
		berth_step(STEP_CONSOLE_OPEN_TREE, errno, NULL);
	if (syscall(SYS_move_mount, tree, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
		berth_step(STEP_CONSOLE_BIND, errno, NULL);
	close(tree);
	close(dst);
	close(dev);
}

void cterm_setup(const struct proc_console *c, uint32_t uid, int bind)
{
	struct termios t;

	if (!c->has)
		return;
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		berth_step(STEP_PTY_OPEN_PTMX, errno, NULL);
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		berth_step(STEP_PTY_UNLOCK, errno, NULL);
	int peer = open_peer(master);
	if (peer < 0)
		berth_step(STEP_PTY_OPEN_PEER, errno, NULL);
	// The owner only: the group stays the one devpts gave (gid=5, tty, in
	// the usual mount options) with its mode, 0620, so that write(1) and
	// wall work as on any host; runc changes the uid alone too.
	if (fchown(peer, uid, -1) < 0)
		berth_step(STEP_PTY_CHOWN, errno, NULL);
	if (c->proxied) {
		if (tcgetattr(peer, &t) < 0)
			berth_step(STEP_PTY_GET_ATTRS, errno, NULL);
		t.c_oflag &= ~ONLCR;
		if (tcsetattr(peer, TCSANOW, &t) < 0)
			berth_step(STEP_PTY_CLEAR_ONLCR, errno, NULL);
	}
	if (c->rows != 0 || c->cols != 0) {
		struct winsize ws = { .ws_row = c->rows, .ws_col = c->cols };
		if (ioctl(master, TIOCSWINSZ, &ws) < 0)
			berth_step(STEP_CONSOLE_SIZE, errno, NULL);
	}
	if (bind)
		bind_console(peer);
	send_master(c->fd, master);
	close(c->fd);
	close(master);
	// nsexec.c made this process a session leader already; only a
	// process that is not gets a session of its own.
	if (getsid(0) != getpid() && setsid() < 0)
		berth_step(STEP_PTY_SETSID, errno, NULL);
	if (ioctl(peer, TIOCSCTTY, 0) < 0)
		berth_step(STEP_PTY_SET_CTTY, errno, NULL);
	for (int fd = 0; fd < 3; fd++)
		if (dup3(peer, fd, 0) < 0) {
			int err = errno; /* before BERTH_I formats */
			berth_step(STEP_PTY_DUP, err, BERTH_I(fd), NULL);
		}
	if (peer > 2)
		close(peer);
}
