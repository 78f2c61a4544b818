// Reading /proc/self/mountinfo (cmountinfo.h). The parser works on a
// buffer, so the C tests (ctest/cmountinfo_tu.c) feed it lines of their own.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmountinfo.h"

// field copies the space-separated field at *p into out (size bytes),
// undoing the kernel's octal escapes (mangle() in fs/proc_namespace.c: space,
// tab, newline and backslash); -1 if it is missing or does not fit.
static int field(const char **p, const char *end, char *out, size_t size)
{
	const char *s = *p;
	size_t n = 0;

	while (s < end && *s == ' ')
		s++;
	if (s >= end || *s == '\n')
		return -1;
	while (s < end && *s != ' ' && *s != '\n') {
		char c = *s++;
		if (c == '\\' && end - s >= 3 && s[0] >= '0' && s[0] <= '3' && s[1] >= '0' && s[1] <= '7' &&
		    s[2] >= '0' && s[2] <= '7') {
			c = (char)((s[0] - '0') << 6 | (s[1] - '0') << 3 | (s[2] - '0'));
			s += 3;
		}
		if (n + 1 >= size)
			return -1;
		out[n++] = c;
	}
	out[n] = '\0';
	*p = s;
	return 0;
}

int mountinfo_next(const char **cur, const char *end, struct mnt_entry *m)
{
	const char *p = *cur;
	char skip[PATH_MAX];

	if (p >= end)
		return 0;
	const char *eol = memchr(p, '\n', end - p);
	if (eol == NULL)
		eol = end;
	*cur = eol < end ? eol + 1 : end;
	// id, parent id, major:minor, root, mount point, options
	if (field(&p, eol, skip, sizeof(skip)) < 0 || field(&p, eol, skip, sizeof(skip)) < 0 ||
	    field(&p, eol, skip, sizeof(skip)) < 0 || field(&p, eol, m->root, sizeof(m->root)) < 0 ||
	    field(&p, eol, m->point, sizeof(m->point)) < 0 || field(&p, eol, skip, sizeof(skip)) < 0)
		return -1;
	// Optional fields up to "-", then the filesystem type.
	m->shared = 0;
	for (;;) {
		if (field(&p, eol, skip, sizeof(skip)) < 0)
			return -1;
		if (strcmp(skip, "-") == 0)
			break;
		if (strncmp(skip, "shared:", 7) == 0)
			m->shared = 1;
	}
	if (field(&p, eol, m->fstype, sizeof(m->fstype)) < 0)
		return -1;
	return 1;
}

int path_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (strcmp(dir, "/") == 0)
		return path[0] == '/';
	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

char *mountinfo_read(size_t *len)
{
	int fd = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	size_t size = 64 << 10, n = 0;
	char *buf = malloc(size);
	for (;;) {
		if (buf == NULL) {
			close(fd);
			errno = ENOMEM;
			return NULL;
		}
		ssize_t r = read(fd, buf + n, size - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int saved = errno;
			free(buf);
			close(fd);
			errno = saved;
			return NULL;
		}
		if (r == 0)
			break;
		n += r;
		if (n == size) {
			size *= 2;
			char *bigger = realloc(buf, size);
			if (bigger == NULL)
				free(buf);
			buf = bigger;
		}
	}
	close(fd);
	*len = n;
	return buf;
}
