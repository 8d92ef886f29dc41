/* SPDX-License-Identifier: MIT */
/*
 * The agent protocol (src/proto) and dhp-agent (src/agent).
 *
 * First the codec: every message round trips; every kind of malformed line
 * (truncated, wrong types, bad escapes, deep nesting, over the cap, NUL
 * bytes, unknown type, missing id, a newer version) is refused with a clear
 * error and no crash; unknown keys are ignored; the line reader resyncs.
 * Then the real build/dhp-agent against a fake sysfs tree, over a unix
 * socket (--socket) and a pty (--device): its hello matches the tree,
 * requests change the tree's files, a write the kernel would refuse comes
 * back as an error reply with its errno, and bad input never stops it.
 */
#include "harness.h"
#include "lines.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "proto/guest.h"
#include "proto/line.h"
#include "proto/proto.h"
#include "proto/records.h"

#define BS 134217728ull		/* the fake tree's memory block size */

static struct dhp_proto_msg *msg_new(enum dhp_proto_type type)
{
	struct dhp_proto_msg *m = calloc(1, sizeof(*m));

	if (!m)
		abort();
	m->type = type;
	return m;
}

/* Encode then decode; the decoded copy, or NULL (a failed CHECK). */
static struct dhp_proto_msg *round_trip(const struct dhp_proto_msg *in, size_t *ret_len)
{
	struct dhp_proto_msg *out = msg_new(DHP_PROTO_HELLO);
	struct dhp_error err = { 0 };
	char buf[DHP_PROTO_LINE_MAX + 1];
	size_t len = 0;
	int r;

	r = dhp_proto_encode(in, buf, sizeof(buf), &len, &err);
	CHECK_MSG(r == 0, "encode: %s", err.message);
	CHECK(len <= DHP_PROTO_LINE_MAX && len == strlen(buf) && buf[len - 1] == '\n');
	CHECK(!memchr(buf, '\n', len - 1));
	r = r ? r : dhp_proto_decode(buf, len - 1, out, &err);
	CHECK_MSG(r == 0, "decode: %s: %s", err.message, buf);
	if (ret_len)
		*ret_len = len;
	if (r) {
		free(out);
		return NULL;
	}
	CHECK_INT(out->type, in->type);
	return out;
}

static void fill_state(struct dhp_proto_state *s, size_t runs, size_t pci)
{
	snprintf(s->cpus_online, sizeof(s->cpus_online), "0-1,3");
	snprintf(s->cpus_present, sizeof(s->cpus_present), "0-3");
	snprintf(s->cpus_possible, sizeof(s->cpus_possible), "0-15");
	s->block_size = BS;
	for (size_t i = 0; i < runs; i++) {
		s->runs[i] = (struct dhp_proto_mem_run){ .index = 32 + 10 * i, .count = 1 + i % 8,
			.state = (enum dhp_proto_mem_state)(i % DHP_PROTO_MEM_STATE_MAX),
			.removable = i % 2 };
		if (s->runs[i].state == DHP_PROTO_MEM_ONLINE)
			snprintf(s->runs[i].zone, sizeof(s->runs[i].zone), "Movable");
	}
	s->n_runs = runs;
	for (size_t i = 0; i < pci; i++) {
		snprintf(s->pci[i].slot, sizeof(s->pci[i].slot), "0000:%02zx:%02zx.%zu", i / 32,
			 i % 32, i % 8);
		s->pci[i].vendor = 0x1af4;
		s->pci[i].device = (uint16_t)(0x1000 + i);
		s->pci[i].class = 0x020000;
	}
	s->n_pci = pci;
}

static void check_state(const struct dhp_proto_state *a, const struct dhp_proto_state *b)
{
	CHECK_STR(a->cpus_online, b->cpus_online);
	CHECK_STR(a->cpus_present, b->cpus_present);
	CHECK_STR(a->cpus_possible, b->cpus_possible);
	CHECK_INT(a->block_size, b->block_size);
	CHECK_INT(a->n_runs, b->n_runs);
	for (size_t i = 0; i < a->n_runs && i < b->n_runs; i++) {
		CHECK_INT(a->runs[i].index, b->runs[i].index);
		CHECK_INT(a->runs[i].count, b->runs[i].count);
		CHECK_INT(a->runs[i].state, b->runs[i].state);
		CHECK_INT(a->runs[i].removable, b->runs[i].removable);
		CHECK_STR(a->runs[i].zone, b->runs[i].zone);
	}
	CHECK_INT(a->n_pci, b->n_pci);
	for (size_t i = 0; i < a->n_pci && i < b->n_pci; i++) {
		CHECK_STR(a->pci[i].slot, b->pci[i].slot);
		CHECK_INT(a->pci[i].vendor, b->pci[i].vendor);
		CHECK_INT(a->pci[i].device, b->pci[i].device);
		CHECK_INT(a->pci[i].class, b->pci[i].class);
	}
	CHECK_INT(a->truncated, b->truncated);
}

static void test_names(void)
{
	enum dhp_proto_op op;
	enum dhp_proto_note note;
	enum dhp_proto_result res;
	enum dhp_proto_unit_kind kind;
	enum dhp_proto_event_kind ev;
	enum dhp_proto_type type;
	enum dhp_proto_mem_state st;

	for (unsigned i = 0; i < DHP_PROTO_OP_MAX; i++)
		CHECK(!dhp_proto_op_parse(dhp_proto_op_name(i), &op) && op == i);
	for (unsigned i = 0; i < DHP_PROTO_NOTE_MAX; i++)
		CHECK(!dhp_proto_note_parse(dhp_proto_note_name(i), &note) && note == i);
	for (unsigned i = 0; i < DHP_PROTO_RESULT_MAX; i++)
		CHECK(!dhp_proto_result_parse(dhp_proto_result_name(i), &res) && res == i);
	for (unsigned i = 0; i < DHP_PROTO_UNIT_KIND_MAX; i++)
		CHECK(!dhp_proto_unit_kind_parse(dhp_proto_unit_kind_name(i), &kind) && kind == i);
	for (unsigned i = 0; i < DHP_PROTO_EVENT_KIND_MAX; i++)
		CHECK(!dhp_proto_event_kind_parse(dhp_proto_event_kind_name(i), &ev) && ev == i);
	for (unsigned i = 0; i < DHP_PROTO_TYPE_MAX; i++)
		CHECK(!dhp_proto_type_parse(dhp_proto_type_name(i), &type) && type == i);
	for (unsigned i = 0; i < DHP_PROTO_MEM_STATE_MAX; i++)
		CHECK(!dhp_proto_mem_state_parse(dhp_proto_mem_state_name(i), &st) && st == i);
	for (unsigned i = 0; i < DHP_PROTO_CAP_COUNT; i++)
		CHECK_INT(dhp_proto_cap_parse(dhp_proto_cap_name(1u << i)), 1u << i);
	CHECK_INT(dhp_proto_cap_parse("teleport"), 0);
	CHECK_STR(dhp_proto_note_name(DHP_PROTO_NOTE_MAX), "?");
	CHECK(dhp_proto_op_parse("fly", &op) == -EINVAL);
	CHECK(dhp_proto_note_vetoable(DHP_PROTO_NOTE_ADD_START));
	CHECK(dhp_proto_note_vetoable(DHP_PROTO_NOTE_REMOVE_QUERY));
	CHECK(!dhp_proto_note_vetoable(DHP_PROTO_NOTE_REPLACE_START));
	CHECK(dhp_proto_slot_valid("0000:00:1c.0") && dhp_proto_slot_valid("0000:AF:1F.7"));
	CHECK(!dhp_proto_slot_valid("../../../etc") && !dhp_proto_slot_valid("0000:00:1c.0/"));
	CHECK(!dhp_proto_slot_valid("0000:00:1c") && !dhp_proto_slot_valid(""));
}

static void test_hello_round_trip(void)
{
	struct dhp_proto_msg *in = msg_new(DHP_PROTO_HELLO), *out;

	in->hello.version = DHP_PROTO_VERSION;
	snprintf(in->hello.agent, sizeof(in->hello.agent), "dhp-agent 0.1");
	snprintf(in->hello.kernel, sizeof(in->hello.kernel), "6.1.0-28-cloud-amd64");
	snprintf(in->hello.profile, sizeof(in->hello.profile), "linux");
	in->hello.caps = (1u << DHP_PROTO_CAP_COUNT) - 1;
	in->hello.has_state = true;
	fill_state(&in->hello.state, 6, 5);
	out = round_trip(in, NULL);
	if (out) {
		CHECK_INT(out->hello.version, 1);
		CHECK_STR(out->hello.agent, "dhp-agent 0.1");
		CHECK_STR(out->hello.kernel, in->hello.kernel);
		CHECK_STR(out->hello.profile, "linux");
		CHECK_INT(out->hello.caps, in->hello.caps);
		CHECK(out->hello.has_state);
		check_state(&in->hello.state, &out->hello.state);
	}
	free(out);
	/* dhpd's own hello: a version and a name, no state. */
	memset(in, 0, sizeof(*in));
	in->type = DHP_PROTO_HELLO;
	in->hello.version = 1;
	snprintf(in->hello.agent, sizeof(in->hello.agent), "dhpd 0.1");
	out = round_trip(in, NULL);
	CHECK(out && !out->hello.has_state && !out->hello.caps);
	free(out);
	free(in);
}

