/* SPDX-License-Identifier: MIT */
/*
 * Private to the topology parser (src/model/topology*.c), which is split
 * by job:
 *
 *   topology-scan.c   the words of a line: words, key=value pairs, quoted
 *                     values, numbers, ranges, comments, bad characters
 *   topology-units.c  unit lines: their keys, and making the units of a
 *                     socket block once per socket
 *   topology-distance.c  distance lines: the sockets' NUMA distance table
 *   topology.c        the grammar: server, mode and socket lines, the
 *                     whole text, files; implements model/topology.h
 *
 * The parser works on (pointer, length) slices of the text, so nothing is
 * copied until a unit is made. Every error is "NAME:LINE: what", set
 * through topo_fail_at().
 */
#ifndef DHP_MODEL_TOPOLOGY_INTERNAL_H
#define DHP_MODEL_TOPOLOGY_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/error.h"
#include "model/server.h"
#include "model/unit.h"

/* --- limits (docs/topology.md) ------------------------------------------ */

#define TOPO_FILE_MAX		(16u << 20)
#define TOPO_LINE_MAX		1024u
#define TOPO_COUNT_MAX		4096u
#define TOPO_MODEL_MAX		63u
#define TOPO_SOCKETS_MAX	256u
/* Five times the largest real server (12,544 units); bounds the memory a
 * hostile file can make us allocate. */
#define TOPO_UNITS_MAX		65536u
/* Linux's largest NR_CPUS on x86-64. */
#define TOPO_HOST_CPUS_MAX	8192u
/* The memory block size: hot add and remove work in these. */
#define TOPO_MEMORY_BLOCK	(128ull << 20)
/* Keeps the sum of every module's size (at most TOPO_UNITS_MAX) in 64 bits. */
#define TOPO_MODULE_MAX		(64ull << 40)
/* A serial or part number as written (serial: before {id} is replaced,
 * which adds at most DHP_UNIT_ID_MAX - 5 characters). SMBIOS and Redfish
 * set no limit; inventories print them in a column. */
#define TOPO_SERIAL_MAX		31u
#define TOPO_PART_MAX		31u
/* ACPI SLIT: 10 is a socket to itself, 255 "unreachable". */
#define TOPO_DISTANCE_MAX	254u
/* Longest user text quoted back in an error message. */
#define TOPO_QUOTE_MAX		40

/* --- slices of the text -------------------------------------------------- */

struct span {
	const char *p;
	size_t len;
};

/* Quotes a span in an error message, cut to TOPO_QUOTE_MAX characters. */
#define SPAN_FMT "%.*s"
#define SPAN_ARG(s) (int)((s).len < TOPO_QUOTE_MAX ? (s).len : TOPO_QUOTE_MAX), (s).p

/* The unread rest of a line. */
struct cursor {
	const char *p, *end;
};

static inline bool span_is(struct span s, const char *word)
{
	return s.len == strlen(word) && !memcmp(s.p, word, s.len);
}

static inline bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* --- the parser's state -------------------------------------------------- */

/* One unit line of the open socket block. */
struct unit_line {
	unsigned line;
	enum dhp_unit_type type;
	unsigned count;
	struct span model, devices;	/* devices.p is NULL when absent */
	struct span serial, part;	/* .p NULL when absent */
	uint64_t size_bytes;
	unsigned host_lo, host_hi;	/* host-cpus, when has_host */
	bool has_host;
};

struct parser {
	const char *name;
	struct dhp_error *err;
	unsigned line;			/* the line being read, from 1 */

	char server_name[DHP_NAME_MAX];
	unsigned server_line, mode_line;	/* 0 until seen */
	enum dhp_partitioning_mode mode;
	struct dhp_server *server;	/* made at the first socket line */

	bool in_block;
	unsigned block_line, first_socket, last_socket;
	struct unit_line *lines;	/* caller frees with free() */
	size_t n_lines, cap_lines;
	size_t block_units;		/* units per socket of the block */

	/* The serials of the units made so far (positions in
	 * server->units): a serial names one unit in the whole file. */
	struct dhp_strindex serials;

	unsigned socket_line[TOPO_SOCKETS_MAX];	/* 0 when not defined */
	/* The distance table as the distance lines set it, TOPO_SOCKETS_MAX
	 * squared, 0 where unset; NULL until the first distance line. */
	uint8_t *dist;
	unsigned dist_line;				/* the first distance line */
	unsigned dist_socket_line[TOPO_SOCKETS_MAX];	/* first naming each socket */
	unsigned char host_used[TOPO_HOST_CPUS_MAX / 8];
	unsigned n_type[DHP_UNIT_TYPE_MAX];
};

/* --- topology-scan.c ----------------------------------------------------- */

/* Sets ps->err to -EINVAL "NAME:LINE: what" and returns -EINVAL. */
__attribute__((format(printf, 3, 4)))
int topo_fail_at(struct parser *ps, unsigned line, const char *fmt, ...);
/* The same, at the line being read. */
#define topo_fail(ps, ...) topo_fail_at((ps), (ps)->line, __VA_ARGS__)

/* Reads the next blank-separated word; false at the end of the line or at
 * a comment (a '#' at the start of a word). */
bool topo_next_word(struct cursor *c, struct span *ret_word);

/* Reads key=value, or key="value" (ret_val without the quotes). 1 when
 * one was read, 0 at the end of the line, or an error. */
int topo_next_key(struct parser *ps, struct cursor *c, struct span *ret_key,
		  struct span *ret_val);

/* Decimal digits only, at most max; false otherwise. */
bool topo_span_uint(struct span s, uint64_t max, uint64_t *ret);

/* "N" or "A-B" with A <= B <= max; false otherwise. */
bool topo_span_range(struct span s, unsigned max, unsigned *ret_lo, unsigned *ret_hi);

/* An error for a NUL or a control character other than tab in [p, end). */
int topo_check_chars(struct parser *ps, const char *p, const char *end);

/* --- topology-distance.c ------------------------------------------------ */

/* Reads a "distance A B VALUE" line (after its first word). */
int topo_parse_distance_line(struct parser *ps, struct cursor *c);

/* At the end of the file: checks the table against the sockets defined
 * and gives it to the server. Nothing when there was no distance line. */
int topo_finish_distances(struct parser *ps);

/* --- topology-units.c ---------------------------------------------------- */

/* Reads an indented line whose first word is word into the open block. */
int topo_parse_unit_line(struct parser *ps, struct span word, struct cursor *c);

/* Ends the open socket block, if any: makes its units, socket by socket,
 * lines in order, in ps->server. */
int topo_end_block(struct parser *ps);

/* Frees what the parser holds besides the server. */
void topo_parser_release(struct parser *ps);

#endif
