/* SPDX-License-Identifier: MIT */
#include "common/fs.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>

int dhp_mkdir_p(const char *dir, struct dhp_error *err)
{
	char path[PATH_MAX];
	size_t n = strlen(dir);

	if (!n || n >= sizeof(path))
		return dhp_error_set(err, -ENAMETOOLONG, "bad state directory \"%s\"", dir);
	memcpy(path, dir, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != '\0')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			int e = errno;

			return dhp_error_set(err, -e, "cannot create directory %s: %s", path,
					     strerror(e));
		}
		path[i] = i < n ? '/' : '\0';
	}
	return 0;
}