static const struct dhp_proto_unit units[] = {
	{ .kind = DHP_PROTO_UNIT_PROCESSOR, .cpu = 3 },
	{ .kind = DHP_PROTO_UNIT_MEMORY, .phys_addr = 0x100000000ull, .size = 1ull << 30 },
	{ .kind = DHP_PROTO_UNIT_IO_HOST_BRIDGE, .slot = "0000:00:1c.0" },
	{ .kind = DHP_PROTO_UNIT_IO_HOST_BRIDGE },
};
#define N_UNITS (sizeof(units) / sizeof(units[0]))

static void check_unit(const struct dhp_proto_unit *a, const struct dhp_proto_unit *b)
{
	CHECK_INT(a->kind, b->kind);
	CHECK_INT(a->cpu, b->cpu);
	CHECK_INT(a->phys_addr, b->phys_addr);
	CHECK_INT(a->size, b->size);
	CHECK_STR(a->slot, b->slot);
}

static void test_request_round_trip(void)
{
	struct dhp_proto_msg *in = msg_new(DHP_PROTO_REQUEST), *out;

	for (unsigned op = 0; op < DHP_PROTO_OP_MAX; op++) {
		for (unsigned u = 0; u < N_UNITS; u++) {
			for (unsigned note = 0; note < DHP_PROTO_NOTE_MAX; note++) {
				if (op != DHP_PROTO_OP_NOTIFY && note)
					break;
				in->request = (struct dhp_proto_request){ .id = 7 + op, .op = op,
					.note = note, .has_unit = true, .unit = units[u] };
				out = round_trip(in, NULL);
				if (!out)
					continue;
				CHECK_INT(out->request.id, 7 + op);
				CHECK_INT(out->request.op, op);
				CHECK_INT(out->request.note, note);
				CHECK(out->request.has_unit);
				check_unit(&out->request.unit, &units[u]);
				free(out);
			}
		}
	}
	/* ping, report and hello need no unit. */
	in->request = (struct dhp_proto_request){ .id = UINT32_MAX + 5ull,
						  .op = DHP_PROTO_OP_PING };
	out = round_trip(in, NULL);
	CHECK(out && !out->request.has_unit && out->request.id == UINT32_MAX + 5ull);
	free(out);
	free(in);
}

static void test_reply_event_round_trip(void)
{
	struct dhp_proto_msg *in = msg_new(DHP_PROTO_REPLY), *out;

	for (unsigned res = 0; res < DHP_PROTO_RESULT_MAX; res++) {
		in->reply = (struct dhp_proto_reply){ .id = 9, .result = res };
		if (res == DHP_PROTO_ERROR || res == DHP_PROTO_DENY) {
			in->reply.code = -EBUSY;
			snprintf(in->reply.reason, sizeof(in->reply.reason),
				 "memory block 33: \"busy\"\n\t\\ üñí");
		}
		out = round_trip(in, NULL);
		if (out) {
			CHECK_INT(out->reply.result, res);
			CHECK_INT(out->reply.code, in->reply.code);
			CHECK_STR(out->reply.reason, in->reply.reason);
			CHECK(!out->reply.has_state);
		}
		free(out);
	}
	in->reply = (struct dhp_proto_reply){ .id = 10, .result = DHP_PROTO_OK,
					      .has_state = true };
	fill_state(&in->reply.state, 3, 2);
	out = round_trip(in, NULL);
	if (out)
		check_state(&in->reply.state, &out->reply.state);
	free(out);

	in->type = DHP_PROTO_EVENT;
	for (unsigned k = 0; k < DHP_PROTO_EVENT_KIND_MAX; k++) {
		in->event = (struct dhp_proto_event){ .kind = k, .has_unit = k != DHP_PROTO_EVENT_ERROR,
						      .unit = units[k % N_UNITS] };
		if (k == DHP_PROTO_EVENT_ERROR) {
			in->event.code = -EINVAL;
			snprintf(in->event.reason, sizeof(in->event.reason), "not JSON");
		}
		out = round_trip(in, NULL);
		if (out) {
			CHECK_INT(out->event.kind, k);
			CHECK_INT(out->event.has_unit, in->event.has_unit);
			if (in->event.has_unit)
				check_unit(&out->event.unit, &in->event.unit);
			CHECK_INT(out->event.code, in->event.code);
			CHECK_STR(out->event.reason, in->event.reason);
		}
		free(out);
	}
	free(in);
}

/* Reasons and names are for people and come as bytes from kernels and
 * applications: a long one is cut on a whole character, and invalid UTF-8
 * is sent with '?' in its place, never refused by the encoder. */
static void test_text_utf8(void)
{
	struct dhp_proto_msg *in = msg_new(DHP_PROTO_REPLY), *out;
	char line[DHP_PROTO_LINE_MAX + 1], text[64];
	struct dhp_error err = { 0 };
	size_t len = 0, n;

	/* 300 "é" (2 bytes each): a 255-byte cut falls inside one. */
	n = (size_t)snprintf(line, sizeof(line), "{\"type\":\"reply\",\"id\":1,\"result\":\"error\",\"reason\":\"");
	for (int i = 0; i < 300; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "\u00e9");
	n += (size_t)snprintf(line + n, sizeof(line) - n, "\"}");
	out = calloc(1, sizeof(*out));
	CHECK_MSG(dhp_proto_decode(line, n, out, &err) == 0, "decode: %s", err.message);
	CHECK_INT(strlen(out->reply.reason), DHP_PROTO_TEXT_MAX - 2);	/* 127 "é" */
	/* ... and sent on unchanged. */
	CHECK_MSG(dhp_proto_encode(out, line, sizeof(line), &len, &err) == 0, "encode: %s",
		  err.message);
	free(out);

	/* Bytes that are not UTF-8 (a cut lead byte, a stray continuation,
	 * a surrogate) become '?'. */
	snprintf(text, sizeof(text), "busy \xc3 \x80 \xed\xa0\x80 ok \xc3\xa9");
	in->reply = (struct dhp_proto_reply){ .id = 2, .result = DHP_PROTO_ERROR, .code = -EBUSY };
	snprintf(in->reply.reason, sizeof(in->reply.reason), "%s", text);
	out = round_trip(in, NULL);
	if (out)
		CHECK_STR(out->reply.reason, "busy ? ? ??? ok \xc3\xa9");
	free(out);
	free(in);
}

/* A state larger than a line: cut, marked, still a valid line. */
static void test_truncation(void)
{
	struct dhp_proto_msg *in = msg_new(DHP_PROTO_HELLO), *out;
	char small[64];
	size_t len = 0;

	in->hello.version = 1;
	in->hello.has_state = true;
	fill_state(&in->hello.state, DHP_PROTO_RUNS_MAX, DHP_PROTO_PCI_MAX);
	out = round_trip(in, &len);
	if (out) {
		CHECK(out->hello.state.truncated);
		CHECK(out->hello.state.n_pci < DHP_PROTO_PCI_MAX);
		CHECK(len > DHP_PROTO_LINE_MAX - 200);
		/* Cut from the end: what is there is the beginning. */
		for (size_t i = 0; i < out->hello.state.n_runs; i++)
			CHECK_INT(out->hello.state.runs[i].index, in->hello.state.runs[i].index);
	}
	free(out);
	/* Anything else that does not fit is refused whole. */
	in->type = DHP_PROTO_EVENT;
	in->event = (struct dhp_proto_event){ .kind = DHP_PROTO_EVENT_ERROR };
	memset(in->event.reason, 'x', sizeof(in->event.reason) - 1);
	CHECK_INT(dhp_proto_encode(in, small, sizeof(small), &len, NULL), -EMSGSIZE);
	/* Our own bugs are -EINVAL, not "?" on the wire. */
	in->event.kind = DHP_PROTO_EVENT_KIND_MAX;
	CHECK_INT(dhp_proto_encode(in, small, sizeof(small), &len, NULL), -EINVAL);
	free(in);
}

struct lines {
	char got[8][64];
	int rc[8];
	unsigned n;
	unsigned stop_at;	/* stop after this many lines (0: never) */
};

static int collect(void *ctx, const char *line, size_t len, int rc)
{
	struct lines *l = ctx;

	if (l->n < 8) {
		snprintf(l->got[l->n], sizeof(l->got[0]), "%.*s", (int)(len < 63 ? len : 63),
			 line ? line : "");
		l->rc[l->n] = rc;
	}
	l->n++;
	return l->stop_at && l->n == l->stop_at ? 1 : 0;
}

