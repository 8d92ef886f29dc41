/* SPDX-License-Identifier: MIT */
/*
 * `console NAME [--follow] [--all]`: a partition's console log, what its OS
 * printed on its first serial port, from dhpd's
 * /redfish/v1/Systems/NAME/Oem/Dhp/Console (docs/redfish.md).
 *
 * Without options: the last 64 KiB (what dhpd sends without a Range).
 * --all: from the first byte, 64 KiB per request. --follow: then, every
 * FOLLOW_MS, the bytes after the last one printed (Range: bytes=N-), like
 * tail -f, until Ctrl-C (exit 0). An answer of 416 says there is nothing
 * after N; with a size below N the log started again (the partition
 * restarted): it is printed from its start, and said so on stderr.
 *
 * To a terminal, control characters other than newline and tab are shown
 * as '?' (a guest must not drive the user's terminal) and carriage
 * returns are dropped; to a pipe the bytes go as they are. With -o json,
 * each piece is a line {"partition", "offset", "size", "text"}.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http.h"

#define FOLLOW_MS 500
#define CHUNK (64 * 1024)	/* dhpd's most per answer: a full one means more */

struct console {
	struct ctl *ctl;
	const char *name;
	char path[256];
	bool tty;
	uint64_t next;		/* the next byte to ask for */
	uint64_t size;		/* of the log, as last seen */
};

/* "bytes A-B/S" or "bytes * /S" (no space); false when it is neither. */
static bool parse_content_range(const char *v, uint64_t *first, uint64_t *last,
				uint64_t *size)
{
	unsigned long long a, b, s;
	int n = 0;

	if (sscanf(v, "bytes */%llu%n", &s, &n) == 1 && !v[n]) {
		*first = *last = 0;
		*size = s;
		return true;
	}
	n = 0;
	if (sscanf(v, "bytes %llu-%llu/%llu%n", &a, &b, &s, &n) != 3 || v[n] || b < a || b >= s)
		return false;
	*first = a, *last = b, *size = s;
	return true;
}

static void print_text(const struct console *c, const char *data, size_t len)
{
	for (size_t i = 0; c->tty && i < len; i++) {
		unsigned char ch = (unsigned char)data[i];

		if (ch == '\r')
			continue;
		putchar((ch < 0x20 && ch != '\n' && ch != '\t') || ch == 0x7f ? '?' : ch);
	}
	if (!c->tty)
		fwrite(data, 1, len, stdout);
}

/* One JSON line per piece; bytes that are not UTF-8 become '?'. */
static void print_json(const struct console *c, uint64_t offset, const char *data, size_t len)
{
	json_t *text = json_stringn(data, len), *line;

	if (!text) {
		char *copy = malloc(len + 1);

		for (size_t i = 0; copy && i < len; i++)
			copy[i] = (unsigned char)data[i] < 0x80 && data[i] ? data[i] : '?';
		text = copy ? json_stringn(copy, len) : NULL;
		free(copy);
	}
	line = json_pack("{ss sI sI so*}", "partition", c->name, "offset", (json_int_t)offset,
			 "size", (json_int_t)c->size, "text", text);
	if (line) {
		char *s = json_dumps(line, JSON_COMPACT);

		if (s)
			printf("%s\n", s);
		free(s);
	}
	json_decref(line);
}

/*
 * Ask for the log: its tail (ranged false), or from c->next on. Prints
 * what comes and moves c->next past it. Returns the number of bytes
 * printed (0: nothing new), or a negative errno with err set. A log
 * shorter than c->next started again: c->next goes back to 0.
 */
static long long fetch(struct console *c, bool ranged, struct ctl_error *err)
{
	struct http_reply reply;
	char header[64];
	uint64_t first = 0, last = 0, size = 0;
	long long n;
	int r;

	snprintf(header, sizeof(header), "Range: bytes=%" PRIu64 "-", c->next);
	r = http_call_header(c->ctl->http, "GET", c->path, NULL, NULL, ranged ? header : NULL,
			     &reply, err);
	if (r < 0 && reply.status == 416 &&
	    parse_content_range(reply.content_range, &first, &last, &size)) {
		memset(err, 0, sizeof(*err));
		if (size < c->next) {
			fprintf(stderr, PROG ": the console log of %s started again (%" PRIu64
				" bytes; the partition restarted?)\n", c->name, size);
			c->next = 0;
		}
		c->size = size;
		http_reply_release(&reply);
		return 0;
	}
	if (r < 0) {
		http_reply_release(&reply);
		return r;
	}
	if (reply.status == 206 &&
	    !parse_content_range(reply.content_range, &first, &last, &size)) {
		http_reply_release(&reply);
		return ctl_error_set(err, CTL_EXIT_UNREACHABLE, "is the URL that of dhpd?",
				     "a console answer without a usable Content-Range (\"%s\")",
				     reply.content_range);
	}
	if (reply.status != 206)	/* 200: the whole log */
		size = reply.len;
	c->size = size;
	c->next = first + reply.len;
	if (c->ctl->json)
		print_json(c, first, reply.body ? reply.body : "", reply.len);
	else
		print_text(c, reply.body ? reply.body : "", reply.len);
	n = (long long)reply.len;
	http_reply_release(&reply);
	if (fflush(stdout) || ferror(stdout))
		return -EPIPE;	/* nobody reads (dhpctl console | head) */
	return n;
}

/* Until the end of the log: each full answer means there is more. */
static long long drain(struct console *c, struct ctl_error *err)
{
	long long n;

	do
		n = fetch(c, true, err);
	while (n >= CHUNK && !ctl_interrupted());
	return n;
}

int cmd_console(struct ctl *ctl, const struct ctl_args *args)
{
	struct console c = { .ctl = ctl, .name = args->v[0], .tty = isatty(STDOUT_FILENO) };
	bool follow = ctl_arg_opt(args, "follow") != NULL, all = ctl_arg_opt(args, "all") != NULL;
	struct ctl_error err = { 0 };
	long long n;

	if (!ctl_valid_name(c.name))
		return ctl_usage("bad partition name \"%s\"", c.name);
	snprintf(c.path, sizeof(c.path), "/redfish/v1/Systems/%s/Oem/Dhp/Console", c.name);
	n = all ? drain(&c, &err) : fetch(&c, false, &err);
	while (n >= 0 && follow && !ctl_interrupted()) {
		if (sleep_ms(FOLLOW_MS) < 0)
			break;
		n = drain(&c, &err);
	}
	if (n == -EPIPE)
		return CTL_EXIT_OK;
	/* Ctrl-C ends following, as it ends `events --follow`. */
	if (n < 0 && (!follow || err.exit_code != CTL_EXIT_INTERRUPTED))
		return ctl_error_print(&err);
	return CTL_EXIT_OK;
}
