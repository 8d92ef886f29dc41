/* SPDX-License-Identifier: MIT */
/*
 * QEMU's side of QMP as dhpd reads it: the input is what QEMU writes
 * (greeting, replies, events, one JSON object a line), read by the QMP
 * client (src/backend/qemu/qmp.c: read_lines, on_line, on_reply) with the
 * line cap the input's first byte picks; then the replies to the queries
 * the backend makes, through the functions that find its devices in them
 * (backend/qemu/devices.h: qdev_cpu_entry, qdev_slot_of, qdev_cpu_id,
 * qdev_dimm_find, qdev_pci_find).
 *
 * No QEMU and no connect(): the client's file is included here, so that
 * the harness builds the client around one end of a socket pair whose
 * other end holds the input, and calls its I/O callback as the loop would.
 * Commands 1 to 4 are queued first; a reply with their id answers them.
 */
#include "fuzz/fuzz.h"

#include "backend/qemu/qmp.c"

#include "backend/qemu/devices.h"

static const char *const queries[] = {
	"query-status", "query-hotpluggable-cpus", "query-memory-devices", "query-pci",
};

struct answers {
	unsigned replies, closes;
};

static void on_answer(void *ctx, int rc, json_t *ret, const struct dhp_error *err)
{
	struct answers *a = ctx;
	uint64_t addr, size;
	char slot[32];

	a->replies++;
	FUZZ_CHECK(rc == 0 || rc == -EIO || rc == -ECONNRESET);
	FUZZ_CHECK(rc == 0 || (err && err->code == rc && err->message[0]));
	if (rc < 0)
		return;
	/* Whatever the query was, what the backend would look for in it. */
	for (unsigned k = 0; k < 4; k++) {
		json_t *entry = qdev_cpu_entry(ret, k);

		if (entry) {
			FUZZ_CHECK(qdev_slot_of(entry) == (int)k);
			(void)qdev_cpu_id(entry);
		}
	}
	if (json_is_array(ret))
		for (size_t i = 0; i < json_array_size(ret); i++)
			(void)qdev_slot_of(json_array_get(ret, i));
	(void)qdev_dimm_find(ret, "mem-1", &addr, &size);
	if (qdev_pci_find(ret, "u1-d0", slot, sizeof(slot)))
		FUZZ_CHECK(memchr(slot, '\0', sizeof(slot)) != NULL);
}

static void on_event(void *ctx, const char *event, json_t *data)
{
	(void)ctx;
	(void)data;
	FUZZ_CHECK(event != NULL);
}

static void on_close(void *ctx, int rc, const struct dhp_error *why)
{
	struct answers *a = ctx;

	a->closes++;
	FUZZ_CHECK(rc < 0 && why && why->message[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t caps[] = { 0, 64, 4096 };
	static struct dhp_loop *loop;
	struct answers answers = { 0 };
	struct qmp *qmp;
	int sv[2];

	if (!size)
		return 0;
	if (!loop && !(loop = dhp_loop_new(true)))
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
		return 0;
	qmp = calloc(1, sizeof(*qmp));
	FUZZ_CHECK(qmp);
	qmp->cfg = (struct qmp_config){ .loop = loop, .max_line = caps[data[0] % 3],
					.on_event = on_event, .on_close = on_close,
					.ctx = &answers };
	qmp->fd = sv[0];
	qmp->io = dhp_io_add(loop, qmp->fd, DHP_IO_READ, on_io, qmp);
	for (unsigned i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
		FUZZ_CHECK(qmp_command(qmp, queries[i], NULL, 1000, on_answer, &answers) == 0);
	/* QEMU's side: everything, then it hangs up. A large input is cut to
	 * what the socket holds at once. */
	(void)!write(sv[1], data + 1, size - 1);
	shutdown(sv[1], SHUT_WR);
	for (unsigned rounds = 0; !qmp->closed && rounds < 10000; rounds++)
		on_io(qmp, DHP_IO_READ);
	FUZZ_CHECK(qmp->closed && answers.closes == 1);
	FUZZ_CHECK(answers.replies == sizeof(queries) / sizeof(queries[0]));
	qmp_free(qmp);
	close(sv[1]);
	return 0;
}