static void test_line_reader(void)
{
	static char big[3 * DHP_PROTO_LINE_MAX];
	static const char two[] = "one\ntwo\n";
	struct dhp_proto_reader r;
	struct lines l = { 0 };
	size_t used = 0;

	dhp_proto_reader_init(&r);
	/* Split anywhere, CRLF tolerated, empty lines skipped. */
	CHECK_INT(dhp_proto_reader_push(&r, "ab", 2, collect, &l, NULL), 0);
	CHECK_INT(dhp_proto_reader_push(&r, "c\r\n\n\nde", 7, collect, &l, NULL), 0);
	CHECK_INT(dhp_proto_reader_push(&r, "f\n", 2, collect, &l, NULL), 0);
	CHECK_INT(l.n, 2);
	CHECK_STR(l.got[0], "abc");
	CHECK_STR(l.got[1], "def");

	/* Exactly the cap with the newline passes; one more byte does not,
	 * is reported once, and the reader resyncs at the next newline. */
	memset(&l, 0, sizeof(l));
	memset(big, 'a', DHP_PROTO_LINE_MAX - 1);
	big[DHP_PROTO_LINE_MAX - 1] = '\n';
	CHECK_INT(dhp_proto_reader_push(&r, big, DHP_PROTO_LINE_MAX, collect, &l, NULL), 0);
	CHECK_INT(l.n, 1);
	CHECK_INT(l.rc[0], 0);
	memset(&l, 0, sizeof(l));
	memset(big, 'b', sizeof(big));
	CHECK_INT(dhp_proto_reader_push(&r, big, DHP_PROTO_LINE_MAX, collect, &l, NULL), 0);
	CHECK_INT(dhp_proto_reader_push(&r, big, sizeof(big), collect, &l, NULL), 0);
	CHECK_INT(dhp_proto_reader_push(&r, "bb\nok\n", 6, collect, &l, NULL), 0);
	CHECK_INT(l.n, 2);
	CHECK_INT(l.rc[0], -EMSGSIZE);
	CHECK_STR(l.got[1], "ok");
	CHECK_INT(l.rc[1], 0);

	/* A callback may stop the reader; the rest is pushed again. */
	memset(&l, 0, sizeof(l));
	l.stop_at = 1;
	CHECK_INT(dhp_proto_reader_push(&r, two, 8, collect, &l, &used), 1);
	CHECK_INT(used, 4);
	l.stop_at = 0;
	CHECK_INT(dhp_proto_reader_push(&r, &two[used], 8 - used, collect, &l, NULL), 0);
	CHECK_INT(l.n, 2);
	CHECK_STR(l.got[1], "two");
	/* A half line is forgotten on reset. */
	memset(&l, 0, sizeof(l));
	dhp_proto_reader_push(&r, "half", 4, collect, &l, NULL);
	dhp_proto_reader_reset(&r);
	dhp_proto_reader_push(&r, "whole\n", 6, collect, &l, NULL);
	CHECK_STR(l.got[0], "whole");
}

struct bad {
	const char *line;
	int code;
	const char *says;	/* a part of the message */
};

static const struct bad bad_lines[] = {
	/* truncated */
	{ "{\"type\":\"request\",\"id\":1,\"op\":\"ping\"", -EINVAL, "not JSON" },
	{ "{\"type\":\"req", -EINVAL, "not JSON" },
	{ "", -EINVAL, "not JSON" },
	/* not an object */
	{ "[1,2]", -EINVAL, "must be a JSON object" },
	{ "\"hello\"", -EINVAL, "not JSON" },
	/* wrong types */
	{ "{\"type\":7}", -EINVAL, "\"type\" must be a string" },
	{ "{\"type\":\"request\",\"id\":\"7\",\"op\":\"ping\"}", -EINVAL, "\"id\" must be an integer" },
	{ "{\"type\":\"request\",\"id\":1.5,\"op\":\"ping\"}", -EINVAL, "\"id\" must be an integer" },
	{ "{\"type\":\"request\",\"id\":-1,\"op\":\"ping\"}", -EINVAL, "outside" },
	{ "{\"type\":\"request\",\"id\":1,\"op\":3}", -EINVAL, "\"op\" must be a string" },
	{ "{\"type\":\"request\",\"id\":1,\"op\":\"online\",\"unit\":[]}", -EINVAL, "\"unit\" must be an object" },
	{ "{\"type\":\"request\",\"id\":1,\"op\":\"online\",\"unit\":{\"kind\":\"processor\",\"cpu\":\"3\"}}", -EINVAL, "\"cpu\" must be an integer" },
	{ "{\"type\":\"request\",\"id\":1,\"op\":\"online\",\"unit\":{\"kind\":\"memory\",\"phys_addr\":-4096,\"size\":1}}", -EINVAL, "outside" },
	{ "{\"type\":\"request\",\"id\":1,\"op\":\"online\",\"unit\":{\"kind\":\"memory\",\"phys_addr\":0,\"size\":0}}", -EINVAL, "outside" },
	{ "{\"type\":\"request\",\"id\":1,\"op\":\"online\",\"unit\":{\"kind\":\"dimm\"}}", -EINVAL, "unknown kind" },
	{ "{\"type\":\"reply\",\"id\":1,\"result\":\"ok\",\"errno\":\"EBUSY\"}", -EINVAL, "\"errno\" must be an integer" },
	{ "{\"type\":\"reply\",\"id\":1,\"result\":\"ok\",\"errno\":99999}", -EINVAL, "outside" },
	{ "{\"type\":\"reply\",\"id\":1,\"result\":\"maybe\"}", -EINVAL, "unknown result" },
	{ "{\"type\":\"hello\",\"version\":1,\"capabilities\":\"all\"}", -EINVAL, "\"capabilities\" must be an array" },
	{ "{\"type\":\"hello\",\"version\":1,\"capabilities\":[1]}", -EINVAL, "must be strings" },
	{ "{\"type\":\"hello\",\"version\":\"1\"}", -EINVAL, "\"version\" must be an integer" },
	{ "{\"type\":\"hello\",\"version\":1,\"memory\":{\"blocks\":[{\"index\":1,\"state\":\"online\",\"removable\":\"yes\"}]}}", -EINVAL, "true or false" },
	{ "{\"type\":\"hello\",\"version\":1,\"memory\":{\"blocks\":[{\"index\":1,\"state\":\"melted\",\"removable\":true}]}}", -EINVAL, "unknown state" },
	{ "{\"type\":\"hello\",\"version\":1,\"memory\":{\"blocks\":[7]}}", -EINVAL, "must be an object" },
	{ "{\"type\":\"hello\",\"version\":1,\"pci\":[{\"slot\":\"0000:00:01.0\",\"vendor\":\"1af4\",\"device\":\"0x1000\",\"class\":\"0x020000\"}]}", -EINVAL, "hex digits" },
	{ "{\"type\":\"hello\",\"version\":1,\"cpus\":{\"online\":[0,1]}}", -EINVAL, "\"online\" must be a string" },
	/* bad escapes, bad UTF-8 */
	{ "{\"type\":\"event\",\"event\":\"error\",\"reason\":\"\\q\"}", -EINVAL, "not JSON" },
	{ "{\"type\":\"event\",\"event\":\"error\",\"reason\":\"\\u12\"}", -EINVAL, "not JSON" },
	{ "{\"type\":\"event\",\"event\":\"error\",\"reason\":\"\\ud800\"}", -EINVAL, "not JSON" },
	{ "{\"type\":\"event\",\"event\":\"error\",\"reason\":\"\xff\xfe\"}", -EINVAL, "not JSON" },
	{ "{\"type\":\"event\",\"event\":\"error\",\"reason\":\"\\u0000\"}", -EINVAL, "not JSON" },
	{ "{\"type\":\"event\",\"event\":\"error\",\"reason\":\"a\tb\"}", -EINVAL, "not JSON" },
	/* deep nesting, even in a key nobody reads */
	{ "{\"type\":\"request\",\"id\":1,\"op\":\"ping\",\"x\":[[[[[[[[1]]]]]]]]}", -EINVAL, "nested deeper" },
	/* unknown type, op, note; missing keys */
	{ "{\"type\":\"greeting\",\"id\":3}", -EINVAL, "unknown type" },
	{ "{\"id\":3,\"op\":\"ping\"}", -EINVAL, "\"type\" is missing" },
	{ "{\"type\":\"request\",\"op\":\"ping\"}", -EINVAL, "\"id\" is missing" },
	{ "{\"type\":\"request\",\"id\":4,\"op\":\"fly\"}", -EINVAL, "unknown op" },
	{ "{\"type\":\"request\",\"id\":4}", -EINVAL, "\"op\" is missing" },
	{ "{\"type\":\"request\",\"id\":4,\"op\":\"notify\",\"unit\":{\"kind\":\"processor\",\"cpu\":1}}", -EINVAL, "\"note\" is missing" },
	{ "{\"type\":\"request\",\"id\":4,\"op\":\"notify\",\"note\":\"add-maybe\",\"unit\":{\"kind\":\"processor\",\"cpu\":1}}", -EINVAL, "unknown note" },
	{ "{\"type\":\"request\",\"id\":4,\"op\":\"offline\"}", -EINVAL, "\"unit\" is missing" },
	{ "{\"type\":\"request\",\"id\":4,\"op\":\"online\",\"unit\":{\"kind\":\"processor\"}}", -EINVAL, "\"cpu\" is missing" },
	{ "{\"type\":\"reply\",\"result\":\"ok\"}", -EINVAL, "\"id\" is missing" },
	{ "{\"type\":\"event\"}", -EINVAL, "\"event\" is missing" },
	{ "{\"type\":\"hello\",\"agent\":\"x\"}", -EINVAL, "\"version\" is missing" },
	/* a slot that would walk out of sysfs */
	{ "{\"type\":\"request\",\"id\":5,\"op\":\"offline\",\"unit\":{\"kind\":\"io-host-bridge\",\"slot\":\"../../..\"}}", -EINVAL, "not a PCI address" },
	/* ambiguous: two peers could read it differently */
	{ "{\"type\":\"request\",\"id\":1,\"id\":2,\"op\":\"ping\"}", -EINVAL, "duplicate" },
	{ "{\"type\":\"request\",\"id\":99999999999999999999,\"op\":\"ping\"}", -EINVAL, "too big" },
	/* versions */
	{ "{\"type\":\"hello\",\"version\":2,\"shape\":\"new\"}", -EPROTONOSUPPORT, "version 2" },
	{ "{\"type\":\"hello\",\"version\":0}", -EINVAL, "outside" },
};

