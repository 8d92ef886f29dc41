/* SPDX-License-Identifier: MIT */
#include "common/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int dhp_error_set(struct dhp_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err || err->code)
		return err && err->code ? err->code : code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	err->resolution[0] = '\0';
	return code;
}

int dhp_error_resolve(struct dhp_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return 0;
	va_start(ap, fmt);
	vsnprintf(err->resolution, sizeof(err->resolution), fmt, ap);
	va_end(ap);
	return err->code;
}

void dhp_error_clear(struct dhp_error *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

/* The domain meaning of each code; docs/errors.md is the reference. */
const char *dhp_error_name(int code)
{
	switch (code) {
	case 0:			return "ok";
	case -EINVAL:		return "invalid";
	case -ENOENT:		return "not-found";
	case -EEXIST:		return "exists";
	case -EBUSY:		return "conflict";
	case -EPERM:		return "veto";
	case -EOPNOTSUPP:	return "not-supported";
	case -EROFS:		return "static-server";
	case -ETIMEDOUT:	return "timeout";
	case -EIO:		return "hardware";
	case -EAGAIN:		return "os-refused";
	case -EHOSTDOWN:	return "os-crashed";
	case -ENOTCONN:		return "not-running";
	case -ERANGE:		return "minimum";
	case -ENOSPC:		return "no-spare";
	case -EDQUOT:		return "storage-full";
	case -ENOMEM:		return "no-memory";
	case -ECANCELED:	return "cancelled";
	case -EPROTONOSUPPORT:	return "agent-version";
	default:		return "error";
	}
}
