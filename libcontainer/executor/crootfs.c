// The container's root filesystem built in C (docs/design-c-init.md, stage 2).
//
// For a config the parent can compile (libcontainer/rootfs/cprogram.go
// decides and encodes), the process plan carries a rootfs program: records executed in
// order by the container's pid 1, in its own mount namespace, with no Go
// runtime started. The program is the Go rootfs package's steps with every
// decision already taken (options parsed, flags computed, devices listed,
// paths cleaned); what is left here is the part that must look at the
// filesystem, done the way package rootfs does it:
//
//   - every path inside the container is resolved from an O_PATH handle of
//     the root with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), so a
//     symlink in the image cannot lead a mount out of the root;
//   - mount(2) is given /proc/self/fd/N of the resolved handle, never a
//     path, after /proc was checked to be a real procfs not overmounted;
//   - a destination that resolves to the root or into a procfs is refused;
//   - flags a bind cannot set are applied by a bind remount that carries
//     over the flags the options do not mention (locked flags stay).
//
// The records and their layouts are declared in internal/wire/schema.go
// (generated into wire_gen.h); wire.c reads and checks them.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ccopyup.h"
#include "chooks.h"
#include "cmountinfo.h"
#include "nsexec.h"
#include "trace.h"
#include "syncmsg.h"
#include "wire.h"

#ifndef STATX_ATTR_MOUNT_ROOT
#define STATX_ATTR_MOUNT_ROOT 0x00002000
#endif
#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

// The MS_* flags a bind remount changes on one mount (rootfs/remount.go).
#define ATIME_FLAGS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)
#define PER_MOUNT_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NODIRATIME | \
			 MS_NOSYMFOLLOW | ATIME_FLAGS)

// The state of the build: the root and the last mount made.
struct build {
	int root;           // O_PATH handle of the container root
	char link[PATH_MAX]; // the kernel's name of root for this process
	const char *root_path;
	int proc_ok;        // /proc/self/fd checked
	int last_dst;       // the directory the last mount covered
	int last_mnt;       // that mount's root, once looked up
	int cg_top;         // the cgroup tmpfs being filled
	int procfs;         // a fresh procfs for sysctls
	int mask_first;     // the directory the mask tmpfs was mounted on
	int mask_shared;    // that tmpfs, once looked up
};

static char ctx[1024] = "rootfs";

// rstep reports step (STEP_*) with its string arguments (ending with
// NULL) and errno err (0: none) as a record whose ctx is this program's
// current ctx ("mounts[3] destination \"/dev\""), and exits.
static void __attribute__((noreturn, sentinel)) rstep(uint32_t step, int err, ...)
{
	va_list ap;

	va_start(ap, err);
	berth_vstep(ctx, step, err, ap);
}

static void fd_path(char *buf, size_t size, int fd)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

// copy_path copies a path into a PATH_MAX buffer, refusing one that does
// not fit as the kernel would (ENAMETOOLONG), never truncating it.
static void copy_path(char *dst, const char *src)
{
	if (snprintf(dst, PATH_MAX, "%s", src) >= PATH_MAX) {
		errno = ENAMETOOLONG;
		rstep(STEP_RF_PATH_CUT, errno, berth_trunc((char[81]){ 0 }, src), NULL);
	}
}

// open_in_root resolves path inside the root (final symlink followed,
// inside the root) and returns an O_PATH handle, or -1 with errno.
static int open_in_root(struct build *b, const char *path)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	for (int i = 0; i < 32; i++) {
		int fd = syscall(SYS_openat2, b->root, path, &how, sizeof(how));
		if (fd >= 0 || (errno != EAGAIN && errno != EINTR))
			return fd;
	}
	errno = EAGAIN;
	return -1;
}

static mode_t type_of(int fd)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		rstep(STEP_RF_STAT_NODE, errno, NULL);
	return st.st_mode & S_IFMT;
}

// is_link reports whether name in dir is a symlink. mkdir_all walks a
// path canonical() spelled without symlinks; one there now was put there
// meanwhile, and is refused rather than followed.
static int is_link(int dir, const char *name)
{
	struct stat st;
	return fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
}

// canonical spells path the way it resolves inside the root, following
// symlinks (dangling ones too, as runc does) without ever leaving it:
// rootfs/tree.go's canonical (securejoin.SecureJoin), so that a destination
// through a dangling symlink is made at the link's target in the root by
// either builder. ".." is lexical and stops at the root. The answer is
// only a spelling: the caller resolves and creates it in the root again.
static void canonical(struct build *b, const char *path, char *out)
{
	struct open_how how = {
		.flags = O_PATH | O_NOFOLLOW | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	char rest[PATH_MAX], next[PATH_MAX], target[PATH_MAX];
	size_t len = 0;
	int links = 0;

	copy_path(rest, path);
	out[0] = '\0'; /* "" is the root */
	for (char *p = rest; *p;) {
		if (*p == '/') {
			p++;
			continue;
		}
		char *end = strchrnul(p, '/');
		size_t n = end - p;
		if (n == 1 && p[0] == '.') {
			p = end;
			continue;
		}
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = strrchr(out, '/');
			if (slash)
				*slash = '\0';
			len = strlen(out);
			p = end;
			continue;
		}
		if (len + 1 + n >= PATH_MAX) {
			errno = ENAMETOOLONG;
			rstep(STEP_RF_PATH_CUT, errno, berth_trunc((char[81]){ 0 }, path), NULL);
		}
		out[len] = '/';
		memcpy(out + len + 1, p, n);
		out[len + 1 + n] = '\0';
		p = end;
		int fd = -1;
		for (int i = 0; i < 32; i++) {
			fd = syscall(SYS_openat2, b->root, out, &how, sizeof(how));
			if (fd >= 0 || (errno != EAGAIN && errno != EINTR))
				break;
		}
		if (fd < 0 && errno != ENOENT && errno != ENOTDIR)
			rstep(STEP_RF_RESOLVE_ROOT, errno, out, NULL);
		if (fd < 0 || type_of(fd) != S_IFLNK) {
			// Missing (made later) or not a link: the spelling stands.
			if (fd >= 0)
				close(fd);
			len += 1 + n;
			continue;
		}
		// A link on procfs may be a magic link, whose text is no path in
		// the root: refused as open_in_root refuses following one.
		struct statfs sf;
		if (fstatfs(fd, &sf) < 0 || sf.f_type == PROC_SUPER_MAGIC) {
			errno = ELOOP;
			rstep(STEP_RF_RESOLVE_ROOT, errno, out, NULL);
		}
		ssize_t l = readlinkat(fd, "", target, sizeof(target));
		close(fd);
		if (l < 0)
			rstep(STEP_RF_READLINK, errno, out, NULL);
		if (++links > 255 || l == sizeof(target)) {
			errno = l == sizeof(target) ? ENAMETOOLONG : ELOOP;
			rstep(STEP_RF_RESOLVE_ROOT, errno, path, NULL);
		}
		target[l] = '\0';
		out[len] = '\0'; /* the link's name gives way to its target */
		if (target[0] == '/')
			out[0] = '\0', len = 0;
		if (snprintf(next, sizeof(next), "%s/%s", target, p) >= (int)sizeof(next)) {
			errno = ENAMETOOLONG;
			rstep(STEP_RF_RESOLVE_ROOT, errno, path, NULL);
		}
		memcpy(rest, next, sizeof(rest));
		p = rest;
	}
	if (!out[0])
		strcpy(out, "/");
}

