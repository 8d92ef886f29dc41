/* SPDX-License-Identifier: MIT */
/*
 * dhpctl's configuration file (src/dhpctl/config-file.c): the input is the
 * file, given to config_file_load() as a memfd's /proc/self/fd path (it
 * reads a path, and checks that it names a regular file). What it loads
 * must be released whole; a file it refuses must say why.
 *
 * dhpctl's objects are in no layer library: mk/fuzz.mk links
 * config-file.c's into this harness. ctl_error_set() is output.c's, which
 * would bring the rest of dhpctl: this file has a copy of what it does.
 */
#include "fuzz/fuzz.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config-file.h"

int ctl_error_set(struct ctl_error *err, int exit_code, const char *hint, const char *fmt, ...)
{
	va_list ap;

	if (!err->exit_code) {
		err->exit_code = exit_code;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
		snprintf(err->hint, sizeof(err->hint), "%s", hint ? hint : "");
	}
	return exit_code == CTL_EXIT_USAGE ? -EINVAL : -EIO;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config_file file = { 0 };
	struct ctl_error err = { 0 };
	char path[64];
	int fd = memfd_create("dhpctl.conf", MFD_CLOEXEC), r;

	if (fd < 0)
		return 0;
	if (size && write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = config_file_load(path, &file, &err);
	if (r < 0)
		FUZZ_CHECK(err.exit_code && err.message[0]);
	else
		FUZZ_CHECK(r == 0 && !err.exit_code);
	config_file_release(&file);
	close(fd);
	return 0;
}
