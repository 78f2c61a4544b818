// /proc/self/mountinfo, read for the rootfs program's steps that must look
// at the mount table (cmountinfo.c): the rootfs's parent mount, and the
// host's procfs and sysfs mounts a moved root leaves below it.
#ifndef BERTH_CMOUNTINFO_H
#define BERTH_CMOUNTINFO_H

#include <limits.h>
#include <stddef.h>

// One line of mountinfo, unescaped (\040 and its kind turned back into
// the bytes they stand for).
struct mnt_entry {
	char root[PATH_MAX];  // the path in the filesystem mounted there
	char point[PATH_MAX]; // the mount point, in this process's root
	char fstype[64];
	int shared; // the optional fields name a peer group ("shared:N")
};

// mountinfo_next parses the line at *cur (up to end) into m and moves *cur
// past it: 1, or 0 at the end, or -1 for a line it cannot read.
int mountinfo_next(const char **cur, const char *end, struct mnt_entry *m);

// path_under reports whether path is dir or below it (component-wise: /a
// is not under /ab); dir "/" holds every absolute path.
int path_under(const char *path, const char *dir);

// mountinfo_read reads /proc/self/mountinfo into a malloc'ed buffer; NULL
// with errno on failure.
char *mountinfo_read(size_t *len);

#endif