// open_dir_step opens the prefix of path ending at end, creating its last
// component in parent if it is missing. The prefix is resolved from the
// root again, so a symlink on the way stays inside it.
static int open_dir_step(struct build *b, char *path, char *end, int parent)
{
	char saved = *end;
	*end = '\0';
	int fd = open_in_root(b, path);
	if (fd < 0 && errno == ENOENT && parent >= 0) {
		const char *name = strrchr(path, '/') + 1;
		if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
			rstep(STEP_MKDIR, errno, path, NULL);
		fd = open_in_root(b, path);
		if (fd < 0 && errno == ENOENT && is_link(parent, name))
			rstep(STEP_RF_WAS_REPLACED_BY_DANGLING, 0, path, NULL);
	}
	if (fd < 0)
		rstep(STEP_RF_OPEN_IN_ROOT, errno, path, NULL);
	if (type_of(fd) != S_IFDIR) {
		errno = ENOTDIR;
		rstep(STEP_RF_PATH, errno, path, NULL);
	}
	*end = saved;
	return fd;
}

// mkdir_all returns a handle of the directory path in the root, creating
// it and its parents as needed. path is absolute and clean.
static int mkdir_all(struct build *b, const char *path)
{
	int fd = open_in_root(b, path);
	if (fd >= 0 && type_of(fd) == S_IFDIR)
		return fd;
	if (fd >= 0) {
		errno = ENOTDIR;
		rstep(STEP_RF_PATH, errno, path, NULL);
	}
	char buf[PATH_MAX];
	canonical(b, path, buf);
	int parent = dup(b->root);
	if (parent < 0)
		rstep(STEP_RF_DUP, errno, NULL);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		int next = open_dir_step(b, buf, p, parent);
		close(parent);
		parent = next;
		if (*p == '\0')
			return parent;
	}
}

// make_parent makes the directory that holds path (in the root) and
// returns its fd, with *name set to path's last component.
static int make_parent(struct build *b, const char *path, const char **name)
{
	char dir[PATH_MAX];
	copy_path(dir, path);
	char *slash = strrchr(dir, '/');
	*name = path + (slash - dir) + 1;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	return mkdir_all(b, dir);
}

// mkfile returns a handle of path in the root, creating an empty regular
// file (and its parent directories) if nothing is there.
static int mkfile(struct build *b, const char *path)
{
	int fd = open_in_root(b, path);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT)
		rstep(STEP_RF_OPEN_IN_ROOT, errno, path, NULL);
	// Created where the path leads in the root, through a dangling
	// symlink too (tree.go's mkfile).
	char canon[PATH_MAX];
	const char *name;
	canonical(b, path, canon);
	if (strcmp(canon, "/") == 0)
		rstep(STEP_RF_CANNOT_CREATE_FILE_AT, 0, NULL);
	int d = make_parent(b, canon, &name);
	fd = openat(d, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDONLY | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	else if (errno != EEXIST)
		rstep(STEP_RF_CREATE, errno, canon, NULL);
	fd = openat(d, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	close(d);
	if (fd < 0)
		rstep(STEP_OPEN, errno, canon, NULL);
	if (type_of(fd) == S_IFLNK)
		rstep(STEP_RF_WAS_REPLACED_BY_SYMLINK, 0, canon, NULL);
	return fd;
}

// check_procfs makes sure /proc/self/fd is a real procfs with nothing
// mounted over any part of it, before its magic links name mount targets.
static void check_procfs(struct build *b)
{
	struct statfs sf;
	struct statx proc, fds;

	if (b->proc_ok)
		return;
	if (statfs("/proc/self/fd", &sf) < 0)
		rstep(STEP_RF_PROC_SELF_FD, errno, NULL);
	if (sf.f_type != PROC_SUPER_MAGIC)
		rstep(STEP_RF_PROC_SELF_FD_NOT, 0, BERTH_X((unsigned long)sf.f_type), NULL);
	if (statx(AT_FDCWD, "/proc", AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &proc) < 0 ||
	    statx(AT_FDCWD, "/proc/self/fd", AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &fds) < 0)
		rstep(STEP_RF_STATX_PROC, errno, NULL);
	if (proc.stx_mnt_id != fds.stx_mnt_id || !(proc.stx_attributes & STATX_ATTR_MOUNT_ROOT))
		rstep(STEP_RF_PROC_SELF_FD_OVERMOUNTED, 0, NULL);
	b->proc_ok = 1;
}

// read_link returns the kernel's name of fd, which must be a path.
static void read_link(int fd, char *out, size_t size)
{
	char p[64];
	fd_path(p, sizeof(p), fd);
	ssize_t n = readlink(p, out, size - 1);
	if (n < 0)
		rstep(STEP_RF_READLINK, errno, p, NULL);
	out[n] = '\0';
	if (out[0] != '/')
		rstep(STEP_RF_HAS_NO_PATH, 0, p, out, NULL);
}

// in_root_path turns fd's kernel name into its path inside the root.
static void in_root_path(struct build *b, int fd, char *out, size_t size)
{
	char full[PATH_MAX];
	size_t l = strlen(b->link);

	check_procfs(b);
	read_link(fd, full, sizeof(full));
	if (strcmp(b->link, "/") == 0) {
		snprintf(out, size, "%s", full);
		return;
	}
	if (strncmp(full, b->link, l) != 0 || (full[l] != '/' && full[l] != '\0'))
		rstep(STEP_RF_OUTSIDE_ROOT, 0, full, b->link, NULL);
	snprintf(out, size, "%s", full[l] ? full + l : "/");
}

static void mount_id(int fd, uint64_t *id, int *is_root)
{
	struct statx stx;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
		rstep(STEP_RF_STATX, errno, NULL);
	if (!(stx.stx_mask & STATX_MNT_ID) || !(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT))
		rstep(STEP_RF_KERNEL_REPORTS_NO_MOUNT, 0, NULL);
	*id = stx.stx_mnt_id;
	*is_root = !!(stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

// reopen_mount returns a handle of the mount just made on covered (which
// still names the directory under it), checking it is a new mount's root.
static int reopen_mount(struct build *b, int covered)
{
	char path[PATH_MAX];
	uint64_t old_id, new_id;
	int root_old, root_new;

	in_root_path(b, covered, path, sizeof(path));
	int h = open_in_root(b, path);
	if (h < 0)
		rstep(STEP_RF_FIND_NEW_MOUNT, errno, path, NULL);
	mount_id(covered, &old_id, &root_old);
	mount_id(h, &new_id, &root_new);
	if (new_id == old_id || !root_new)
		rstep(STEP_RF_FIND_NEW_MOUNT_NOT, 0, path, NULL);
	return h;
}

static unsigned long statfs_flags(unsigned long st)
{
	static const struct { unsigned long st, ms; } map[] = {
		{ ST_RDONLY, MS_RDONLY }, { ST_NOSUID, MS_NOSUID }, { ST_NODEV, MS_NODEV },
		{ ST_NOEXEC, MS_NOEXEC }, { ST_NOATIME, MS_NOATIME },
		{ ST_NODIRATIME, MS_NODIRATIME }, { ST_RELATIME, MS_RELATIME },
		{ 0x2000 /* ST_NOSYMFOLLOW */, MS_NOSYMFOLLOW },
	};
	unsigned long ms = 0;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (st & map[i].st)
			ms |= map[i].ms;
	if (!(ms & (MS_NOATIME | MS_RELATIME)))
		ms |= MS_STRICTATIME;
	return ms;
}

static unsigned long flags_of(int fd)
{
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0)
		rstep(STEP_RF_STATFS, errno, NULL);
	return statfs_flags(sf.f_flags);
}

// remount_flags: MS_REMOUNT replaces every per-mount flag, so the ones the
// options do not mention are carried over from have.
static unsigned long remount_flags(unsigned long have, unsigned long set, unsigned long clr)
{
	unsigned long mentioned = set | clr;
	if (mentioned & ATIME_FLAGS)
		mentioned |= ATIME_FLAGS;
	return (set & PER_MOUNT_FLAGS) | (have & PER_MOUNT_FLAGS & ~mentioned);
}

static int needs_remount(unsigned long have, unsigned long set, unsigned long clr)
{
	return remount_flags(have, set, clr) != (have & PER_MOUNT_FLAGS);
}

// A spec bind's own flags, as rootfs/remount.go sets them (its comments say
// why): options naming any flag make the mount's flags exactly theirs (the
// atime mode kept when they name none); a source whose lockable flags
// cannot be dropped keeps them.
#define LOCKABLE_FLAGS (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NODIRATIME | ATIME_FLAGS)
#define ATIME_ALL (ATIME_FLAGS | MS_NODIRATIME)

static int names_bind_flags(unsigned long set, unsigned long clr)
{
	return (set & ~(unsigned long)(MS_BIND | MS_REC | MS_REMOUNT)) != 0 || clr != 0;
}

static unsigned long bind_flags(unsigned long have, unsigned long set)
{
	unsigned long want = set & PER_MOUNT_FLAGS;
	if (!(want & ATIME_ALL))
		want |= have & ATIME_ALL;
	else if (!(want & ATIME_FLAGS))
		want |= MS_RELATIME; /* nodiratime alone: the kernel's default mode */
	return want;
}

// flag_names spells flags as remount.go's flagNames does, for errors.
static const char *flag_names(unsigned long flags)
{
	static const struct { unsigned long f; const char *name; } names[] = {
		{ MS_RDONLY, "ro" }, { MS_NOSUID, "nosuid" }, { MS_NODEV, "nodev" },
		{ MS_NOEXEC, "noexec" }, { MS_NOATIME, "noatime" }, { MS_RELATIME, "relatime" },
		{ MS_STRICTATIME, "strictatime" }, { MS_NODIRATIME, "nodiratime" },
		{ MS_NOSYMFOLLOW, "nosymfollow" },
	};
	static char buf[128];
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(flags & names[i].f))
			continue;
		if (buf[0])
			strcat(buf, ",");
		strcat(buf, names[i].name);
	}
	return buf[0] ? buf : "rw";
}

