/* SPDX-License-Identifier: MIT */
/*
 * Error detail for dhp.
 *
 * Every fallible function returns 0 or a negative errno (see docs/errors.md
 * for the domain meaning of each code) and, when the caller passes a
 * struct dhp_error, fills it with enough detail to become a Redfish
 * @Message.ExtendedInfo: what was wrong and what to do about it.
 * Libraries never print; programs print err->message once.
 */
#ifndef DHP_COMMON_ERROR_H
#define DHP_COMMON_ERROR_H

#include <errno.h>

#define DHP_ERROR_TEXT_MAX 256

struct dhp_error {
	int code;				/* negative errno, 0 when unset */
	char message[DHP_ERROR_TEXT_MAX];	/* what went wrong */
	char resolution[DHP_ERROR_TEXT_MAX];	/* what to do; may be "" */
};

/*
 * Record an error and return its code, so callers can write
 * "return dhp_error_set(err, -EBUSY, ...);". err may be NULL.
 * Only the first error is kept: a later call does not overwrite detail
 * already set by a deeper layer.
 */
__attribute__((format(printf, 3, 4)))
int dhp_error_set(struct dhp_error *err, int code, const char *fmt, ...);

/* Set the resolution text of an error already set; returns err->code, so
 * only "return" it where err cannot be NULL (it returns 0 then). */
__attribute__((format(printf, 2, 3)))
int dhp_error_resolve(struct dhp_error *err, const char *fmt, ...);

/* Forget any recorded error. */
void dhp_error_clear(struct dhp_error *err);

/* Short stable name of a code used by dhp: "conflict", "veto", ... */
const char *dhp_error_name(int code);

#endif
