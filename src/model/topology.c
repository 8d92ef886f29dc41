/* SPDX-License-Identifier: MIT */
/*
 * Topology files. The format is line-oriented and specified in
 * docs/topology.md: a line needs no parser library, gives each error an
 * exact line number, and diffs well.
 *
 * This file is the grammar: the server, mode and socket lines, the lines
 * of the whole text, and reading files. The words of a line are
 * topology-scan.c's job, unit lines and the units of a socket block are
 * topology-units.c's; topology-internal.h is what they share.
 */
#include "model/topology.h"
#include "model/topology-internal.h"

#include <stdio.h>
#include <stdlib.h>

#include "common/fs.h"

/* --- server, mode and socket lines ------------------------------------- */

static int no_more_words(struct parser *ps, struct cursor *c, const char *after)
{
	struct span extra;

	if (topo_next_word(c, &extra))
		return topo_fail(ps, "trailing garbage \"" SPAN_FMT "\" after %s",
				 SPAN_ARG(extra), after);
	return 0;
}

/* Both must come before the first socket, which needs them: a second one
 * is the only way to place one after a socket. */
static int check_once(struct parser *ps, const char *what, unsigned first_line)
{
	if (first_line)
		return topo_fail(ps, "second \"%s\" line (the first is line %u)", what, first_line);
	return 0;
}

static int parse_server_line(struct parser *ps, struct cursor *c)
{
	struct span name;
	int r = check_once(ps, "server", ps->server_line);

	if (r)
		return r;
	if (!topo_next_word(c, &name))
		return topo_fail(ps, "\"server\" needs a name");
	snprintf(ps->server_name, sizeof(ps->server_name), SPAN_FMT, SPAN_ARG(name));
	if (name.len >= DHP_NAME_MAX || dhp_partition_name_check(ps->server_name))
		return topo_fail(ps, "bad server name \"" SPAN_FMT "\" (1 to 63 of A-Z a-z 0-9 . _ -, starting with a letter or digit)",
				 SPAN_ARG(name));
	ps->server_line = ps->line;
	return no_more_words(ps, c, "the server name");
}

static int parse_mode_line(struct parser *ps, struct cursor *c)
{
	struct span word;
	char mode[16];
	int r = check_once(ps, "mode", ps->mode_line);

	if (r)
		return r;
	if (!topo_next_word(c, &word))
		return topo_fail(ps, "\"mode\" needs a value: static or dynamic");
	snprintf(mode, sizeof(mode), SPAN_FMT, SPAN_ARG(word));
	if (word.len >= sizeof(mode) || dhp_mode_parse(mode, &ps->mode))
		return topo_fail(ps, "unknown mode \"" SPAN_FMT "\" (expected static or dynamic)",
				 SPAN_ARG(word));
	ps->mode_line = ps->line;
	return no_more_words(ps, c, "the mode");
}

/* The server is made here, once its name and mode are known. */
static int make_server(struct parser *ps)
{
	if (ps->server)
		return 0;
	if (!ps->server_line || !ps->mode_line)
		return topo_fail(ps, "socket before the \"%s\" line (server and mode come first)",
				 ps->server_line ? "mode" : "server");
	ps->server = dhp_server_new(ps->server_name, ps->mode);
	if (!ps->server)
		return dhp_error_set(ps->err, -ENOMEM, "%s:%u: out of memory", ps->name, ps->line);
	return 0;
}

static int parse_socket_line(struct parser *ps, struct cursor *c)
{
	struct span range;
	unsigned lo, hi;
	int r = make_server(ps);

	if (r)
		return r;
	if (!topo_next_word(c, &range))
		return topo_fail(ps, "\"socket\" needs a number or a range A-B");
	if (!topo_span_range(range, TOPO_SOCKETS_MAX - 1, &lo, &hi))
		return topo_fail(ps, "bad socket \"" SPAN_FMT "\" (a number or a range A-B of 0 to %u)",
				 SPAN_ARG(range), TOPO_SOCKETS_MAX - 1);
	for (unsigned s = lo; s <= hi; s++)
		if (ps->socket_line[s])
			return topo_fail(ps, "socket %u is defined twice (first on line %u)",
					 s, ps->socket_line[s]);
	for (unsigned s = lo; s <= hi; s++)
		ps->socket_line[s] = ps->line;
	ps->in_block = true;
	ps->block_line = ps->line;
	ps->first_socket = lo;
	ps->last_socket = hi;
	return no_more_words(ps, c, "the socket");
}

/* Distance lines may come before the sockets they name, but after the
 * server and mode, like everything about the server's inventory. */