// locked_bind_flags: bind_flags keeping have's lockable flags. *why is
// empty when the options can be met that way, else says why not.
static unsigned long locked_bind_flags(unsigned long have, unsigned long set, unsigned long clr,
				       char *why, size_t size)
{
	why[0] = '\0';
	if (have & clr & LOCKABLE_FLAGS)
		snprintf(why, size, "cannot clear locked flags %s", flag_names(have & clr & LOCKABLE_FLAGS));
	else if ((set & ATIME_ALL) && (set & ATIME_ALL) != (have & ATIME_ALL))
		snprintf(why, size, "cannot change locked atime flags %s", flag_names(have & ATIME_ALL));
	return bind_flags(have, set) | (have & LOCKABLE_FLAGS);
}

// set_bind_flags is remount.go's setBindFlags: remount the new bind mnt
// to flags, and if the kernel refuses (locked flags), keep the source's
// lockable flags.
static void set_bind_flags(int mnt, unsigned long have, unsigned long set, unsigned long clr,
			   unsigned long flags, int locked)
{
	char p[64];
	char why[128], want[128];

	fd_path(p, sizeof(p), mnt);
	if (mount("", p, NULL, MS_REMOUNT | MS_BIND | flags, NULL) == 0)
		return;
	snprintf(want, sizeof(want), "%s", flag_names(flags));
	if (errno != EPERM || locked)
		rstep(STEP_RF_REMOUNT, errno, want, NULL);
	unsigned long kept = locked_bind_flags(have, set, clr, why, sizeof(why));
	if (why[0]) {
		errno = EPERM;
		rstep(STEP_RF_REMOUNT_WHY, errno, why, want, NULL);
	}
	if (mount("", p, NULL, MS_REMOUNT | MS_BIND | kept, NULL) < 0)
		rstep(STEP_RF_REMOUNT_LOCKED_FLAGS_KEPT, errno, flag_names(kept), NULL);
}

static void bind_remount(int mnt, unsigned long set, unsigned long clr)
{
	char p[64];
	fd_path(p, sizeof(p), mnt);
	unsigned long flags = MS_REMOUNT | MS_BIND | remount_flags(flags_of(mnt), set, clr);
	if (mount("", p, NULL, flags, NULL) < 0)
		rstep(STEP_RF_REMOUNT, errno, BERTH_X(flags), NULL);
}

static int same_file(int a, int b)
{
	struct stat sa, sb;
	if (fstat(a, &sa) < 0 || fstat(b, &sb) < 0)
		return 0;
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

// proc_overmountable are the only procfs files a spec mount may cover
// (rootfs/procdest.go): the ones lxcfs and its kind virtualise. Covering
// anything else in the container's /proc (attr/, sys/, self/...) can
// disable what is written there later (CVE-2019-16884, CVE-2019-19921).
static int proc_overmountable(const char *path)
{
	static const char *const ok[] = {
		"/proc/cpuinfo", "/proc/diskstats", "/proc/loadavg", "/proc/meminfo",
		"/proc/slabinfo", "/proc/stat", "/proc/swaps", "/proc/uptime",
		"/proc/pressure/cpu", "/proc/pressure/io", "/proc/pressure/memory",
		"/proc/sys/kernel/ns_last_pid",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(path, ok[i]) == 0)
			return 1;
	return 0;
}

// check_destination refuses a destination that resolved to the root or
// into a procfs, but for the files proc_overmountable lists. The path is
// the kernel's name of the resolved handle, so a symlink cannot dress up
// /proc/self/attr as /proc/cpuinfo.
static void check_destination(struct build *b, int dst)
{
	struct statfs sf;
	if (same_file(dst, b->root))
		rstep(STEP_RF_RESOLVES_CONTAINER_ROOT, 0, NULL);
	if (fstatfs(dst, &sf) < 0)
		rstep(STEP_RF_STATFS_DESTINATION, errno, NULL);
	if (sf.f_type == PROC_SUPER_MAGIC) {
		char path[PATH_MAX];
		in_root_path(b, dst, path, sizeof(path));
		if (!proc_overmountable(path))
			rstep(STEP_RF_REFUSING_MOUNT_OVER_PROCFS, 0, path, NULL);
	}
}

// set_last records the directory the latest mount covered.
static void set_last(struct build *b, int dst)
{
	close_fd(&b->last_dst);
	close_fd(&b->last_mnt);
	b->last_dst = dst;
}

static int last_mount(struct build *b)
{
	if (b->last_mnt < 0) {
		if (b->last_dst < 0)
			rstep(STEP_RF_ROOTFS_PROGRAM_NO_MOUNT, 0, NULL);
		b->last_mnt = reopen_mount(b, b->last_dst);
	}
	return b->last_mnt;
}

// ordinary_dir returns a handle of the directory path, made if missing,
// whose last component is no symlink (rootfs.needsOrdinaryDir says which
// filesystems need one, and why). The parents resolve in the root as for any
// destination; the last component is opened with O_NOFOLLOW, so what was
// checked is what gets mounted on.
static int ordinary_dir(struct build *b, const char *path, const char *fstype)
{
	const char *name;
	int parent = make_parent(b, path, &name);
	int fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST)
			rstep(STEP_MKDIR, errno, path, NULL);
		fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	}
	close(parent);
	if (fd < 0)
		rstep(STEP_OPEN, errno, path, NULL);
	mode_t type = type_of(fd);
	if (type != S_IFDIR)
		rstep(STEP_ORDINARY_DIR, 0, fstype, path, type == S_IFLNK ? "a symlink" : "not a directory", NULL);
	return fd;
}

