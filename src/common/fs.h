/* SPDX-License-Identifier: MIT */
/*
 * Small file-system helpers shared by the programs: state directories,
 * files replaced whole, files read whole. Errors are -errno with detail in
 * err (may be NULL: the caller words its own).
 */
#ifndef DHP_COMMON_FS_H
#define DHP_COMMON_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "common/error.h"

/* mkdir -p, each directory made with mode 0700 (state directories). */
int dhp_mkdir_p(const char *dir, struct dhp_error *err);

/*
 * Replace path with the len bytes of data, so that a crash leaves the old
 * file or the new one, never a mix: write PATH.tmp (created or truncated,
 * then chmod to mode whatever the umask or an old PATH.tmp had), fsync it,
 * rename it over path, fsync the directory. On failure PATH.tmp is
 * removed and path is untouched, unless only the directory's fsync failed
 * (the new file is then in place, its durability unknown).
 * -ENAMETOOLONG, or -EIO for any I/O failure (err says which step and why).
 */
int dhp_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
			  struct dhp_error *err);

/*
 * Read the whole of path (a regular file, a FIFO, ...) into a new buffer,
 * NUL-terminated: *ret_text, caller frees with free(); *ret_len (may be
 * NULL) is its length without the NUL. A file is not read past max + 1
 * bytes, nor is more memory allocated for it: a larger one is -EFBIG.
 * Otherwise -errno of open or read (-ENOENT: no such file), -ENOMEM,
 * -EINVAL when max is SIZE_MAX. ret_* are set only on success.
 */
int dhp_read_file(const char *path, size_t max, char **ret_text, size_t *ret_len,
		  struct dhp_error *err);

#endif