static int parse_distance_line(struct parser *ps, struct cursor *c)
{
	if (!ps->server_line || !ps->mode_line)
		return topo_fail(ps, "distance before the \"%s\" line (server and mode come first)",
				 ps->server_line ? "mode" : "server");
	return topo_parse_distance_line(ps, c);
}

static int parse_top_line(struct parser *ps, struct span word, struct cursor *c)
{
	enum dhp_unit_type type;
	char w[16];
	int r = topo_end_block(ps);

	if (r)
		return r;
	if (span_is(word, "server"))
		return parse_server_line(ps, c);
	if (span_is(word, "mode"))
		return parse_mode_line(ps, c);
	if (span_is(word, "socket"))
		return parse_socket_line(ps, c);
	if (span_is(word, "distance"))
		return parse_distance_line(ps, c);
	snprintf(w, sizeof(w), SPAN_FMT, SPAN_ARG(word));
	if (word.len < sizeof(w) && !dhp_unit_type_parse(w, &type))
		return topo_fail(ps, "\"%s\" line must be indented under a socket line", w);
	return topo_fail(ps, "unknown word \"" SPAN_FMT "\" (expected server, mode, socket or distance)",
			 SPAN_ARG(word));
}

/* --- lines and the whole text ------------------------------------------ */

static int parse_line(struct parser *ps, const char *p, const char *end)
{
	struct cursor c = { p, end };
	struct span word;
	int r;

	if (end > p && end[-1] == '\r')		/* CRLF line ends */
		c.end = --end;
	if ((size_t)(end - p) > TOPO_LINE_MAX)
		return topo_fail(ps, "line is longer than %u characters", TOPO_LINE_MAX);
	if ((r = topo_check_chars(ps, p, end)))
		return r;
	/* Blank and comment lines do not end a socket block. */
	if (!topo_next_word(&c, &word))
		return 0;
	if (is_blank(*p))
		return topo_parse_unit_line(ps, word, &c);
	return parse_top_line(ps, word, &c);
}

static int finish(struct parser *ps)
{
	unsigned last = ps->line ? ps->line : 1;
	int r = topo_end_block(ps);

	if (r)
		return r;
	if (!ps->server_line)
		return topo_fail_at(ps, last, "end of file without a \"server\" line");
	if (!ps->mode_line)
		return topo_fail_at(ps, last, "end of file without a \"mode\" line");
	if (!ps->n_type[DHP_UNIT_PROCESSOR] || !ps->n_type[DHP_UNIT_MEMORY])
		return topo_fail_at(ps, ps->server_line,
				    "server \"%s\" needs at least one processor and one memory module",
				    ps->server_name);
	return topo_finish_distances(ps);
}

static int parse_text(const char *text, size_t len, const char *name,
		      struct dhp_server **ret_server, struct dhp_error *err)
{
	struct parser ps = { .name = name, .err = err };
	const char *p = text, *end = text + len;
	int r = 0;

	while (!r && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *eol = nl ? nl : end;

		ps.line++;
		r = parse_line(&ps, p, eol);
		p = nl ? nl + 1 : end;
	}
	if (!r)
		r = finish(&ps);
	topo_parser_release(&ps);
	if (r) {
		dhp_server_free(ps.server);
		return r;
	}
	*ret_server = ps.server;
	return 0;
}

int dhp_topology_parse(const char *text, const char *name,
		       struct dhp_server **ret_server, struct dhp_error *err)
{
	size_t len;

	if (!name)
		name = "topology";
	if (!text || !ret_server)
		return dhp_error_set(err, -EINVAL, "%s: no topology text", name);
	len = strnlen(text, TOPO_FILE_MAX + 1);
	if (len > TOPO_FILE_MAX)
		return dhp_error_set(err, -EINVAL, "%s: larger than 16 MiB", name);
	return parse_text(text, len, name, ret_server, err);
}

/* --- files -------------------------------------------------------------- */

static int file_error(struct dhp_error *err, const char *path, int code)
{
	char text[128];

	if (code == -EFBIG)
		return dhp_error_set(err, -EINVAL, "%s: larger than 16 MiB", path);
	return dhp_error_set(err, code, "%s: %s", path,
			     strerror_r(-code, text, sizeof(text)));
}

int dhp_topology_load(const char *path, struct dhp_server **ret_server,
		      struct dhp_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	if (!path || !ret_server)
		return dhp_error_set(err, -EINVAL, "no topology path");
	/* Not read past TOPO_FILE_MAX + 1 bytes: a file over the limit is
	 * seen without reading all of it. */
	r = dhp_read_file(path, TOPO_FILE_MAX, &text, &len, NULL);
	if (r)
		return file_error(err, path, r);
	r = parse_text(text, len, path, ret_server, err);
	free(text);
	return r;
}