// tmpfs_dir returns the directory a tmpfs goes on and writes its options
// to out (rootfs/mount.go's tmpfsDir): on a directory the image has, the
// tmpfs takes that directory's mode, which a "mode=" in data overrides.
static int tmpfs_dir(struct build *b, const char *dest, const char *data, char *out, size_t size)
{
	struct stat st;
	int fd = open_in_root(b, dest);
	snprintf(out, size, "%s", data);
	if (fd >= 0) {
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (snprintf(out, size, "mode=%04o%s%s", (unsigned)(st.st_mode & 07777),
				     *data ? "," : "", data) >= (int)size) {
				errno = E2BIG;
				rstep(STEP_RF_TMPFS_OPTIONS, errno, NULL);
			}
			return fd;
		}
		close(fd);
	}
	return mkdir_all(b, dest);
}

static void do_fs(struct build *b, struct wire_rec *r, int ordinary)
{
	unsigned long flags = wire_u64(r);
	const char *dest = wire_str(r), *source = wire_str(r);
	const char *fstype = wire_str(r), *data = wire_str(r);
	char p[64], opts[4096];
	int dst;

	if (ordinary)
		dst = ordinary_dir(b, dest, fstype);
	else if (strcmp(fstype, "tmpfs") == 0)
		dst = tmpfs_dir(b, dest, data, opts, sizeof(opts)), data = opts;
	else
		dst = mkdir_all(b, dest);
	check_destination(b, dst);
	check_procfs(b);
	fd_path(p, sizeof(p), dst);
	if (mount(source, p, fstype, flags, *data ? data : NULL) < 0)
		rstep(STEP_MOUNT_FS, errno, fstype, NULL);
	set_last(b, dst);
}

