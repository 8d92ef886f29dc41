/* SPDX-License-Identifier: MIT */
/*
 * /redfish/v1/Systems/{name}/Oem/Dhp/Console: a partition's console log
 * (what its OS printed on its first serial port), as text/plain bytes,
 * read-only. dhpctl console shows it and follows it (docs/dhpctl.md).
 *
 * The log is the backend's (console_open in core/backend.h: a QEMU
 * partition's console.log); the simulated server has none, which is a 404
 * that says so. A client reads from an offset with a Range header, as
 * HTTP says, and gets at most CONSOLE_MAX bytes per answer:
 *
 *   (no Range)          the last CONSOLE_MAX bytes, as "bytes=-CONSOLE_MAX"
 *   Range: bytes=N-     from byte N on (following: N is the next byte)
 *   Range: bytes=N-M    bytes N to M
 *   Range: bytes=-K     the last K bytes
 *
 * The answer is 206 with Content-Range "bytes FIRST-LAST/SIZE", or 200 when
 * it holds the whole log; 416 with "bytes * /SIZE" (no space) when N is at
 * or past the end: nothing new, or, when SIZE < N, the log started again
 * (the partition restarted). A Range of another unit or of several ranges
 * is ignored, as RFC 9110 allows. docs/redfish.md has the contract.
 *
 * Reading is a bounded pread of a local file on the loop (up to 64 KiB
 * from the page cache): no worse than building a large JSON body.
 */
#include "redfish/resources/resources.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONSOLE_MAX (64 * 1024)
#define CONSOLE_TYPE "text/plain"

struct range {
	bool suffix;		/* bytes=-K: the last `last` bytes */
	uint64_t first, last;	/* last UINT64_MAX: to the end */
};

static bool parse_u64(const char **p, uint64_t *ret)
{
	char *end;
	unsigned long long v;

	if (**p < '0' || **p > '9')
		return false;
	errno = 0;
	v = strtoull(*p, &end, 10);
	if (errno)
		return false;
	*p = end;
	*ret = v;
	return true;
}

/* One range of bytes (RFC 9110 §14.1.2); false for anything else. */
static bool parse_range(const char *header, struct range *r)
{
	const char *p = header;

	*r = (struct range){ .last = UINT64_MAX };
	if (!p || strncmp(p, "bytes=", 6))
		return false;
	p += 6;
	while (*p == ' ')
		p++;
	if (*p == '-') {
		p++;
		r->suffix = true;
		if (!parse_u64(&p, &r->last))
			return false;
	} else {
		if (!parse_u64(&p, &r->first) || *p++ != '-')
			return false;
		if (*p >= '0' && *p <= '9' && (!parse_u64(&p, &r->last) || r->last < r->first))
			return false;
	}
	while (*p == ' ')
		p++;
	return *p == '\0';	/* "a-b, c-d": several ranges, ignored */
}

/* The bytes [*first, *first + *len) of the log to send; false when the
 * range cannot be satisfied (416). */
static bool pick(const struct range *r, uint64_t size, uint64_t *first, uint64_t *len)
{
	uint64_t last;

	if (r->suffix) {
		uint64_t n = r->last < CONSOLE_MAX ? r->last : CONSOLE_MAX;

		if (!n || !size)
			return false;
		*first = n < size ? size - n : 0;
		*len = size - *first;
		return true;
	}
	if (r->first >= size)
		return false;
	last = r->last < size - 1 ? r->last : size - 1;
	*first = r->first;
	*len = last - r->first + 1 < CONSOLE_MAX ? last - r->first + 1 : CONSOLE_MAX;
	return true;
}

static void no_console(struct redfish *rf, struct http_response *res, const char *name,
		       const struct dhp_error *err)
{
	struct dhp_backend *be = dhp_core_backend(rf_core(rf));

	if (!be || !be->ops->console_open) {
		rf_error(res, 404, "ResourceNotFound",
			 "Consoles exist on a QEMU server (dhpd --server qemu:TOPOLOGY).",
			 "Partition '%s' has no console: the %s server keeps no console logs "
			 "(its operating systems are simulated).", name,
			 be && !strcmp(be->ops->name, "sim") ? "simulated" : "backend's");
		return;
	}
	if (err->code == -ENOENT) {
		rf_error(res, 404, "ResourceNotFound", "Start the partition: its console log "
			 "begins with its boot.", "Partition '%s' has no console log yet.", name);
		return;
	}
	rf_error_from(res, err);
}

/* 416: nothing new at that offset, or the log is shorter than it now. */
static void unsatisfiable(struct http_response *res, const char *name, off_t size)
{
	rf_error(res, 416, "GeneralError", "Ask from an offset below the size; a size below "
		 "your offset means that the log started again (the partition restarted).",
		 "The console log of '%s' has %jd bytes: nothing in the range asked for.", name,
		 (intmax_t)size);
	http_header(res, "Accept-Ranges", "bytes");
	http_header(res, "Content-Range", "bytes */%jd", (intmax_t)size);
}

static void console_get(struct redfish *rf, const struct rf_request *req,
			struct http_response *res)
{
	struct dhp_backend *be = dhp_core_backend(rf_core(rf));
	const struct dhp_partition *p = rf_partition(rf, req->params[0]);
	struct dhp_error err = { 0 };
	struct range r;
	bool ranged;
	uint64_t first = 0, len = 0;
	struct stat st;
	ssize_t n;
	int fd = -1;

	if (!p) {
		rf_not_found(res, "ComputerSystem", req->params[0]);
		return;
	}
	if (!be || !be->ops->console_open || be->ops->console_open(be, p->id, &fd, &err) < 0) {
		no_console(rf, res, p->name, &err);
		return;
	}
	if (fstat(fd, &st) < 0) {
		dhp_error_set(&err, -errno, "cannot read the console log of '%s': %s", p->name,
			      strerror(errno));
		close(fd);
		rf_error_from(res, &err);
		return;
	}
	ranged = parse_range(req->range, &r);
	if (!ranged)
		r = (struct range){ .suffix = true, .last = CONSOLE_MAX };
	/* An empty log, asked for without a Range, is an empty answer. */
	if (!pick(&r, (uint64_t)st.st_size, &first, &len) && (ranged || st.st_size)) {
		close(fd);
		unsatisfiable(res, p->name, st.st_size);
		return;
	}
	res->raw_owned = malloc(len ? len : 1);
	if (!res->raw_owned) {
		close(fd);
		rf_error(res, 500, "InternalError", NULL, "out of memory");
		return;
	}
	/* The log may have changed since fstat: send what is there. */
	n = len ? pread(fd, res->raw_owned, len, (off_t)first) : 0;
	close(fd);
	if (len && n <= 0) {	/* it started again (shorter) meanwhile */
		unsatisfiable(res, p->name, st.st_size);
		return;
	}
	res->raw_len = (size_t)n;
	res->raw_type = CONSOLE_TYPE;
	http_header(res, "Accept-Ranges", "bytes");
	if (first == 0 && res->raw_len == (uint64_t)st.st_size) {
		res->status = 200;
		return;
	}
	res->status = 206;
	http_header(res, "Content-Range", "bytes %" PRIu64 "-%" PRIu64 "/%jd", first,
		    first + res->raw_len - 1, (intmax_t)st.st_size);
}

const struct rf_route rf_routes_console[] = {
	{ HTTP_GET, RF_SYSTEMS "/{}/Oem/Dhp/Console", console_get, AUTH_PRIV_LOGIN },
	{ 0, NULL, NULL, 0 },
};