static void test_malformed(void)
{
	struct dhp_proto_msg *msg = msg_new(DHP_PROTO_EVENT), *untouched = msg_new(DHP_PROTO_EVENT);

	memset(msg, 0x5a, sizeof(*msg));
	memcpy(untouched, msg, sizeof(*msg));
	for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		const struct bad *b = &bad_lines[i];
		struct dhp_error err = { 0 };
		int r = dhp_proto_decode(b->line, strlen(b->line), msg, &err);

		CHECK_MSG(r == b->code, "%s: %d, not %d (%s)", b->line, r, b->code, err.message);
		CHECK_INT(err.code, r);
		CHECK_MSG(strstr(err.message, b->says), "%s: \"%s\" does not say \"%s\"", b->line,
			  err.message, b->says);
		CHECK_MSG(!memcmp(msg, untouched, sizeof(*msg)), "%s: output written", b->line);
	}
	free(untouched);
	free(msg);
}

static void test_malformed_more(void)
{
	static char line[2 * DHP_PROTO_LINE_MAX];
	struct dhp_proto_msg *msg = msg_new(DHP_PROTO_EVENT);
	struct dhp_error err = { 0 };
	static const char nul[] = "{\"type\":\"request\",\"id\":1,\"op\":\"ping\"}\0{}";
	const char *ok = "{\"type\":\"request\",\"id\":1,\"op\":\"ping\",\"x\":[[[[[[1]]]]]]}";
	uint64_t id = 0;
	int n;

	/* A NUL byte in the line. */
	CHECK_INT(dhp_proto_decode(nul, sizeof(nul) - 1, msg, &err), -EINVAL);
	CHECK(strstr(err.message, "NUL byte at offset") &&
	      atoi(strstr(err.message, "offset") + 7) == (int)strlen(nul));
	/* Over the cap: refused before it is parsed. */
	dhp_error_clear(&err);
	n = snprintf(line, sizeof(line), "{\"type\":\"request\",\"id\":1,\"op\":\"ping\",\"pad\":\"");
	memset(line + n, 'p', sizeof(line) - (size_t)n - 3);
	memcpy(line + sizeof(line) - 3, "\"}", 3);
	CHECK_INT(dhp_proto_decode(line, strlen(line), msg, &err), -EMSGSIZE);
	CHECK(strstr(err.message, "longer than 4096"));
	/* Nesting up to the cap is fine; unknown keys are ignored. */
	CHECK_INT(dhp_proto_decode(ok, strlen(ok), msg, NULL), 0);
	CHECK(msg->type == DHP_PROTO_REQUEST && msg->request.op == DHP_PROTO_OP_PING);
	ok = "{\"type\":\"request\",\"id\":8,\"op\":\"online\",\"future\":{\"a\":[1,true,null]},"
	     "\"unit\":{\"kind\":\"memory\",\"phys_addr\":4294967296,\"size\":134217728,"
	     "\"node\":1}}";
	CHECK_INT(dhp_proto_decode(ok, strlen(ok), msg, NULL), 0);
	CHECK_INT(msg->request.unit.phys_addr, 4294967296ull);
	/* null reads as absent; an error reply without errno is still one. */
	ok = "{\"type\":\"reply\",\"id\":2,\"result\":\"error\",\"reason\":null}";
	CHECK_INT(dhp_proto_decode(ok, strlen(ok), msg, NULL), 0);
	CHECK(msg->reply.code < 0 && !msg->reply.reason[0]);
	/* A hello of a newer minor version: unknown capabilities ignored. */
	ok = "{\"type\":\"hello\",\"version\":1,\"capabilities\":[\"online-cpu\",\"time-travel\"]}";
	CHECK_INT(dhp_proto_decode(ok, strlen(ok), msg, NULL), 0);
	CHECK_INT(msg->hello.caps, DHP_PROTO_CAP_ONLINE_CPU);
	/* Long reasons are cut, long structural strings refused. */
	n = snprintf(line, sizeof(line), "{\"type\":\"event\",\"event\":\"error\",\"reason\":\"");
	memset(line + n, 'r', 1000);
	snprintf(line + n + 1000, 8, "\"}");
	CHECK_INT(dhp_proto_decode(line, strlen(line), msg, NULL), 0);
	CHECK_INT(strlen(msg->event.reason), DHP_PROTO_TEXT_MAX - 1);
	n = snprintf(line, sizeof(line), "{\"type\":\"hello\",\"version\":1,\"cpus\":{\"online\":\"");
	memset(line + n, '1', 600);
	snprintf(line + n + 600, 8, "\"}}");
	CHECK_INT(dhp_proto_decode(line, strlen(line), msg, NULL), -EMSGSIZE);
	/* Too many list entries. */
	n = snprintf(line, sizeof(line), "{\"type\":\"hello\",\"version\":1,\"pci\":[");
	for (int i = 0; i < DHP_PROTO_PCI_MAX + 1; i++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, "%s{}", i ? "," : "");
	snprintf(line + n, sizeof(line) - (size_t)n, "]}");
	CHECK_INT(dhp_proto_decode(line, strlen(line), msg, NULL), -EMSGSIZE);
	/* The id of what did not decode, for the error reply. */
	ok = "{\"type\":\"greeting\",\"id\":3}";
	CHECK(dhp_proto_peek_id(ok, strlen(ok), &id) && id == 3);
	ok = "{\"type\":\"request\",\"op\":\"ping\"}";
	CHECK(!dhp_proto_peek_id(ok, strlen(ok), &id));
	CHECK(!dhp_proto_peek_id("{\"id\":", 6, &id));
	CHECK(!dhp_proto_peek_id("{\"id\":\"3\"}", 10, &id));
	{
		enum dhp_proto_type type;

		ok = "{\"type\":\"reply\",\"id\":1,\"result\":\"bogus\"}";
		CHECK(dhp_proto_peek_type(ok, strlen(ok), &type) && type == DHP_PROTO_REPLY);
		CHECK(!dhp_proto_peek_type("{\"type\":\"x\"}", 12, &type));
		CHECK(!dhp_proto_peek_type("[]", 2, &type));
	}
	free(msg);
}

/* Random damage to valid lines: decoding answers, never crashes (the
 * sanitizer build makes this bite). */
static void test_fuzz(void)
{
	static const char *seeds[] = {
		"{\"type\":\"request\",\"id\":7,\"op\":\"notify\",\"note\":\"add-start\",\"unit\":{\"kind\":\"processor\",\"cpu\":3}}",
		"{\"type\":\"hello\",\"version\":1,\"agent\":\"a\",\"capabilities\":[\"online-cpu\"],\"cpus\":{\"online\":\"0\"},\"memory\":{\"block_size\":1,\"blocks\":[{\"index\":3,\"count\":2,\"state\":\"online\",\"removable\":true,\"zone\":\"Movable\"}]},\"pci\":[{\"slot\":\"0000:00:01.0\",\"vendor\":\"0x1af4\",\"device\":\"0x1000\",\"class\":\"0x020000\"}]}",
		"{\"type\":\"reply\",\"id\":8,\"result\":\"error\",\"reason\":\"x\\u00e9\\\"\",\"errno\":16}",
	};
	struct dhp_proto_msg *msg = msg_new(DHP_PROTO_EVENT);
	char line[1024];
	unsigned seed = 1100, ok = 0;

	for (int i = 0; i < 30000; i++) {
		const char *s = seeds[i % 3];
		size_t len = strlen(s);
		uint64_t id;

		memcpy(line, s, len);
		for (int k = 0; k < 1 + i % 4; k++) {
			size_t at = (size_t)rand_r(&seed) % len;

			switch (rand_r(&seed) % 4) {
			case 0: line[at] = (char)rand_r(&seed); break;
			case 1: len = at + 1; break;
			case 2: line[at] = "{}[]\",:\\0"[rand_r(&seed) % 9]; break;
			default: line[at] = '\0'; break;
			}
		}
		if (dhp_proto_decode(line, len, msg, NULL) == 0)
			ok++;
		dhp_proto_peek_id(line, len, &id);
	}
	CHECK(ok > 0 && ok < 30000);
	free(msg);
}