// do_bind binds a source onto dest; in_root: the source is a path inside
// the rootfs, the image's to shape, resolved in the root like a destination.
static void do_bind(struct build *b, struct wire_rec *r, int in_root)
{
	unsigned long flags = wire_u64(r), set = wire_u64(r), clr = wire_u64(r);
	const char *dest = wire_str(r), *source = wire_str(r);
	uint32_t slot = wire_u32(r);
	char sp[64], dp[64];

	// A source the host opened (slot, rootfs/hostsource.go) is a detached
	// clone, attached with move_mount; any other is opened here.
	if (slot > (uint32_t)berth_nhostsrc)
		rstep(STEP_NO_HOSTSRC, errno, source, BERTH_U(slot), NULL);
	int src;
	if (in_root) {
		src = open_in_root(b, source);
		if (src < 0)
			rstep(STEP_RF_OPEN_SOURCE_IN_ROOTFS, errno, source, NULL);
	} else {
		src = slot ? fcntl(berth_hostsrc[slot - 1], F_DUPFD_CLOEXEC, 3) : open(source, O_PATH | O_CLOEXEC);
		if (src < 0)
			rstep(STEP_OPEN_SOURCE, errno, source, NULL);
	}
	int dst = type_of(src) == S_IFDIR ? mkdir_all(b, dest) : mkfile(b, dest);
	check_destination(b, dst);
	check_procfs(b);
	fd_path(sp, sizeof(sp), src);
	fd_path(dp, sizeof(dp), dst);
	if (slot) {
		if (syscall(SYS_move_mount, src, "", dst, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
			rstep(STEP_HOSTSRC_MOVE, errno, source, NULL);
	} else if (mount(sp, dp, NULL, flags & (MS_BIND | MS_REC), NULL) < 0)
		rstep(STEP_BIND, errno, source, NULL);
	unsigned long have = flags_of(src);
	close(src);
	set_last(b, dst);
	if (!names_bind_flags(set, clr))
		return;
	// A source the host opened is treated as locked (remount.go's
	// setBindFlags says why).
	char why[128] = "";
	int locked = slot != 0;
	unsigned long want = locked ? locked_bind_flags(have, set, clr, why, sizeof(why)) : bind_flags(have, set);
	if (why[0])
		rstep(STEP_RF_PATH, 0, why, NULL);
	if (want != (have & PER_MOUNT_FLAGS))
		set_bind_flags(last_mount(b), have, set, clr, want, locked);
}

// set_last_mount records a mount whose root is mnt (not a directory it
// covers): what follows changes mnt itself.
static void set_last_mount(struct build *b, int mnt)
{
	set_last(b, -1);
	b->last_mnt = mnt;
}

// do_remount changes an existing mount at dest (the "remount" option,
// rootfs/mount.go's remountExisting): a bind remount carries over the
// per-mount flags the options do not mention; a filesystem remount gets
// the flags and data as given.
static __attribute__((noinline)) void do_remount(struct build *b, struct wire_rec *r)
{
	unsigned long flags = wire_u64(r), set = wire_u64(r), clr = wire_u64(r);
	const char *dest = wire_str(r), *source = wire_str(r);
	const char *fstype = wire_str(r), *data = wire_str(r);
	char p[64];

	int dst = open_in_root(b, dest);
	if (dst < 0)
		rstep(STEP_RF_OPENAT2_ROOT, errno, dest, NULL);
	check_procfs(b);
	if (flags & MS_BIND)
		flags = MS_REMOUNT | MS_BIND | remount_flags(flags_of(dst), set, clr);
	fd_path(p, sizeof(p), dst);
	if (mount(source, p, *fstype ? fstype : NULL, flags, *data ? data : NULL) < 0)
		rstep(STEP_RF_REMOUNT_EXISTING, errno, NULL);
	set_last_mount(b, dst);
}

// do_copyup mounts a tmpfs on dest and copies what dest held into it
// (rootfs/tmpcopyup.go; ccopyup.c copies), writable while it copies; the
// per-mount flags of the options are applied after the copy.
static __attribute__((noinline)) void do_copyup(struct build *b, struct wire_rec *r)
{
	unsigned long flags = wire_u64(r), set = wire_u64(r), clr = wire_u64(r);
	const char *dest = wire_str(r), *source = wire_str(r);
	const char *fstype = wire_str(r), *data = wire_str(r);
	char p[64], opts[4096];
	struct copyup_err e = { "" };

	int dst = tmpfs_dir(b, dest, data, opts, sizeof(opts));
	check_destination(b, dst);
	check_procfs(b);
	fd_path(p, sizeof(p), dst);
	// A readable handle of the directory about to be covered.
	int old = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (old < 0)
		rstep(STEP_RF_COPYUP_OPEN_OLD, errno, NULL);
	if (mount(source, p, fstype, flags, *opts ? opts : NULL) < 0)
		rstep(STEP_MOUNT_FS, errno, fstype, NULL);
	set_last(b, dst);
	int mnt = last_mount(b);
	fd_path(p, sizeof(p), mnt);
	int dir = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		rstep(STEP_RF_COPYUP_OPEN_TMPFS, errno, NULL);
	if (copyup_tree(old, dir, &e) < 0)
		rstep(STEP_RF_COPYUP, errno, e.what, NULL);
	close(dir);
	close(old);
	if (set & PER_MOUNT_FLAGS)
		bind_remount(mnt, set, clr);
}

static void do_mnt_prop(struct build *b, struct wire_rec *r)
{
	unsigned long flag = wire_u64(r);
	char p[64];
	fd_path(p, sizeof(p), last_mount(b));
	if (mount("", p, NULL, flag, NULL) < 0)
		rstep(STEP_RF_SET_PROPAGATION, errno, BERTH_X(flag), NULL);
}

static void do_mnt_attr(struct build *b, struct wire_rec *r)
{
	struct mount_attr attr = { .attr_set = wire_u64(r), .attr_clr = wire_u64(r) };
	if (mount_setattr(last_mount(b), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof(attr)) < 0)
		rstep(STEP_RF_MOUNT_SETATTR_RECURSIVE_ATTRIBUTES, errno, NULL);
}

static void do_cg_tmpfs(struct build *b, struct wire_rec *r)
{
	unsigned long flags = wire_u64(r);
	const char *dest = wire_str(r);
	char p[64];

	int dst = mkdir_all(b, dest);
	check_destination(b, dst);
	check_procfs(b);
	fd_path(p, sizeof(p), dst);
	if (mount("tmpfs", p, "tmpfs", flags, "mode=755") < 0)
		rstep(STEP_RF_MOUNT_TMPFS, errno, NULL);
	set_last(b, dst);
	close_fd(&b->cg_top);
	b->cg_top = reopen_mount(b, dst);
}

// cg_dir makes the directory of one hierarchy in the cgroup tmpfs, which
// nothing else can see yet.
static int cg_dir(struct build *b, const char *name)
{
	if (*name == '\0' || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
		rstep(STEP_RF_CGROUP_INVALID_HIERARCHY_NAME, 0, name, NULL);
	if (b->cg_top < 0)
		rstep(STEP_RF_ROOTFS_PROGRAM_NO_CGROUP, 0, NULL);
	if (mkdirat(b->cg_top, name, 0755) < 0)
		rstep(STEP_RF_CGROUP_MKDIR, errno, name, NULL);
	int fd = openat(b->cg_top, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		rstep(STEP_RF_CGROUP_OPEN, errno, name, NULL);
	return fd;
}

static void do_cg_bind(struct build *b, struct wire_rec *r)
{
	unsigned long set = wire_u64(r), clr = wire_u64(r);
	const char *name = wire_str(r), *host = wire_str(r);
	char sp[64], dp[64];

	int dst = cg_dir(b, name);
	int src = open(host, O_PATH | O_CLOEXEC);
	if (src < 0)
		rstep(STEP_RF_CGROUP_OPEN_SOURCE, errno, name, host, NULL);
	fd_path(sp, sizeof(sp), src);
	fd_path(dp, sizeof(dp), dst);
	if (mount(sp, dp, NULL, MS_BIND | MS_REC, NULL) < 0)
		rstep(STEP_RF_CGROUP_BIND, errno, name, host, NULL);
	unsigned long have = flags_of(src);
	close(src);
	close(dst);
	if (!needs_remount(have, set, clr))
		return;
	int mnt = openat(b->cg_top, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (mnt < 0)
		rstep(STEP_RF_CGROUP_OPEN, errno, name, NULL);
	bind_remount(mnt, set, clr);
	close(mnt);
}

static void do_cg_fs(struct build *b, struct wire_rec *r)
{
	unsigned long flags = wire_u64(r);
	const char *name = wire_str(r), *fstype = wire_str(r), *data = wire_str(r);
	char p[64];

	int dst = cg_dir(b, name);
	fd_path(p, sizeof(p), dst);
	if (mount(fstype, p, fstype, flags, *data ? data : NULL) < 0)
		rstep(STEP_RF_CGROUP_MOUNT, errno, name, fstype, NULL);
	close(dst);
}

static void do_cg_link(struct build *b, struct wire_rec *r)
{
	const char *name = wire_str(r), *target = wire_str(r);
	if (b->cg_top < 0)
		rstep(STEP_RF_ROOTFS_PROGRAM_NO_CGROUP, 0, NULL);
	if (symlinkat(target, b->cg_top, name) < 0 && errno != EEXIST)
		rstep(STEP_SYMLINK, errno, name, target, NULL);
}

static void do_cg_done(struct build *b, struct wire_rec *r)
{
	unsigned long set = wire_u64(r), clr = wire_u64(r);
	if (set & MS_RDONLY)
		bind_remount(b->cg_top, set, clr);
	// Propagation and attributes that follow apply to the tmpfs.
	close_fd(&b->last_mnt);
	b->last_mnt = b->cg_top;
	b->cg_top = -1;
}

// open_node opens name in dir without following it and checks it is the
// node just made, so chown and chmod cannot land on anything else.
static int open_node(int dir, const char *name, mode_t type, dev_t rdev)
{
	struct stat st;
	int fd = openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		rstep(STEP_RF_OPEN_NODE, errno, NULL);
	if (fstat(fd, &st) < 0)
		rstep(STEP_RF_STAT_NODE, errno, NULL);
	if ((st.st_mode & S_IFMT) != type || (type != S_IFIFO && st.st_rdev != rdev))
		rstep(STEP_RF_NODE_WAS_REPLACED, 0, NULL);
	return fd;
}

static void make_node(int dir, const char *name, mode_t type, dev_t rdev, uint32_t mode,
		      uint32_t uid, uint32_t gid)
{
	char p[64];
	if (mknodat(dir, name, type | 0600, rdev) < 0) {
		// An image may ship its own /dev/null as a regular file; the
		// spec's node must win.
		if (errno != EEXIST || unlinkat(dir, name, 0) < 0 ||
		    mknodat(dir, name, type | 0600, rdev) < 0)
			rstep(STEP_RF_MKNOD, errno, NULL);
	}
	int node = open_node(dir, name, type, rdev);
	if (fchownat(node, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
		rstep(STEP_RF_CHOWN, errno, NULL);
	// Through the magic link: mknod obeys the umask and an O_PATH handle
	// cannot be fchmod'ed.
	fd_path(p, sizeof(p), node);
	if (chmod(p, mode) < 0)
		rstep(STEP_RF_CHMOD, errno, NULL);
	close(node);
}

// bind_node binds the host's node over an empty file, for a user namespace
// where mknod is denied.
static void bind_node(int dir, const char *name, const char *path, mode_t type)
{
	char sp[64], dp[64];
	struct stat st;

	int host = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (host < 0)
		rstep(STEP_RF_OPEN_HOST_NODE, errno, NULL);
	if (fstat(host, &st) < 0)
		rstep(STEP_RF_STAT_HOST_NODE, errno, NULL);
	if ((st.st_mode & S_IFMT) != type)
		rstep(STEP_RF_HOST_NOT_DEVICE_THAT, 0, path, NULL);
	int fd = openat(dir, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_RDONLY | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
	else if (errno != EEXIST)
		rstep(STEP_RF_CREATE, errno, name, NULL);
	int dst = open_node(dir, name, S_IFREG, 0);
	fd_path(sp, sizeof(sp), host);
	fd_path(dp, sizeof(dp), dst);
	if (mount(sp, dp, NULL, MS_BIND, NULL) < 0)
		rstep(STEP_RF_BIND_HOST_NODE, errno, NULL);
	close(dst);
	close(host);
}

static void do_dev(struct build *b, struct wire_rec *r)
{
	uint32_t type = wire_u32(r), major = wire_u32(r), minor = wire_u32(r);
	uint32_t mode = wire_u32(r), uid = wire_u32(r), gid = wire_u32(r);
	uint32_t userns = wire_u32(r);
	const char *path = wire_str(r);
	char dir[PATH_MAX];

	// Where the path leads in the root, through the image's symlinks, as
	// rootfs/devices.go's createDevice makes it (/dev may be the image's).
	canonical(b, path, dir);
	char *slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir || slash[1] == '\0')
		rstep(STEP_RF_DEVICE_PATH_NOT_BELOW, 0, path, NULL);
	*slash = '\0';
	int d = mkdir_all(b, dir);
	dev_t rdev = type == S_IFIFO ? 0 : makedev(major, minor);
	if (userns)
		bind_node(d, slash + 1, path, type);
	else
		make_node(d, slash + 1, type, rdev, mode, uid, gid);
	close(d);
}

static void do_devlinks(struct build *b, struct wire_rec *r)
{
	static const char *links[][2] = {
		{ "fd", "/proc/self/fd" }, { "stdin", "/proc/self/fd/0" },
		{ "stdout", "/proc/self/fd/1" }, { "stderr", "/proc/self/fd/2" },
		{ "core", "/proc/kcore" }, { "ptmx", "pts/ptmx" },
	};
	uint32_t kcore = wire_u32(r);
	int dev = mkdir_all(b, "/dev");

	if (unlinkat(dev, "ptmx", 0) < 0 && errno != ENOENT)
		rstep(STEP_RF_REMOVE_PTMX, errno, NULL);
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		if (!kcore && !strcmp(links[i][0], "core"))
			continue;
		if (symlinkat(links[i][1], dev, links[i][0]) < 0 && errno != EEXIST)
			rstep(STEP_SYMLINK, errno, links[i][0], links[i][1], NULL);
	}
	close(dev);
}

// do_hooks meets the parent for its prestart and createRuntime hooks.
static void do_hooks(void)
{
	static const char hooks[] = "{\"type\":\"" SYNC_HOOKS "\"}";
	char buf[512];
	struct sync_msg m;

	if (write(berth_syncfd, hooks, sizeof(hooks) - 1) != sizeof(hooks) - 1)
		_exit(1); /* the parent gave up on us and reports why itself */
	ssize_t n = recv(berth_syncfd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		_exit(1);
	buf[n] = '\0';
	if (sync_parse(buf, (size_t)n, &m) < 0 || strcmp(m.type, SYNC_HOOKS_DONE) != 0)
		berth_step(STEP_SYNC_WANT, 0, buf, "hooks-done", NULL);
}

// entered resets the build once the root is "/" (named so without asking
// /proc).
static void entered(struct build *b)
{
	close_fd(&b->root);
	set_last(b, -1);
	b->root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (b->root < 0)
		rstep(STEP_RF_OPEN_SLASH, errno, NULL);
	strcpy(b->link, "/");
	b->proc_ok = 0; /* the container's /proc now */
}

// mountinfo returns this process's mount table, or fails naming why.
static char *mountinfo(size_t *len, const char *why)
{
	char *buf = mountinfo_read(len);
	if (buf == NULL)
		rstep(STEP_RF_READ_MOUNTINFO, errno, why, NULL);
	return buf;
}

// do_parent_private makes the mount holding root private if it is shared
// (rootfs/propagation.go's makeParentPrivate): pivot_root(2) and MS_MOVE
// refuse a new root whose parent mount is shared, as it stays with a
// shared or non-recursive rootfsPropagation.
static __attribute__((noinline)) void do_parent_private(const char *root)
{
	size_t len;
	char *buf = mountinfo(&len, "make the rootfs parent private");
	const char *cur = buf;
	struct mnt_entry m, parent = { .point = "" };
	int r;

	while ((r = mountinfo_next(&cur, buf + len, &m)) > 0)
		if (path_under(root, m.point) && strlen(m.point) >= strlen(parent.point))
			parent = m;
	free(buf);
	if (r < 0)
		rstep(STEP_RF_PARENT_PRIVATE_BAD_LINE, 0, NULL);
	if (!parent.point[0] || !parent.shared)
		return;
	if (mount("", parent.point, NULL, MS_PRIVATE, NULL) < 0)
		rstep(STEP_RF_PARENT_PRIVATE, errno, parent.point, NULL);
}

// hide_host_pseudofs removes from this mount namespace every whole procfs
// and sysfs mount outside root before the root is moved over "/"
// (rootfs/pivot.go's hideHostPseudoFS says why: the kernel lets a nested
// user namespace mount a fresh procfs or sysfs only while one is fully
// visible, and a moved root leaves the host's below it). Each is made a
// slave first so the unmount stays here; one that is locked (inherited
// into a user namespace) is covered with an empty read-only tmpfs.
static void hide_host_pseudofs(const char *root)
{
	size_t len;
	char *buf = mountinfo(&len, "no pivot_root");
	const char *cur = buf;
	struct mnt_entry m;
	int r;

	while ((r = mountinfo_next(&cur, buf + len, &m)) > 0) {
		if (strcmp(m.root, "/") != 0 || (strcmp(m.fstype, "proc") && strcmp(m.fstype, "sysfs")) ||
		    path_under(m.point, root))
			continue;
		if (mount("", m.point, NULL, MS_SLAVE | MS_REC, NULL) < 0) {
			if (errno == ENOENT)
				continue; /* under a mount detached before it */
			if (errno == EACCES)
				rstep(STEP_RF_NOPIVOT_UNREACHABLE, errno, m.fstype, m.point, NULL);
			rstep(STEP_RF_NOPIVOT_SLAVE, errno, m.fstype, m.point, NULL);
		}
		if (umount2(m.point, MNT_DETACH) == 0)
			continue;
		if (errno != EINVAL && errno != EPERM)
			rstep(STEP_RF_NOPIVOT_DETACH, errno, m.fstype, m.point, NULL);
		if (mount("tmpfs", m.point, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0") < 0)
			rstep(STEP_RF_NOPIVOT_COVER, errno, m.fstype, m.point, NULL);
	}
	free(buf);
	if (r < 0)
		rstep(STEP_RF_NOPIVOT_BAD_LINE, 0, NULL);
}

// do_move_root is the NoPivot way in (rootfs/pivot.go's moveRoot): the
// root mount is moved over "/" and chrooted into. The host's mounts stay
// underneath, reachable only by escaping the chroot, which is why
// pivot_root is the default.
static __attribute__((noinline)) void do_move_root(struct build *b)
{
	hide_host_pseudofs(b->root_path);
	if (chdir(b->root_path) < 0)
		rstep(STEP_RF_CHDIR_NEW_ROOT_PATH, errno, b->root_path, NULL);
	if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
		rstep(STEP_RF_MOVE_ROOT, errno, NULL);
	if (chroot(".") < 0)
		rstep(STEP_RF_CHROOT, errno, NULL);
	if (chdir("/") < 0)
		rstep(STEP_RF_CHDIR_SLASH, errno, NULL);
	entered(b);
}

// do_chroot: without a mount namespace of its own there is no root to
// build (mounting would change the runtime's own mount table): as runc
// does, the process is only chrooted into the rootfs.
static __attribute__((noinline)) void do_chroot(const char *path)
{
	if (chroot(path) < 0)
		rstep(STEP_RF_CHROOT_PATH, errno, path, NULL);
	if (chdir("/") < 0)
		rstep(STEP_RF_CHDIR_SLASH, errno, NULL);
}

// do_pivot makes the root "/" with pivot_root(".", "."), which stacks the
// old root on the new one, then detaches the old root (rootfs/pivot.go).
static void do_pivot(struct build *b)
{
	int old = open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (old < 0)
		rstep(STEP_RF_OPEN_OLD_ROOT, errno, NULL);
	int nroot = open(b->root_path, O_DIRECTORY | O_RDONLY | O_CLOEXEC);
	if (nroot < 0)
		rstep(STEP_OPEN_NEW_ROOT, errno, b->root_path, NULL);
	if (fchdir(nroot) < 0)
		rstep(STEP_RF_CHDIR_NEW_ROOT, errno, NULL);
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		rstep(STEP_RF_PIVOT_ROOT, errno, NULL);
	if (fchdir(old) < 0)
		rstep(STEP_RF_CHDIR_OLD_ROOT, errno, NULL);
	// As a slave, the unmount cannot propagate to the host's peers.
	if (mount("", ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		rstep(STEP_RF_MAKE_OLD_ROOT_RSLAVE, errno, NULL);
	if (umount2(".", MNT_DETACH) < 0)
		rstep(STEP_RF_DETACH_OLD_ROOT, errno, NULL);
	if (chdir("/") < 0)
		rstep(STEP_RF_CHDIR_SLASH, errno, NULL);
	close(old);
	close(nroot);
	entered(b);
}

static void do_root(struct build *b, struct wire_rec *r)
{
	b->root_path = wire_str(r);
	check_procfs(b);
	if (mount(b->root_path, b->root_path, NULL, MS_BIND | MS_REC, NULL) < 0)
		rstep(STEP_BIND_ROOTFS, errno, b->root_path, NULL);
	// Opened after the bind, so that the handle is on the new mount.
	b->root = open(b->root_path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (b->root < 0)
		rstep(STEP_RF_OPEN_ROOT_PATH, errno, b->root_path, NULL);
	read_link(b->root, b->link, sizeof(b->link));
}

static void do_propagation(const char *where, unsigned long flags)
{
	if (mount("", where, NULL, flags, NULL) < 0)
		rstep(STEP_RF_SET_PROPAGATION_OF, errno, where, BERTH_X(flags), NULL);
}

// mounted_procfs opens the container's own /proc, after the root was
// entered, if it is the root of a procfs (inode 1 of a PROC_SUPER_MAGIC
// file system), else returns -1. do_sysctl's openat2 (RESOLVE_BENEATH,
// NO_SYMLINKS, NO_XDEV) then refuses whatever the container mounted below
// it. The rule of libcontainer/procfs's OpenMounted.
static int mounted_procfs(void)
{
	struct statfs sf;
	struct stat st;
	int fd = open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC || fstat(fd, &st) < 0 || st.st_ino != 1) {
		close(fd);
		return -1;
	}
	return fd;
}

// open_procfs mounts a procfs instance of the container's pid namespace
// attached nowhere: sysctls are written through it, not through a /proc
// the container's mounts could have shaped (libcontainer/procfs). The
// kernel refuses the instance (EPERM) to a user namespace that does not
// own the pid namespace (a container in a user namespace sharing the
// host's pid namespace: buildah run --pid host, rootless): then the
// sysctls go through the container's mounted /proc, checked to be a
// procfs root.
static int open_procfs(void)
{
	int fs = fsopen("proc", FSOPEN_CLOEXEC);
	if (fs < 0) {
		int err = errno, fd = err == EPERM ? mounted_procfs() : -1;
		if (fd >= 0)
			return fd;
		rstep(STEP_RF_FSOPEN_PROC, err, NULL);
	}
	if (fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		int err = errno, fd = err == EPERM ? mounted_procfs() : -1;
		if (fd >= 0) {
			close(fs);
			return fd;
		}
		rstep(STEP_RF_CREATE_PROCFS, err, NULL);
	}
	int m = fsmount(fs, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
	if (m < 0)
		rstep(STEP_RF_FSMOUNT_PROCFS, errno, NULL);
	close(fs);
	return m;
}

static __attribute__((noinline)) void do_sysctl(struct build *b, struct wire_rec *r)
{
	const char *path = wire_str(r), *value = wire_str(r);
	struct open_how how = {
		.flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	struct statfs sf;
	char name[PATH_MAX];

	if (b->procfs < 0)
		b->procfs = open_procfs();
	if (snprintf(name, sizeof(name), "sys/%s", path) >= (int)sizeof(name)) {
		errno = ENAMETOOLONG;
		rstep(STEP_RF_OPEN_PROC_SYS, errno, berth_trunc((char[81]){ 0 }, path), NULL);
	}
	int fd = syscall(SYS_openat2, b->procfs, name, &how, sizeof(how));
	if (fd < 0)
		rstep(STEP_RF_OPEN_PROC, errno, name, NULL);
	if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
		rstep(STEP_RF_OPEN_PROC_NOT_PROCFS, 0, name, NULL);
	ssize_t n = write(fd, value, strlen(value));
	if (n != (ssize_t)strlen(value))
		rstep(STEP_RF_WRITE_PROC, errno, name, NULL);
	if (close(fd) < 0)
		rstep(STEP_RF_WRITE_PROC, errno, name, NULL);
}

// mkdir_cwd makes a missing cwd as root, inside the new root.
static void mkdir_cwd(const char *cwd)
{
	char buf[PATH_MAX];
	struct stat st;

	copy_path(buf, cwd);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(buf, 0755) < 0 && errno != EEXIST)
			rstep(STEP_MKDIR, errno, buf, NULL);
		*p = saved;
		if (saved == '\0')
			break;
	}
	if (stat(cwd, &st) < 0)
		rstep(STEP_STAT, errno, cwd, NULL);
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		rstep(STEP_MKDIR, errno, cwd, NULL);
	}
}

// do_ro_mount makes the mount on top of dest read-only, keeping its other
// flags: a tmpfs or /dev mounted writable for the setup (rootfs/mount.go's
// readonlyLater).
static void do_ro_mount(struct build *b, const char *dest)
{
	int h = open_in_root(b, dest);
	if (h < 0)
		rstep(STEP_RF_OPENAT2_ROOT, errno, dest, NULL);
	check_procfs(b);
	bind_remount(h, MS_RDONLY, 0);
	close(h);
}

static void ro_root(void)
{
	struct statfs sf;
	if (statfs("/", &sf) < 0)
		rstep(STEP_RF_STATFS_SLASH, errno, NULL);
	unsigned long flags = remount_flags(statfs_flags(sf.f_flags), MS_RDONLY, 0);
	if (mount("", "/", NULL, MS_REMOUNT | MS_BIND | flags, NULL) < 0)
		rstep(STEP_RF_REMOUNT_SLASH, errno, NULL);
}

// open_present opens a path to mask or protect: -1 when it is absent.
static int open_present(struct build *b, const char *path)
{
	int h = open_in_root(b, path);
	if (h < 0 && (errno == ENOENT || errno == ENOTDIR))
		return -1;
	if (h < 0)
		rstep(STEP_RF_OPENAT2_ROOT, errno, path, NULL);
	check_procfs(b);
	return h;
}

// open_null opens the container's /dev/null and checks it is the null
// device: binding anything else over a masked path would expose it
// (CVE-2025-31133).
static int open_null(struct build *b)
{
	struct stat st;
	int h = open_in_root(b, "/dev/null");
	if (h < 0)
		rstep(STEP_RF_OPEN_DEV_NULL, errno, NULL);
	if (fstat(h, &st) < 0)
		rstep(STEP_RF_STAT_DEV_NULL, errno, NULL);
	if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
		rstep(STEP_RF_DEV_NULL_CONTAINER_NOT, 0, NULL);
	return h;
}

// do_mask hides path (rootfs/paths.go's maskPath): a file under a bind of
// /dev/null, a directory under the one read-only tmpfs all directories
// share (mounted on the first, bound from it onto the others; the program
// lists each path once).
static void do_mask(struct build *b, const char *path, int *null)
{
	char hp[64], np[64];
	int h = open_present(b, path);
	if (h < 0)
		return; /* absent paths are skipped, as the spec allows */
	fd_path(hp, sizeof(hp), h);
	if (type_of(h) != S_IFDIR) {
		if (*null < 0)
			*null = open_null(b);
		fd_path(np, sizeof(np), *null);
		if (mount(np, hp, NULL, MS_BIND, NULL) < 0)
			rstep(STEP_RF_BIND_DEV_NULL, errno, NULL);
		close(h);
		return;
	}
	if (b->mask_first < 0) {
		// As small as the kernel allows; Ubuntu's 5.4 wants 2 inodes.
		int err = mount("tmpfs", hp, "tmpfs", MS_RDONLY, "nr_blocks=1,nr_inodes=1");
		if (err < 0 && errno == EINVAL)
			err = mount("tmpfs", hp, "tmpfs", MS_RDONLY, "nr_blocks=1,nr_inodes=2");
		if (err < 0)
			rstep(STEP_RF_MOUNT_TMPFS, errno, NULL);
		b->mask_first = h; /* looked up again only if a second directory needs it */
		return;
	}
	if (b->mask_shared < 0)
		b->mask_shared = reopen_mount(b, b->mask_first);
	fd_path(np, sizeof(np), b->mask_shared);
	// A bind keeps the tmpfs's read-only flag.
	if (mount(np, hp, NULL, MS_BIND, NULL) < 0)
		rstep(STEP_RF_BIND_MASK_TMPFS, errno, NULL);
	close(h);
}

static void do_ro_path(struct build *b, const char *path)
{
	char hp[64];
	int h = open_present(b, path);
	if (h < 0)
		return;
	fd_path(hp, sizeof(hp), h);
	if (mount(hp, hp, NULL, MS_BIND | MS_REC, NULL) < 0)
		rstep(STEP_RF_BIND_ITSELF, errno, NULL);
	int mnt = reopen_mount(b, h);
	bind_remount(mnt, MS_RDONLY, 0);
	close(mnt);
	close(h);
}

static void step(struct build *b, struct wire_rec *r, int *null)
{
	switch (r->tag) {
	case RF_CTX: snprintf(ctx, sizeof(ctx), "%s", wire_str(r)); break;
	case RF_PROPAGATION: do_propagation("/", wire_u64(r)); break;
	case RF_ROOT: do_root(b, r); break;
	case RF_FS: do_fs(b, r, 0); break;
	case RF_FS_DIR: do_fs(b, r, 1); break;
	case RF_BIND: do_bind(b, r, 0); break;
	case RF_BIND_IN_ROOT: do_bind(b, r, 1); break;
	case RF_REMOUNT: do_remount(b, r); break;
	case RF_COPYUP: do_copyup(b, r); break;
	case RF_MNT_PROP: do_mnt_prop(b, r); break;
	case RF_MNT_ATTR: do_mnt_attr(b, r); break;
	case RF_CG_TMPFS: do_cg_tmpfs(b, r); break;
	case RF_CG_BIND: do_cg_bind(b, r); break;
	case RF_CG_FS: do_cg_fs(b, r); break;
	case RF_CG_LINK: do_cg_link(b, r); break;
	case RF_CG_DONE: do_cg_done(b, r); break;
	case RF_DEV: do_dev(b, r); break;
	case RF_DEVLINKS: do_devlinks(b, r); break;
	case RF_HOOKS:
		berth_trace_point(POINT_INIT_ROOTFS_PREPARE); // the Go builder's names
		do_hooks();
		berth_trace_point(POINT_INIT_WAIT_HOOKS);
		break;
	case RF_HOOK_STATE: chooks_recv_state(); break;
	case RF_CREATE_HOOKS: chooks_create(r->d, r->len, b->root_path); break;
	case RF_PIVOT:
		do_pivot(b);
		berth_trace_point(POINT_INIT_PIVOT);
		break;
	case RF_PARENT_PRIVATE: do_parent_private(wire_str(r)); break;
	case RF_MOVE_ROOT:
		do_move_root(b);
		berth_trace_point(POINT_INIT_PIVOT);
		break;
	case RF_CHROOT: do_chroot(wire_str(r)); break;
	case RF_HOSTNAME: {
		const char *h = wire_str(r);
		if (sethostname(h, strlen(h)) < 0)
			rstep(STEP_SETHOSTNAME, errno, NULL);
		break;
	}
	case RF_DOMAINNAME: {
		const char *d = wire_str(r);
		if (setdomainname(d, strlen(d)) < 0)
			rstep(STEP_SETDOMAINNAME, errno, NULL);
		break;
	}
	case RF_SYSCTL: do_sysctl(b, r); break;
	case RF_MKCWD: mkdir_cwd(wire_str(r)); break;
	case RF_RO_MOUNT: do_ro_mount(b, wire_str(r)); break;
	case RF_RO_ROOT: ro_root(); break;
	case RF_MASK: do_mask(b, wire_str(r), null); break;
	case RF_RO_PATH: do_ro_path(b, wire_str(r)); break;
	case RF_FINAL_PROP: do_propagation("/", wire_u64(r)); break;
	}
}

void crootfs_build(char *prog, size_t len)
{
	struct build b = { .root = -1, .last_dst = -1, .last_mnt = -1, .cg_top = -1, .procfs = -1,
			   .mask_first = -1, .mask_shared = -1 };
	char *cur = prog, *end = prog + len, err[128];
	struct wire_rec r;
	int null = -1;

	// Checked whole before the first step: a malformed program fails
	// before anything is mounted.
	if (wire_check(&wire_rootfs, prog, len, err, sizeof(err)) < 0)
		berth_step(STEP_ROOTFS_PROGRAM, 0, err, NULL);
	while (wire_next(&cur, end, &r))
		step(&b, &r, &null);
	close_fd(&null);
	close_fd(&b.mask_first);
	close_fd(&b.mask_shared);
	close_fd(&b.root);
	close_fd(&b.procfs);
	set_last(&b, -1);
	close_fd(&b.cg_top);
	berth_trace_point(POINT_INIT_ROOTFS_FINISH);
}
