/* SPDX-License-Identifier: MIT */
/*
 * Splitting a byte stream into protocol lines, with the line cap.
 *
 * The caller reads from its fd (serial port, socket) and pushes what it got;
 * the reader calls back once per complete line. A line longer than
 * DHP_PROTO_LINE_MAX is reported once, as soon as it crosses the cap, and
 * the rest of it is skipped up to the next newline: the reader then
 * resynchronises and the next line is read normally. Nothing is allocated,
 * so a peer cannot make the reader grow.
 */
#ifndef DHP_PROTO_LINE_H
#define DHP_PROTO_LINE_H

#include <stdbool.h>
#include <stddef.h>

#include "proto/proto.h"

/*
 * One line, without its newline (nor a "\r" before it), or rc = -EMSGSIZE
 * and line = NULL for a line over the cap. Empty lines are not reported: a
 * peer may send a newline to end whatever half line the other side had.
 * Return nonzero to stop: push returns that value at once, and the bytes
 * after this line stay unread (push them again).
 */
typedef int (*dhp_proto_line_fn)(void *ctx, const char *line, size_t len, int rc);

struct dhp_proto_reader {
	char buf[DHP_PROTO_LINE_MAX];
	size_t len;			/* bytes of the current line so far */
	bool skipping;			/* in a line over the cap */
};

void dhp_proto_reader_init(struct dhp_proto_reader *r);

/*
 * Push n bytes. Returns 0 when all were taken, or what fn returned to stop
 * (then *ret_used, if not NULL, says how many bytes were taken).
 */
int dhp_proto_reader_push(struct dhp_proto_reader *r, const char *data, size_t n,
			  dhp_proto_line_fn fn, void *ctx, size_t *ret_used);

/* Forget a half line (after the channel was reopened). */
void dhp_proto_reader_reset(struct dhp_proto_reader *r);

#endif