static void test_cpulist(void)
{
	bool set[16] = { false }, back[16];
	char buf[64];

	CHECK_INT(dhp_cpulist_format(set, 16, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "");
	set[0] = set[1] = set[3] = set[8] = set[9] = set[10] = set[15] = true;
	CHECK_INT(dhp_cpulist_format(set, 16, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "0-1,3,8-10,15");
	CHECK_INT(dhp_cpulist_parse(buf, back, 16), 0);
	CHECK(!memcmp(set, back, sizeof(set)));
	CHECK_INT(dhp_cpulist_parse("0-15\n", back, 16), 0);
	CHECK(back[0] && back[15]);
	CHECK_INT(dhp_cpulist_format(set, 16, buf, 6), -EMSGSIZE);
	CHECK_STR(buf, "");
	CHECK_INT(dhp_cpulist_parse("3-1", back, 16), -EINVAL);
	CHECK_INT(dhp_cpulist_parse("0-16", back, 16), -EINVAL);
	CHECK_INT(dhp_cpulist_parse("0,", back, 16), -EINVAL);
	CHECK_INT(dhp_cpulist_parse("a", back, 16), -EINVAL);
	CHECK_INT(dhp_cpulist_parse("1;2", back, 16), -EINVAL);
}

static void test_uevent(void)
{
	static const char cpu[] = "online@/devices/system/cpu/cpu3\0ACTION=online\0"
				  "DEVPATH=/devices/system/cpu/cpu3\0SUBSYSTEM=cpu\0SEQNUM=9";
	static const char mem[] = "add@/devices/system/memory/memory40\0ACTION=add\0"
				  "DEVPATH=/devices/system/memory/memory40\0SUBSYSTEM=memory\0";
	static const char pci[] = "remove@/devices/pci0000:00/0000:00:1c.0/0000:01:00.0\0"
				  "ACTION=remove\0DEVPATH=/devices/pci0000:00/0000:00:1c.0/0000:01:00.0\0"
				  "SUBSYSTEM=pci\0";
	static const char cache[] = "add@/devices/system/cpu/cpu3/cache/index0\0ACTION=add\0"
				    "DEVPATH=/devices/system/cpu/cpu3/cache/index0\0SUBSYSTEM=cpu\0";
	static const char change[] = "change@/devices/system/cpu/cpu3\0ACTION=change\0"
				     "DEVPATH=/devices/system/cpu/cpu3\0SUBSYSTEM=cpu\0";
	static const char net[] = "add@/devices/virtual/net/lo\0ACTION=add\0"
				  "DEVPATH=/devices/virtual/net/lo\0SUBSYSTEM=net\0";
	struct dhp_proto_event ev;

	CHECK_INT(dhp_proto_uevent_parse(cpu, sizeof(cpu), BS, &ev), 0);
	CHECK(ev.kind == DHP_PROTO_EVENT_ONLINE && ev.unit.kind == DHP_PROTO_UNIT_PROCESSOR);
	CHECK_INT(ev.unit.cpu, 3);
	CHECK_INT(dhp_proto_uevent_parse(mem, sizeof(mem) - 1, BS, &ev), 0);
	CHECK(ev.kind == DHP_PROTO_EVENT_ADD && ev.unit.kind == DHP_PROTO_UNIT_MEMORY);
	CHECK_INT(ev.unit.phys_addr, 40 * BS);
	CHECK_INT(ev.unit.size, BS);
	CHECK_INT(dhp_proto_uevent_parse(pci, sizeof(pci) - 1, BS, &ev), 0);
	CHECK(ev.kind == DHP_PROTO_EVENT_REMOVE && ev.unit.kind == DHP_PROTO_UNIT_IO_HOST_BRIDGE);
	CHECK_STR(ev.unit.slot, "0000:01:00.0");
	CHECK_INT(dhp_proto_uevent_parse(mem, sizeof(mem) - 1, 0, &ev), -ENOENT);
	CHECK_INT(dhp_proto_uevent_parse(cache, sizeof(cache) - 1, BS, &ev), -ENOENT);
	CHECK_INT(dhp_proto_uevent_parse(change, sizeof(change) - 1, BS, &ev), -ENOENT);
	CHECK_INT(dhp_proto_uevent_parse(net, sizeof(net) - 1, BS, &ev), -ENOENT);
	CHECK_INT(dhp_proto_uevent_parse("libudev\0\xfe\xed", 10, BS, &ev), -EINVAL);
	CHECK_INT(dhp_proto_uevent_parse("add@/x", 6, BS, &ev), -EINVAL);
	CHECK_INT(dhp_proto_uevent_parse("", 0, BS, &ev), -EINVAL);
}

/* Who saw a start, per unit (proto/records.h): the key, replacing, ending,
 * the other-family rule and the cap, oldest forgotten first. */
static void test_records(void)
{
	struct dhp_proto_unit cpu3 = { .kind = DHP_PROTO_UNIT_PROCESSOR, .cpu = 3 };
	struct dhp_proto_unit cpu4 = { .kind = DHP_PROTO_UNIT_PROCESSOR, .cpu = 4 };
	struct dhp_proto_unit mem = { .kind = DHP_PROTO_UNIT_MEMORY, .phys_addr = 4 * BS,
				      .size = 2 * BS };
	struct dhp_proto_unit mem_other = mem, pci = { .kind = DHP_PROTO_UNIT_IO_HOST_BRIDGE };
	struct dhp_proto_unit pci_upper = pci, pci_other = pci, bus = pci;
	const uint64_t serials[] = { 2, 5, 9 };
	struct dhp_proto_records recs;
	const struct dhp_proto_record *rec;

	snprintf(pci.slot, sizeof(pci.slot), "0000:00:1c.0");
	snprintf(pci_upper.slot, sizeof(pci_upper.slot), "0000:00:1C.0");
	snprintf(pci_other.slot, sizeof(pci_other.slot), "0000:00:1c.1");

	/* The key: the kind, then cpu; phys_addr and size; the slot in any case. */
	CHECK(dhp_proto_unit_same(&cpu3, &cpu3) && !dhp_proto_unit_same(&cpu3, &cpu4));
	CHECK(dhp_proto_unit_same(&mem, &mem_other));
	mem_other.size = BS;
	CHECK(!dhp_proto_unit_same(&mem, &mem_other));
	mem_other.size = mem.size;
	mem_other.phys_addr = 0;
	CHECK(!dhp_proto_unit_same(&mem, &mem_other));
	CHECK(dhp_proto_unit_same(&pci, &pci_upper) && !dhp_proto_unit_same(&pci, &pci_other));
	CHECK(!dhp_proto_unit_same(&pci, &bus) && dhp_proto_unit_same(&bus, &bus));
	{
		/* Another kind with the same numbers is another unit. */
		struct dhp_proto_unit as_mem = cpu3;

		as_mem.kind = DHP_PROTO_UNIT_MEMORY;
		CHECK(!dhp_proto_unit_same(&cpu3, &as_mem));
	}

	CHECK_INT(dhp_proto_note_start(DHP_PROTO_NOTE_ADD_FAILURE), DHP_PROTO_NOTE_ADD_START);
	CHECK_INT(dhp_proto_note_start(DHP_PROTO_NOTE_ADD_COMPLETE), DHP_PROTO_NOTE_ADD_START);
	CHECK_INT(dhp_proto_note_start(DHP_PROTO_NOTE_REMOVE_FAILURE), DHP_PROTO_NOTE_REMOVE_QUERY);
	CHECK_INT(dhp_proto_note_start(DHP_PROTO_NOTE_REPLACE_COMPLETE),
		  DHP_PROTO_NOTE_REPLACE_START);
	CHECK(dhp_proto_serials_has(serials, 3, 2) && dhp_proto_serials_has(serials, 3, 9));
	CHECK(!dhp_proto_serials_has(serials, 3, 1) && !dhp_proto_serials_has(serials, 3, 6) &&
	      !dhp_proto_serials_has(serials, 3, 10) && !dhp_proto_serials_has(NULL, 0, 2));

	/* set, find (by any note of the family), replace, end. */
	dhp_proto_records_init(&recs, 3);
	CHECK(!dhp_proto_records_find(&recs, DHP_PROTO_NOTE_ADD_FAILURE, &cpu3));
	CHECK_INT(dhp_proto_records_set(&recs, DHP_PROTO_NOTE_ADD_START, &cpu3, serials, 3), 0);
	rec = dhp_proto_records_find(&recs, DHP_PROTO_NOTE_ADD_FAILURE, &cpu3);
	CHECK(rec && rec->n == 3 && rec->serials[0] == 2 && rec->serials[2] == 9);
	CHECK(rec == dhp_proto_records_find(&recs, DHP_PROTO_NOTE_ADD_START, &cpu3));
	CHECK(!dhp_proto_records_find(&recs, DHP_PROTO_NOTE_ADD_FAILURE, &cpu4));
	/* A record of another family's start counts as none. */
	CHECK(!dhp_proto_records_find(&recs, DHP_PROTO_NOTE_REMOVE_FAILURE, &cpu3));
	CHECK(!dhp_proto_records_find(&recs, DHP_PROTO_NOTE_REPLACE_FAILURE, &cpu3));
	/* A new start replaces the unit's record, of any family. */
	CHECK_INT(dhp_proto_records_set(&recs, DHP_PROTO_NOTE_REMOVE_QUERY, &cpu3, serials + 1, 1),
		  0);
	CHECK_INT(recs.n, 1);
	CHECK(!dhp_proto_records_find(&recs, DHP_PROTO_NOTE_ADD_FAILURE, &cpu3));
	rec = dhp_proto_records_find(&recs, DHP_PROTO_NOTE_REMOVE_FAILURE, &cpu3);
	CHECK(rec && rec->n == 1 && rec->serials[0] == 5);
	/* An empty record: the failure was told already (after a veto). */
	CHECK_INT(dhp_proto_records_set(&recs, DHP_PROTO_NOTE_ADD_START, &pci_upper, NULL, 0), 0);
	rec = dhp_proto_records_find(&recs, DHP_PROTO_NOTE_ADD_FAILURE, &pci);
	CHECK(rec && rec->n == 0);
	CHECK_INT(recs.n, 2);
	/* Its own unit and serials, given back to set, survive the replace. */
	rec = dhp_proto_records_find(&recs, DHP_PROTO_NOTE_REMOVE_FAILURE, &cpu3);
	if (rec)
		CHECK_INT(dhp_proto_records_set(&recs, DHP_PROTO_NOTE_REMOVE_QUERY, &rec->unit,
						rec->serials, rec->n), 0);
	rec = dhp_proto_records_find(&recs, DHP_PROTO_NOTE_REMOVE_FAILURE, &cpu3);
	CHECK(rec && rec->n == 1 && rec->serials[0] == 5 && recs.first == rec);
	CHECK_INT(recs.n, 2);
	/* end forgets a record of any family; another unit's stays. */
	dhp_proto_records_end(&recs, &cpu3);
	CHECK(!dhp_proto_records_find(&recs, DHP_PROTO_NOTE_REMOVE_FAILURE, &cpu3));
	CHECK_INT(recs.n, 1);
	dhp_proto_records_end(&recs, &cpu3);	/* none: nothing happens */
	CHECK_INT(recs.n, 1);
	if (recs.first)
		dhp_proto_records_end(&recs, &recs.first->unit);	/* its own unit */
	CHECK_INT(recs.n, 0);
	CHECK(!recs.first);

	/* The cap: the oldest goes first; a replaced record is the newest. */
	CHECK_INT(dhp_proto_records_set(&recs, DHP_PROTO_NOTE_ADD_START, &cpu3, serials, 1), 0);
	CHECK_INT(dhp_proto_records_set(&recs, DHP_PROTO_NOTE_ADD_START, &cpu4, serials, 2), 0);
	CHECK_INT(dhp_proto_records_set(&recs, DHP_PROTO_NOTE_REMOVE_QUERY, &mem, serials, 3), 0);
	CHECK_INT(dhp_proto_records_set(&recs, DHP_PROTO_NOTE_ADD_START, &cpu3, serials, 3), 0);
	CHECK_INT(recs.n, 3);
	CHECK_INT(dhp_proto_records_set(&recs, DHP_PROTO_NOTE_ADD_START, &pci, serials, 1), 0);
	CHECK_INT(recs.n, 3);
	CHECK(!dhp_proto_records_find(&recs, DHP_PROTO_NOTE_ADD_FAILURE, &cpu4));
	CHECK(dhp_proto_records_find(&recs, DHP_PROTO_NOTE_REMOVE_FAILURE, &mem));
	CHECK(dhp_proto_records_find(&recs, DHP_PROTO_NOTE_ADD_FAILURE, &cpu3));
	CHECK(dhp_proto_records_find(&recs, DHP_PROTO_NOTE_ADD_FAILURE, &pci));
	CHECK_INT(dhp_proto_records_set(&recs, DHP_PROTO_NOTE_ADD_START, &cpu4, NULL, 0), 0);
	CHECK(!dhp_proto_records_find(&recs, DHP_PROTO_NOTE_REMOVE_FAILURE, &mem));
	CHECK(dhp_proto_records_find(&recs, DHP_PROTO_NOTE_ADD_FAILURE, &cpu3));
	/* Newest first: cpu4, pci, cpu3. */
	rec = recs.first;
	CHECK(rec && dhp_proto_unit_same(&rec->unit, &cpu4));
	rec = rec ? rec->next : NULL;
	CHECK(rec && dhp_proto_unit_same(&rec->unit, &pci));
	rec = rec ? rec->next : NULL;
	CHECK(rec && dhp_proto_unit_same(&rec->unit, &cpu3) && !rec->next);

	dhp_proto_records_release(&recs);
	CHECK_INT(recs.n, 0);
	CHECK(!recs.first);
	dhp_proto_records_release(&recs);	/* twice: still empty */
	/* Set again after a release: the cap is kept. */
	for (uint32_t cpu = 0; cpu < 10; cpu++) {
		struct dhp_proto_unit u = { .kind = DHP_PROTO_UNIT_PROCESSOR, .cpu = cpu };

		CHECK_INT(dhp_proto_records_set(&recs, DHP_PROTO_NOTE_ADD_START, &u, serials, 3),
			  0);
	}
	CHECK_INT(recs.n, 3);
	CHECK(!dhp_proto_records_find(&recs, DHP_PROTO_NOTE_ADD_START, &cpu3));
	dhp_proto_records_release(&recs);
}

/* ---- dhp-agent against a fake sysfs tree ---------------------------- */

static char workdir[512], tree[600], sock_path[640], log_path[640], agent_path[512];

/* Write a file of the fake tree, making its directories. */
static void put(const char *rel, const char *content)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	for (char *p = path + strlen(tree) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	if (!f || fputs(content, f) < 0 || fclose(f)) {
		perror(path);
		exit(2);
	}
}

/* A file of the fake tree, without its newline ("<error>" if unreadable). */
static const char *get(const char *rel)
{
	static char buf[128];
	char path[1024];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	f = fopen(path, "r");
	n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
	if (!f || ferror(f))
		n = (size_t)snprintf(buf, sizeof(buf), "<error>");
	if (f)
		fclose(f);
	buf[n] = '\0';
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	return buf;
}

/* Replace a file of the tree by a directory: every write to it fails. */
static void break_file(const char *rel)
{
	char path[1024];

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	unlink(path);
	mkdir(path, 0755);
}

static void tree_make(void)
{
	const char *base = getenv("DHP_TEST_TMP"), *build = getenv("DHP_BUILD");
	char rel[128];

	snprintf(workdir, sizeof(workdir), "%s/dhp-t1100-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(workdir)) {
		perror(workdir);
		exit(2);
	}
	snprintf(tree, sizeof(tree), "%s/sys", workdir);
	snprintf(sock_path, sizeof(sock_path), "%s/agent.sock", workdir);
	snprintf(log_path, sizeof(log_path), "%s/agent.log", workdir);
	snprintf(agent_path, sizeof(agent_path), "%s/dhp-agent", build && *build ? build : "build");
	mkdir(tree, 0755);
	/* cpu0 cannot go offline (no online file); cpu2 is offline. */
	put("devices/system/cpu/possible", "0-15\n");
	put("devices/system/cpu/cpu0/uevent", "");
	put("devices/system/cpu/cpu1/online", "1\n");
	put("devices/system/cpu/cpu2/online", "0\n");
	put("devices/system/cpu/cpu3/online", "1\n");
	put("devices/system/cpu/hotplug/states", "");
	/* 128 MiB blocks: boot memory 0-3 (Normal), a module 32-35 online
	 * movable, a module 36-39 offline. */
	put("devices/system/memory/block_size_bytes", "8000000\n");
	for (int i = 0; i < 40; i++) {
		if (i >= 4 && i < 32)
			continue;
		snprintf(rel, sizeof(rel), "devices/system/memory/memory%d/state", i);
		put(rel, i < 36 ? "online\n" : "offline\n");
		snprintf(rel, sizeof(rel), "devices/system/memory/memory%d/valid_zones", i);
		put(rel, i < 4 ? "Normal\n" : i < 36 ? "Movable\n" : "Normal Movable\n");
	}
	put("bus/pci/rescan", "");
	put("bus/pci/devices/0000:00:01.0/vendor", "0x1af4\n");
	put("bus/pci/devices/0000:00:01.0/device", "0x1000\n");
	put("bus/pci/devices/0000:00:01.0/class", "0x020000\n");
	put("bus/pci/devices/0000:00:01.0/remove", "");
	put("bus/pci/devices/0000:00:00.0/vendor", "0x8086\n");
	put("bus/pci/devices/0000:00:00.0/device", "0x29c0\n");
	put("bus/pci/devices/0000:00:00.0/class", "0x060000\n");
}

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

/* dhpd's side of the channel. */
struct peer {
	pid_t pid;
	int listen_fd, fd;
	char buf[3 * DHP_PROTO_LINE_MAX];
	size_t len;
};

static struct peer peer = { .pid = -1, .listen_fd = -1, .fd = -1 };

static void peer_spawn(struct peer *p, const char *how, const char *where)
{
	int logfd;

	p->len = 0;
	p->pid = fork();
	if (p->pid < 0)
		abort();
	if (p->pid)
		return;
	logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (logfd >= 0)
		dup2(logfd, 2);
	/* --no-apps: never the host's /run/dhp-agent.sock (t1150 tests them). */
	execl(agent_path, "dhp-agent", how, where, "--sysfs", tree, "--no-uevents",
	      "--settle-ms", "100", "--offline-timeout-ms", "300", "--no-apps", "--verbose",
	      (char *)NULL);
	_exit(127);
}

/* Listen, start the agent with --socket, take its connection. */
static int peer_start(struct peer *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	if (strlen(sock_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	unlink(sock_path);
	p->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(p->listen_fd, 1))
		return -errno;
	peer_spawn(p, "--socket", sock_path);
	if (test_wait_fd(p->listen_fd, 10000) < 0)
		return -ETIMEDOUT;
	p->fd = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	return p->fd < 0 ? -errno : 0;
}

/* Stop the agent (SIGTERM: it must exit 0, and without leaks under ASan). */
static void peer_stop(struct peer *p)
{
	int status = -1;

	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		waitpid(p->pid, &status, 0);
		CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "dhp-agent ended with status 0x%x (see %s)", status, log_path);
	}
	if (p->fd >= 0)
		close(p->fd);
	if (p->listen_fd >= 0)
		close(p->listen_fd);
	*p = (struct peer){ .pid = -1, .listen_fd = -1, .fd = -1 };
}

/* The next line from the agent into out (NUL terminated, no newline). */
static int peer_line(struct peer *p, char *out, size_t size)
{
	return test_read_line(p->fd, p->buf, sizeof(p->buf), &p->len, out, size, 10000);
}

/* The next message; NULL (and a failed CHECK) if none or not valid. */
static struct dhp_proto_msg *peer_msg(struct peer *p)
{
	struct dhp_proto_msg *m = msg_new(DHP_PROTO_EVENT);
	struct dhp_error err = { 0 };
	char line[DHP_PROTO_LINE_MAX + 1];
	int r = peer_line(p, line, sizeof(line));

	CHECK_MSG(r == 0, "no line from dhp-agent: %s", strerror(-r));
	if (!r) {
		r = dhp_proto_decode(line, strlen(line), m, &err);
		CHECK_MSG(r == 0, "dhp-agent sent a bad line: %s: %s", err.message, line);
	}
	if (r) {
		free(m);
		return NULL;
	}
	return m;
}

static void peer_send(struct peer *p, const char *text, size_t len)
{
	CHECK((size_t)write(p->fd, text, len) == len);
}

/* Send a request line; the reply to id, or NULL (a failed CHECK). */
__attribute__((format(printf, 2, 3)))
static struct dhp_proto_msg *ask(uint64_t id, const char *fmt, ...)
{
	struct dhp_proto_msg *m;
	char line[DHP_PROTO_LINE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	line[n++] = '\n';
	peer_send(&peer, line, (size_t)n);
	m = peer_msg(&peer);
	CHECK_MSG(m && m->type == DHP_PROTO_REPLY && m->reply.id == id,
		  "no reply to %llu: %.*s", (unsigned long long)id, n - 1, line);
	if (m && (m->type != DHP_PROTO_REPLY || m->reply.id != id)) {
		free(m);
		return NULL;
	}
	return m;
}

/* A request that must get result, with errno (positive, 0: none). */
static void expect(uint64_t id, enum dhp_proto_result result, int errnum, const char *says,
		   const char *req)
{
	char line[DHP_PROTO_LINE_MAX];
	struct dhp_proto_msg *m;

	snprintf(line, sizeof(line), "{\"type\":\"request\",\"id\":%llu,%s}",
		 (unsigned long long)id, req);
	m = ask(id, "%s", line);
	if (!m)
		return;
	CHECK_MSG(m->reply.result == result, "%s: result %s (%s)", line,
		  dhp_proto_result_name(m->reply.result), m->reply.reason);
	CHECK_MSG(m->reply.code == -errnum, "%s: errno %d, not %d", line, -m->reply.code, errnum);
	CHECK_MSG(!says || strstr(m->reply.reason, says), "%s: \"%s\" does not say \"%s\"", line,
		  m->reply.reason, says);
	free(m);
}

#define CPU(n) "\"unit\":{\"kind\":\"processor\",\"cpu\":" #n "}"
#define MEM_FMT "\"unit\":{\"kind\":\"memory\",\"phys_addr\":%llu,\"size\":%llu}"

static void expect_mem(uint64_t id, const char *op, uint64_t first, uint64_t count,
		       enum dhp_proto_result result, int errnum, const char *says)
{
	char req[256];

	snprintf(req, sizeof(req), "\"op\":\"%s\"," MEM_FMT, op, first * BS, count * BS);
	expect(id, result, errnum, says, req);
}

static void test_agent_hello(void)
{
	struct dhp_proto_msg *m;
	struct dhp_proto_state *s;
	struct utsname u;

	CHECK_INT(peer_start(&peer), 0);
	m = peer.fd >= 0 ? peer_msg(&peer) : NULL;
	CHECK(m && m->type == DHP_PROTO_HELLO);
	if (!m || m->type != DHP_PROTO_HELLO)
		goto out;
	uname(&u);
	CHECK_INT(m->hello.version, DHP_PROTO_VERSION);
	CHECK_STR(m->hello.agent, "dhp-agent 0.1");
	CHECK_STR(m->hello.kernel, u.release);
	CHECK_STR(m->hello.profile, "linux");
	CHECK_INT(m->hello.caps, DHP_PROTO_CAP_ONLINE_CPU | DHP_PROTO_CAP_OFFLINE_CPU |
				 DHP_PROTO_CAP_ONLINE_MEMORY | DHP_PROTO_CAP_OFFLINE_MEMORY |
				 DHP_PROTO_CAP_PCI_RESCAN | DHP_PROTO_CAP_PCI_REMOVE);
	s = &m->hello.state;
	CHECK(m->hello.has_state && !s->truncated);
	CHECK_STR(s->cpus_online, "0-1,3");
	CHECK_STR(s->cpus_present, "0-3");
	CHECK_STR(s->cpus_possible, "0-15");
	CHECK_INT(s->block_size, BS);
	CHECK_INT(s->n_runs, 3);
	CHECK(s->runs[0].index == 0 && s->runs[0].count == 4 && !s->runs[0].removable);
	CHECK(s->runs[0].state == DHP_PROTO_MEM_ONLINE && !strcmp(s->runs[0].zone, "Normal"));
	CHECK(s->runs[1].index == 32 && s->runs[1].count == 4 && s->runs[1].removable);
	CHECK(s->runs[1].state == DHP_PROTO_MEM_ONLINE && !strcmp(s->runs[1].zone, "Movable"));
	CHECK(s->runs[2].index == 36 && s->runs[2].count == 4 && s->runs[2].removable);
	CHECK(s->runs[2].state == DHP_PROTO_MEM_OFFLINE && !s->runs[2].zone[0]);
	CHECK_INT(s->n_pci, 2);
	CHECK_STR(s->pci[0].slot, "0000:00:00.0");
	CHECK(s->pci[0].vendor == 0x8086 && s->pci[0].device == 0x29c0 &&
	      s->pci[0].class == 0x060000);
	CHECK_STR(s->pci[1].slot, "0000:00:01.0");
	CHECK(s->pci[1].vendor == 0x1af4 && s->pci[1].device == 0x1000 &&
	      s->pci[1].class == 0x020000);
out:
	free(m);
}

static void test_agent_cpu(void)
{
	expect(1, DHP_PROTO_OK, 0, NULL, "\"op\":\"ping\"");
	expect(2, DHP_PROTO_OK, 0, NULL, "\"op\":\"online\"," CPU(2));
	CHECK_STR(get("devices/system/cpu/cpu2/online"), "1");
	expect(3, DHP_PROTO_OK, 0, NULL, "\"op\":\"offline\"," CPU(3));
	CHECK_STR(get("devices/system/cpu/cpu3/online"), "0");
	expect(4, DHP_PROTO_OK, 0, NULL, "\"op\":\"offline\"," CPU(3));	/* idempotent */
	expect(5, DHP_PROTO_OK, 0, NULL, "\"op\":\"online\"," CPU(0));
	expect(6, DHP_PROTO_ERROR, EOPNOTSUPP, "cpu0", "\"op\":\"offline\"," CPU(0));
	expect(7, DHP_PROTO_ERROR, ENOENT, "no cpu9", "\"op\":\"online\"," CPU(9));
	/* A write the kernel refuses comes back with its errno. */
	break_file("devices/system/cpu/cpu1/online");
	expect(8, DHP_PROTO_ERROR, EISDIR, "cpu1 could not be brought offline",
	       "\"op\":\"offline\"," CPU(1));
}

static void test_agent_memory(void)
{
	char rel[96], fifo[1024];
	pid_t reader;

	expect_mem(10, "online", 36, 2, DHP_PROTO_OK, 0, NULL);
	CHECK_STR(get("devices/system/memory/memory36/state"), "online_movable");
	CHECK_STR(get("devices/system/memory/memory37/state"), "online_movable");
	CHECK_STR(get("devices/system/memory/memory38/state"), "offline");
	expect_mem(11, "offline", 32, 4, DHP_PROTO_OK, 0, NULL);
	for (int i = 32; i < 36; i++) {
		snprintf(rel, sizeof(rel), "devices/system/memory/memory%d/state", i);
		CHECK_STR(get(rel), "offline");
	}
	expect_mem(12, "offline", 32, 4, DHP_PROTO_OK, 0, NULL);	/* idempotent */
	expect_mem(13, "online", 100, 1, DHP_PROTO_ERROR, ENOENT, "no memory block 100");
	expect(14, DHP_PROTO_ERROR, EINVAL, "whole blocks",
	       "\"op\":\"online\",\"unit\":{\"kind\":\"memory\",\"phys_addr\":4096,\"size\":4096}");

	/* A block that cannot go offline: the error and its errno come back,
	 * and the block done before it is put back online, movable. */
	put("devices/system/memory/memory32/state", "online\n");
	put("devices/system/memory/memory33/state", "online\n");
	break_file("devices/system/memory/memory34/state");
	expect_mem(15, "offline", 32, 3, DHP_PROTO_ERROR, EISDIR,
		   "memory block 34 could not be brought offline");
	CHECK_STR(get("devices/system/memory/memory32/state"), "online_movable");
	CHECK_STR(get("devices/system/memory/memory33/state"), "online_movable");
	/* The same going online: what was done is undone. */
	put("devices/system/memory/memory38/state", "offline\n");
	break_file("devices/system/memory/memory39/state");
	expect_mem(16, "online", 38, 2, DHP_PROTO_ERROR, EISDIR, "memory block 39");
	CHECK_STR(get("devices/system/memory/memory38/state"), "offline");

	/* A block whose pages cannot be migrated: the kernel's write blocks
	 * until the writer gets a signal. A FIFO blocks the same way: a child
	 * answers the agent's one read of the state ("online"), then nobody
	 * reads, so opening it to write never returns. After
	 * --offline-timeout-ms the agent answers EBUSY, puts back the block it
	 * did, and keeps answering. */
	put("devices/system/memory/memory32/state", "online\n");
	snprintf(fifo, sizeof(fifo), "%s/devices/system/memory/memory33/state", tree);
	unlink(fifo);
	CHECK(mkfifo(fifo, 0600) == 0);
	reader = fork();
	if (reader == 0) {
		int fd;

		alarm(10);	/* never outlives the test */
		fd = open(fifo, O_WRONLY);
		_exit(fd >= 0 && write(fd, "online\n", 7) == 7 ? 0 : 1);
	}
	expect_mem(17, "offline", 32, 2, DHP_PROTO_ERROR, EBUSY,
		   "memory block 33 could not be brought offline in 300 ms");
	CHECK_STR(get("devices/system/memory/memory32/state"), "online_movable");
	expect(18, DHP_PROTO_OK, 0, NULL, "\"op\":\"ping\"");
	if (reader > 0)
		waitpid(reader, NULL, 0);
	unlink(fifo);
	put("devices/system/memory/memory33/state", "online\n");
}

static void send_text(const char *text)
{
	peer_send(&peer, text, strlen(text));
}

static void test_agent_pci_notify_report(void)
{
	struct dhp_proto_msg *m;
	char req[256];

	expect(20, DHP_PROTO_OK, 0, NULL, "\"op\":\"online\",\"unit\":{\"kind\":\"io-host-bridge\"}");
	CHECK_STR(get("bus/pci/rescan"), "1");
	expect(21, DHP_PROTO_OK, 0, NULL,
	       "\"op\":\"offline\",\"unit\":{\"kind\":\"io-host-bridge\",\"slot\":\"0000:00:01.0\"}");
	CHECK_STR(get("bus/pci/devices/0000:00:01.0/remove"), "1");
	expect(22, DHP_PROTO_OK, 0, NULL,
	       "\"op\":\"offline\",\"unit\":{\"kind\":\"io-host-bridge\",\"slot\":\"0000:00:05.0\"}");
	expect(23, DHP_PROTO_ERROR, EINVAL, "needs its slot",
	       "\"op\":\"offline\",\"unit\":{\"kind\":\"io-host-bridge\"}");

	/* Notifications: vetoable ones approved (--no-apps: no application
	 * can veto), the others acknowledged. */
	for (unsigned n = 0; n < DHP_PROTO_NOTE_MAX; n++) {
		snprintf(req, sizeof(req), "\"op\":\"notify\",\"note\":\"%s\"," CPU(2),
			 dhp_proto_note_name(n));
		expect(30 + n, dhp_proto_note_vetoable(n) ? DHP_PROTO_APPROVE : DHP_PROTO_OK, 0,
		       NULL, req);
	}

	/* report: the state now, and one module's blocks. */
	m = ask(40, "{\"type\":\"request\",\"id\":40,\"op\":\"report\"}\n");
	CHECK(m && m->reply.result == DHP_PROTO_OK && m->reply.has_state);
	if (m)
		CHECK_STR(m->reply.state.cpus_online, "0-2");
	free(m);
	m = ask(41, "{\"type\":\"request\",\"id\":41,\"op\":\"report\"," MEM_FMT "}\n", 36 * BS,
		2 * BS);
	CHECK(m && m->reply.has_state && m->reply.state.n_runs == 1);
	if (m) {
		CHECK_INT(m->reply.state.runs[0].index, 36);
		CHECK_INT(m->reply.state.runs[0].count, 2);
	}
	free(m);

	/* hello again, on request: the hello line, then the reply. */
	send_text("{\"type\":\"request\",\"id\":42,\"op\":\"hello\"}\n");
	m = peer_msg(&peer);
	CHECK(m && m->type == DHP_PROTO_HELLO && m->hello.has_state);
	free(m);
	m = peer_msg(&peer);
	CHECK(m && m->type == DHP_PROTO_REPLY && m->reply.id == 42);
	free(m);
}

/* An error event saying says, with errno errnum. */
static void expect_error_event(int errnum, const char *says)
{
	struct dhp_proto_msg *m = peer_msg(&peer);

	CHECK(m && m->type == DHP_PROTO_EVENT && m->event.kind == DHP_PROTO_EVENT_ERROR);
	if (m && m->type == DHP_PROTO_EVENT) {
		CHECK_MSG(m->event.code == -errnum, "errno %d, not %d", -m->event.code, errnum);
		CHECK_MSG(strstr(m->event.reason, says), "\"%s\" does not say \"%s\"",
			  m->event.reason, says);
	}
	free(m);
}

static void test_agent_bad_input(void)
{
	static char big[5000];
	static const char nul[] = "{\"type\":\"request\",\"id\":52,\"op\":\"ping\"}\0junk\n";

	send_text("this is not JSON\n");
	expect_error_event(EINVAL, "not JSON");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\n';
	peer_send(&peer, big, sizeof(big));
	expect_error_event(EMSGSIZE, "longer than 4096");
	expect(50, DHP_PROTO_OK, 0, NULL, "\"op\":\"ping\"");	/* resynced */
	send_text("{\"type\":\"greeting\",\"id\":51}\n");
	{
		struct dhp_proto_msg *m = peer_msg(&peer);

		CHECK(m && m->type == DHP_PROTO_REPLY && m->reply.id == 51 &&
		      m->reply.result == DHP_PROTO_ERROR &&
		      !strncmp(m->reply.reason, "unknown type", 12));
		free(m);
	}
	send_text("{\"type\":\"request\",\"op\":\"ping\"}\n");
	expect_error_event(EINVAL, "\"id\" is missing");
	send_text("{\"type\":\"hello\",\"version\":2}\n");
	expect_error_event(EPROTONOSUPPORT, "version 2");
	peer_send(&peer, nul, sizeof(nul) - 1);
	expect_error_event(EINVAL, "NUL byte");
	send_text("{\"type\":\"request\",\"id\":53,\"op\":\"ping\",\"x\":[[[[[[[[[]]]]]]]]]}\n");
	expect_error_event(EINVAL, "nested deeper");
	expect(54, DHP_PROTO_ERROR, EINVAL, "unknown op", "\"op\":\"fly\"");
	expect(55, DHP_PROTO_ERROR, EINVAL, "not a PCI address",
	       "\"op\":\"offline\",\"unit\":{\"kind\":\"io-host-bridge\",\"slot\":\"../../..\"}");
	expect(56, DHP_PROTO_ERROR, EINVAL, "\"cpu\" must be an integer",
	       "\"op\":\"online\",\"unit\":{\"kind\":\"processor\",\"cpu\":\"1\"}");
	/* Replies, events (even malformed ones) and dhpd's hello are never
	 * answered; unknown keys
	 * are ignored: the next line out is the ping's reply. */
	send_text("{\"type\":\"reply\",\"id\":57,\"result\":\"ok\"}\n"
		  "{\"type\":\"event\",\"event\":\"add\"}\n"
		  "{\"type\":\"reply\",\"id\":57,\"result\":\"bogus\"}\n"
		  "{\"type\":\"event\",\"event\":7}\n"
		  "{\"type\":\"hello\",\"version\":1,\"agent\":\"dhpd 0.1\"}\n");
	expect(58, DHP_PROTO_OK, 0, NULL, "\"op\":\"ping\",\"future\":{\"x\":[1,2]}");
}

/* dhpd goes away: the agent reconnects and says hello again. */
static void test_agent_reconnect(void)
{
	struct dhp_proto_msg *m;

	close(peer.fd);
	peer.len = 0;
	CHECK_INT(test_wait_fd(peer.listen_fd, 10000), 0);
	peer.fd = accept4(peer.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	CHECK(peer.fd >= 0);
	m = peer.fd >= 0 ? peer_msg(&peer) : NULL;
	CHECK(m && m->type == DHP_PROTO_HELLO);
	free(m);
	expect(60, DHP_PROTO_OK, 0, NULL, "\"op\":\"ping\"");
	peer_stop(&peer);
}

/* The serial path: a pty stands for ttyS1; the agent sets it raw. */
static void test_agent_pty(void)
{
	struct dhp_proto_msg *m;
	struct termios t;
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	const char *name;

	if (master < 0 || grantpt(master) || unlockpt(master) || !(name = ptsname(master))) {
		test_skip("no pty: %s", strerror(errno));
		return;
	}
	peer.fd = master;
	peer_spawn(&peer, "--device", name);
	m = peer_msg(&peer);
	CHECK(m && m->type == DHP_PROTO_HELLO);
	free(m);
	expect(70, DHP_PROTO_OK, 0, NULL, "\"op\":\"ping\"");
	CHECK_INT(tcgetattr(master, &t), 0);
	CHECK(!(t.c_lflag & (ICANON | ECHO)) && !(t.c_oflag & OPOST));
	CHECK_INT(cfgetospeed(&t), B115200);
	CHECK_INT(t.c_cflag & CSIZE, CS8);
	/* Its other side gone, the agent reads EIO and keeps trying. */
	close(master);
	peer.fd = -1;
	usleep(200 * 1000);
	CHECK(waitpid(peer.pid, NULL, WNOHANG) == 0);
	peer_stop(&peer);
}

static void agent_tests(void)
{
	tree_make();
	if (access(agent_path, X_OK)) {
		test_begin("agent");
		test_skip("%s is not built", agent_path);
		return;
	}
	RUN(test_agent_hello);
	if (peer.fd < 0)
		return;
	RUN(test_agent_cpu);
	RUN(test_agent_memory);
	RUN(test_agent_pci_notify_report);
	RUN(test_agent_bad_input);
	RUN(test_agent_reconnect);
	RUN(test_agent_pty);
	peer_stop(&peer);
	if (!test_state.failed)
		nftw(workdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	RUN(test_names);
	RUN(test_hello_round_trip);
	RUN(test_request_round_trip);
	RUN(test_reply_event_round_trip);
	RUN(test_text_utf8);
	RUN(test_truncation);
	RUN(test_line_reader);
	RUN(test_malformed);
	RUN(test_malformed_more);
	RUN(test_fuzz);
	RUN(test_cpulist);
	RUN(test_uevent);
	RUN(test_records);
	agent_tests();
	return test_done();
}
