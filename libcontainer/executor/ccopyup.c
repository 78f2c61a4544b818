// tmpcopyup's copy (crootfs.c's RF_COPYUP): what a directory of the image
// held, copied into the tmpfs just mounted over it, so that an image's /tmp
// or /run content survives the tmpfs (runc's and crun's "tmpcopyup").
//
// Everything goes through directory fds with O_NOFOLLOW: a symlink of the
// image is copied as a symlink and never followed, out of the tree or
// anywhere else. Each entry keeps its type, mode, owner and times (the
// set-id bits are restored after chown, which clears them). Extended
// attributes are not copied, as runc does not copy them.
//
// Pure file work on two fds, so that the C tests (ctest/ccopyup_tu.c) run it
// without root on directories of their own.
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ccopyup.h"

// fail records what failed on which entry; errno is kept for the caller.
static int fail(struct copyup_err *e, const char *op, const char *name)
{
	int saved = errno;
	snprintf(e->what, sizeof(e->what), "%s \"%.200s\"", op, name);
	errno = saved;
	return -1;
}

static int copy_data(int in, int out)
{
	char buf[64 << 10];
	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		for (char *p = buf; n > 0;) {
			ssize_t w = write(out, p, n);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				return -1;
			}
			p += w, n -= w;
		}
	}
}

static int copy_file(int src, int dst, const char *name, mode_t mode)
{
	int in = openat(src, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return -1;
	int out = openat(dst, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode & 0777);
	if (out < 0) {
		close(in);
		return -1;
	}
	int err = copy_data(in, out);
	int saved = errno;
	close(in);
	if (close(out) < 0 && err == 0)
		return -1;
	errno = saved;
	return err;
}

static int copy_symlink(int src, int dst, const char *name)
{
	char target[4096];
	ssize_t n = readlinkat(src, name, target, sizeof(target));
	if (n < 0)
		return -1;
	if (n == sizeof(target)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	target[n] = '\0';
	return symlinkat(target, dst, name);
}

// copy_attrs gives the copy its original owner, then mode (chown clears
// set-id bits), then times.
static int copy_attrs(int dst, const char *name, const struct stat *st, struct copyup_err *e)
{
	if (fchownat(dst, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(e, "chown", name);
	// The entry was just made by us in a tmpfs nobody else sees yet.
	if (!S_ISLNK(st->st_mode) && fchmodat(dst, name, st->st_mode & 07777, 0) < 0)
		return fail(e, "chmod", name);
	struct timespec times[2] = { st->st_atim, st->st_mtim };
	if (utimensat(dst, name, times, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(e, "set times of", name);
	return 0;
}

static int copy_entry(int src, int dst, const char *name, int depth, struct copyup_err *e)
{
	struct stat st;
	int err;

	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(e, "stat", name);
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR: {
		if (depth >= COPYUP_MAX_DEPTH) {
			errno = ELOOP;
			return fail(e, "copy", name);
		}
		if (mkdirat(dst, name, 0700) < 0 && errno != EEXIST)
			return fail(e, "copy", name);
		int from = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (from < 0)
			return fail(e, "copy", name);
		int to = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (to < 0) {
			close(from);
			return fail(e, "copy", name);
		}
		err = copyup_tree_at(from, to, depth + 1, e);
		close(to);
		if (err < 0)
			return err;
		break;
	}
	case S_IFREG:
		err = copy_file(src, dst, name, st.st_mode);
		break;
	case S_IFLNK:
		err = copy_symlink(src, dst, name);
		break;
	default:
		err = mknodat(dst, name, st.st_mode, st.st_rdev);
	}
	if (err < 0)
		return fail(e, "copy", name);
	return copy_attrs(dst, name, &st, e);
}

int copyup_tree_at(int src, int dst, int depth, struct copyup_err *e)
{
	// fdopendir takes src over; the caller's fd is closed by closedir.
	DIR *d = fdopendir(src);
	if (d == NULL) {
		int saved = errno;
		close(src);
		errno = saved;
		return fail(e, "read", ".");
	}
	for (;;) {
		errno = 0;
		struct dirent *de = readdir(d);
		if (de == NULL) {
			if (errno != 0) {
				int saved = errno;
				closedir(d);
				errno = saved;
				return fail(e, "read", ".");
			}
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (copy_entry(dirfd(d), dst, de->d_name, depth, e) < 0) {
			int saved = errno;
			closedir(d);
			errno = saved;
			return -1;
		}
	}
	closedir(d);
	return 0;
}

int copyup_tree(int src, int dst, struct copyup_err *e)
{
	int from = fcntl(src, F_DUPFD_CLOEXEC, 3);
	if (from < 0)
		return fail(e, "read", ".");
	return copyup_tree_at(from, dst, 0, e);
}
