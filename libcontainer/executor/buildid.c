// berth_build_id: the GNU build id of the running binary, from its own
// program headers in memory (no file read, no syscall), as hex. The linker
// puts it in a loaded PT_NOTE segment; Go's external link (make build,
// every cgo binary) always asks for one. state.brief is stamped with it:
// the brief's "execplan" is read by this binary's C init and its
// templates are this binary's output, so a brief another build wrote is
// left to Go (brief.go). Also compiled into package internal/buildid, for
// the Go side.
#include <elf.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "buildid.h"

extern const ElfW(Ehdr) __ehdr_start;

static int note_build_id(const char *p, size_t n, char *out, size_t size)
{
	while (n >= sizeof(ElfW(Nhdr))) {
		const ElfW(Nhdr) *h = (const ElfW(Nhdr) *)p;
		size_t name = (h->n_namesz + 3) & ~(size_t)3, desc = (h->n_descsz + 3) & ~(size_t)3;
		if (sizeof(*h) + name + desc > n)
			return -1;
		const unsigned char *d = (const unsigned char *)p + sizeof(*h) + name;
		if (h->n_type == NT_GNU_BUILD_ID && h->n_namesz == 4 && memcmp(p + sizeof(*h), "GNU", 4) == 0) {
			if (h->n_descsz == 0 || h->n_descsz * 2 + 1 > size)
				return -1;
			for (size_t i = 0; i < h->n_descsz; i++)
				snprintf(out + 2 * i, 3, "%02x", d[i]);
			return 0;
		}
		p += sizeof(*h) + name + desc;
		n -= sizeof(*h) + name + desc;
	}
	return -1;
}

int berth_build_id(char *out, size_t size)
{
	const ElfW(Ehdr) *eh = &__ehdr_start;
	const ElfW(Phdr) *ph = (const ElfW(Phdr) *)((const char *)eh + eh->e_phoff);
	const ElfW(Phdr) *load = NULL;

	// The load bias: where the first PT_LOAD landed against its vaddr
	// (0 for berth's static non-PIE binary, the mapping for a PIE).
	for (int i = 0; i < eh->e_phnum && load == NULL; i++)
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset == 0)
			load = &ph[i];
	if (load == NULL)
		return -1;
	const char *bias = (const char *)eh - load->p_vaddr;
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_NOTE && note_build_id(bias + ph[i].p_vaddr, ph[i].p_filesz, out, size) == 0)
			return 0;
	return -1;
}
