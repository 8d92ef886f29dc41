/* SPDX-License-Identifier: MIT */
/*
 * libdhp (include/dhp/dhp.h), linked as a program links it: build/libdhp.so.
 *
 * The test plays dhp-agent itself: a unix socket in a temporary directory
 * (DHP_AGENT_SOCKET), the protocol spoken with src/proto's codec, and a
 * fake sysfs tree (DHP_SYSFS_ROOT). It checks the hello, the order of the
 * callbacks, vetoes and failures (who is told, in which order), the replay
 * of existing units, unregistering from callbacks, the non-blocking
 * dispatch, the helper thread, the agent going away and coming back, the
 * queries (more than 1,024 processors, -ENOBUFS, never stale), bad lines
 * from the agent, and the uevent fallback with real kernel uevents when
 * it may write /sys.
 */
#include "harness.h"

#include <dhp/dhp.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/line.h"
#include "proto/proto.h"

#define BS 0x8000000ull		/* the fake tree's memory block size, 128 MiB */

/* A unix socket's path is at most 107 bytes: the directory stays short. */
static char workdir[80], tree[600], bigtree[600], sock_path[108];

/* ---- files ---------------------------------------------------------------- */

static void mkdirs(const char *path)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(buf, 0755);
			*p = '/';
		}
	mkdir(buf, 0755);
}

__attribute__((format(printf, 3, 4)))
static void put(const char *root, const char *content, const char *fmt, ...)
{
	char rel[512], path[1200];
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	*strrchr(path, '/') = '\0';
	mkdirs(path);
	path[strlen(path)] = '/';
	f = fopen(path, "w");
	if (!f) {
		perror(path);
		abort();
	}
	fputs(content, f);
	fclose(f);
}

__attribute__((format(printf, 2, 3)))
static void dir(const char *root, const char *fmt, ...)
{
	char rel[512], path[1200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	mkdirs(path);
}

/*
 * The fake partition: processors 0-3 online of 0-7 possible (cpu2 on node
 * 1, the others on node 0); memory blocks of 128 MiB: 0-3 online node 0,
 * 4 offline, 5-6 online node 1, 8 online node 1; a root port 0000:00:1c.0
 * on node 0 with two functions behind it.
 */
static void tree_make(void)
{
	char path[1200];

	put(tree, "0-3\n", "devices/system/cpu/online");
	put(tree, "0-7\n", "devices/system/cpu/possible");
	for (int i = 0; i < 4; i++)
		dir(tree, "devices/system/cpu/cpu%d/node%d", i, i == 2);
	put(tree, "8000000\n", "devices/system/memory/block_size_bytes");
	for (int i = 0; i <= 8; i++) {
		if (i == 7)
			continue;
		put(tree, i == 4 ? "offline\n" : "online\n", "devices/system/memory/memory%d/state", i);
		if (i != 4)
			dir(tree, "devices/system/memory/memory%d/node%d", i, i >= 5);
	}
	put(tree, "0\n", "bus/pci/devices/0000:00:1c.0/numa_node");
	for (int f = 0; f < 2; f++) {
		char target[1200];

		snprintf(target, sizeof(target), "%s/bus/pci/devices/0000:00:1c.0/0000:01:00.%d", tree, f);
		mkdirs(target);
		put(tree, "0x1af4\n", "bus/pci/devices/0000:00:1c.0/0000:01:00.%d/vendor", f);
		put(tree, f ? "0x1042\n" : "0x1041\n", "bus/pci/devices/0000:00:1c.0/0000:01:00.%d/device", f);
		put(tree, "0x020000\n", "bus/pci/devices/0000:00:1c.0/0000:01:00.%d/class", f);
		snprintf(path, sizeof(path), "%s/bus/pci/devices/0000:01:00.%d", tree, f);
		if (symlink(target, path) < 0 && errno != EEXIST)
			perror(path);
	}
	/* A big one for the queries. */
	put(bigtree, "0-1023,1500,4000-4095\n", "devices/system/cpu/online");
	put(bigtree, "0-8191\n", "devices/system/cpu/possible");
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* ---- the callbacks' log ------------------------------------------------------ */

struct call {
	int who;
	struct dhp_change change;
	pthread_t thread;
};

static pthread_mutex_t calls_lock = PTHREAD_MUTEX_INITIALIZER;
static struct call calls[512];
static size_t n_calls;

struct cb {
	int who;
	int veto;				/* returned at vetoable phases */
	const char *reason;
	struct dhp_registration *reg;		/* its own */
	bool unregister_self;
	struct dhp_registration **unregister_other;
	struct dhp *dhp;			/* for the reentrancy checks */
	int dispatch_rc, stop_rc;
};

static int on_change(const struct dhp_change *change, char *reason, size_t reason_size,
		     void *userdata)
{
	struct cb *cb = userdata;

	pthread_mutex_lock(&calls_lock);
	if (n_calls < sizeof(calls) / sizeof(calls[0]))
		calls[n_calls++] = (struct call){ cb->who, *change, pthread_self() };
	pthread_mutex_unlock(&calls_lock);
	CHECK(reason && reason_size == DHP_REASON_MAX && reason[0] == '\0');
	if (cb->dhp) {
		cb->dispatch_rc = dhp_dispatch(cb->dhp);
		cb->stop_rc = dhp_stop_thread(cb->dhp);
		dhp_close(cb->dhp);	/* refused inside a callback: no effect */
	}
	if (cb->unregister_self)
		dhp_unregister(cb->reg);
	if (cb->unregister_other && *cb->unregister_other) {
		dhp_unregister(*cb->unregister_other);
		*cb->unregister_other = NULL;
	}
	if (cb->veto && dhp_phase_vetoable(change->phase)) {
		snprintf(reason, reason_size, "%s", cb->reason ? cb->reason : "");
		return cb->veto;
	}
	return 0;
}

static void calls_reset(void)
{
	pthread_mutex_lock(&calls_lock);
	n_calls = 0;
	pthread_mutex_unlock(&calls_lock);
}

/* The log as "who:phase who:phase ...". */
static const char *calls_str(void)
{
	static char buf[4096];
	size_t used = 0;

	buf[0] = '\0';
	pthread_mutex_lock(&calls_lock);
	for (size_t i = 0; i < n_calls && used < sizeof(buf) - 64; i++)
		used += (size_t)snprintf(buf + used, sizeof(buf) - used, "%s%d:%s", i ? " " : "",
					 calls[i].who, dhp_phase_name(calls[i].change.phase));
	pthread_mutex_unlock(&calls_lock);
	return buf;
}

/* ---- the fake agent ---------------------------------------------------------- */

#define QUEUE 64

struct fake {
	int lfd, fd;
	struct dhp_proto_reader reader;
	char *lines[QUEUE];
	size_t n_lines;
	bool send_hello;		/* on accept */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fake_listen_at(struct fake *f, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	f->send_hello = true;
	unlink(path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(f->lfd, 8) < 0) {
		perror("fake agent");
		abort();
	}
	dhp_proto_reader_init(&f->reader);
}

static void fake_listen(struct fake *f)
{
	fake_listen_at(f, sock_path);
}

static void fake_write(struct fake *f, const char *line, size_t len)
{
	while (len) {
		ssize_t n = send(f->fd, line, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		line += n;
		len -= (size_t)n;
	}
}

static void fake_send(struct fake *f, const struct dhp_proto_msg *msg)
{
	char line[DHP_PROTO_LINE_MAX + 1];
	size_t len;

	CHECK(dhp_proto_encode(msg, line, sizeof(line), &len, NULL) == 0);
	fake_write(f, line, len);
}

static void fake_hello(struct fake *f, uint32_t version)
{
	struct dhp_proto_msg *m = calloc(1, sizeof(*m));
	char line[256];

	if (version > DHP_PROTO_VERSION) {
		/* The encoder speaks our version only: a newer one by hand. */
		snprintf(line, sizeof(line),
			 "{\"type\":\"hello\",\"version\":%u,\"agent\":\"dhp-agent 9\"}\n", version);
		fake_write(f, line, strlen(line));
		free(m);
		return;
	}
	m->type = DHP_PROTO_HELLO;
	m->hello.version = version;
	snprintf(m->hello.agent, sizeof(m->hello.agent), "fake-agent 0.1");
	snprintf(m->hello.kernel, sizeof(m->hello.kernel), "test");
	snprintf(m->hello.profile, sizeof(m->hello.profile), "linux");
	m->hello.caps = DHP_PROTO_CAP_VETO;
	fake_send(f, m);
	free(m);
}

static void *accept_main(void *arg)
{
	struct fake *f = arg;

	f->fd = accept4(f->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (f->fd >= 0 && f->send_hello)
		fake_hello(f, DHP_PROTO_VERSION);
	return NULL;
}

static int queue_line(void *ctx, const char *line, size_t len, int rc)
{
	struct fake *f = ctx;

	if (rc == 0 && f->n_lines < QUEUE)
		f->lines[f->n_lines++] = strndup(line, len);
	return 0;
}

/* Read what is there (waiting up to ms) into the queue; false on EOF. */
static bool fake_pump(struct fake *f, int ms)
{
	struct pollfd p = { .fd = f->fd, .events = POLLIN };
	char buf[8192];
	ssize_t n;

	if (f->fd < 0 || poll(&p, 1, ms) <= 0)
		return true;
	n = recv(f->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == 0)
		return false;
	if (n > 0)
		dhp_proto_reader_push(&f->reader, buf, (size_t)n, queue_line, f, NULL);
	return true;
}

/*
 * The next line the library sends, decoded into *m; dispatching dhp
 * meanwhile (NULL: the helper thread does it). false after timeout_ms.
 */
static bool fake_next(struct fake *f, struct dhp *dhp, struct dhp_proto_msg *m, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	while (!f->n_lines && now_ms() < end) {
		if (dhp)
			dhp_dispatch(dhp);
		if (!fake_pump(f, 10))
			break;
	}
	if (!f->n_lines)
		return false;
	CHECK_MSG(dhp_proto_decode(f->lines[0], strlen(f->lines[0]), m, NULL) == 0,
		  "cannot decode the library's line %s", f->lines[0]);
	free(f->lines[0]);
	memmove(f->lines, f->lines + 1, --f->n_lines * sizeof(f->lines[0]));
	return true;
}

/* Accept the library (dhp_open runs meanwhile), check its hello. */
static int fake_open(struct fake *f, struct dhp **ret, const char *name, uint32_t flags)
{
	struct dhp_proto_msg *m = calloc(1, sizeof(*m));
	pthread_t t;
	int r;

	pthread_create(&t, NULL, accept_main, f);
	r = dhp_open(ret, name, flags);
	pthread_join(t, NULL);
	CHECK_INT(r, 0);
	dhp_proto_reader_init(&f->reader);
	CHECK(fake_next(f, NULL, m, 2000));
	CHECK_INT(m->type, DHP_PROTO_HELLO);
	CHECK_INT(m->hello.version, DHP_PROTO_VERSION);
	if (name) {
		char want[160];

		snprintf(want, sizeof(want), "%s[%ld]", name, (long)getpid());
		CHECK_STR(m->hello.agent, want);
	}
	free(m);
	return r;
}

static void fake_close(struct fake *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	for (size_t i = 0; i < f->n_lines; i++)
		free(f->lines[i]);
	f->n_lines = 0;
}

static void fake_free(struct fake *f)
{
	fake_close(f);
	close(f->lfd);
	unlink(sock_path);
}

static struct dhp_proto_unit cpu_unit(uint32_t cpu)
{
	return (struct dhp_proto_unit){ .kind = DHP_PROTO_UNIT_PROCESSOR, .cpu = cpu };
}

/* Send a notify and return its reply (the library dispatched by us, or
 * by its thread when dhp is NULL). */
static struct dhp_proto_reply notify(struct fake *f, struct dhp *dhp, uint64_t id,
				     enum dhp_proto_note note, struct dhp_proto_unit unit)
{
	struct dhp_proto_msg *m = calloc(1, sizeof(*m));
	struct dhp_proto_reply reply = { .result = DHP_PROTO_RESULT_MAX };

	m->type = DHP_PROTO_REQUEST;
	m->request = (struct dhp_proto_request){ .id = id, .op = DHP_PROTO_OP_NOTIFY, .note = note,
						 .has_unit = true, .unit = unit };
	fake_send(f, m);
	if (fake_next(f, dhp, m, 3000)) {
		CHECK_INT(m->type, DHP_PROTO_REPLY);
		CHECK_INT(m->reply.id, id);
		reply = m->reply;
	} else {
		CHECK_MSG(0, "no reply to notify %llu", (unsigned long long)id);
	}
	free(m);
	return reply;
}

/* ---- cases ------------------------------------------------------------------- */

static void use_tree(const char *root)
{
	setenv("DHP_SYSFS_ROOT", root, 1);
	setenv("DHP_AGENT_SOCKET", sock_path, 1);
}

static void test_args(void)
{
	struct dhp *dhp = NULL;
	struct dhp_registration *reg = NULL;
	uint32_t n;
	uint64_t mask[1], bytes;

	CHECK_INT(dhp_open(NULL, "x", 0), -EINVAL);
	CHECK_INT(dhp_open(&dhp, "x", DHP_OPEN_NO_AGENT | DHP_OPEN_NO_UEVENTS), -EINVAL);
	CHECK_INT(dhp_open(&dhp, "x", 1u << 7), -EINVAL);
	CHECK(dhp == NULL);
	dhp_close(NULL);
	dhp_unregister(NULL);
	CHECK_INT(dhp_get_fd(NULL), -EINVAL);
	CHECK_INT(dhp_dispatch(NULL), -EINVAL);
	CHECK_INT(dhp_transport(NULL), -EINVAL);
	CHECK_INT(dhp_start_thread(NULL), -EINVAL);
	CHECK_INT(dhp_stop_thread(NULL), -EINVAL);
	CHECK_INT(dhp_set_transport_callback(NULL, NULL, NULL), -EINVAL);
	CHECK_INT(dhp_cpus_online(NULL, mask, 1, &n), -EINVAL);
	CHECK_INT(dhp_cpus_possible(NULL, &n), -EINVAL);
	CHECK_INT(dhp_memory_size(NULL, &bytes), -EINVAL);
	CHECK_INT(dhp_register(NULL, DHP_KIND_PROCESSOR, 0, on_change, NULL, &reg), -EINVAL);

	use_tree(tree);
	CHECK_INT(dhp_open(&dhp, "args", DHP_OPEN_NO_AGENT), 0);
	CHECK_INT(dhp_register(dhp, 0, 0, on_change, NULL, &reg), -EINVAL);
	CHECK_INT(dhp_register(dhp, 1u << 5, 0, on_change, NULL, &reg), -EINVAL);
	CHECK_INT(dhp_register(dhp, DHP_KIND_IO, 1u << 4, on_change, NULL, &reg), -EINVAL);
	CHECK_INT(dhp_register(dhp, DHP_KIND_IO, 0, NULL, NULL, &reg), -EINVAL);
	CHECK_INT(dhp_register(dhp, DHP_KIND_IO, 0, on_change, NULL, NULL), -EINVAL);
	CHECK(reg == NULL);
	CHECK_INT(dhp_cpus_online(dhp, NULL, 1, &n), -EINVAL);
	CHECK_INT(dhp_cpus_online(dhp, mask, 1, NULL), -EINVAL);
	dhp_close(dhp);

	CHECK_STR(dhp_phase_name(DHP_PHASE_ADD_START), "add-start");
	CHECK_STR(dhp_phase_name(DHP_PHASE_REMOVE_QUERY), "remove-query");
	CHECK_STR(dhp_phase_name(DHP_PHASE_REPLACE_FAILURE), "replace-failure");
	CHECK_STR(dhp_phase_name(DHP_PHASE_MAX), "?");
	CHECK_STR(dhp_kind_name(DHP_KIND_MEMORY), "memory");
	CHECK_STR(dhp_kind_name(DHP_KIND_ALL), "?");
	CHECK_STR(dhp_transport_name(DHP_TRANSPORT_UEVENT), "uevent");
	CHECK_STR(dhp_transport_name(7), "?");
	CHECK_INT(dhp_phase_vetoable(DHP_PHASE_ADD_START), 1);
	CHECK_INT(dhp_phase_vetoable(DHP_PHASE_REMOVE_QUERY), 1);
	CHECK_INT(dhp_phase_vetoable(DHP_PHASE_REPLACE_START), 0);
	CHECK_INT(dhp_phase_vetoable(DHP_PHASE_ADD_COMPLETE), 0);
}

static void test_hello(void)
{
	struct dhp_proto_msg *m = calloc(1, sizeof(*m));
	struct fake f;
	struct dhp *dhp = NULL;
	char want[160];
	int fd;

	use_tree(tree);
	fake_listen(&f);
	fake_open(&f, &dhp, "workers", 0);
	CHECK_INT(dhp_transport(dhp), DHP_TRANSPORT_AGENT);
	fd = dhp_get_fd(dhp);
	CHECK(fd >= 0);
	/* ping, and op hello: our hello again, then ok. */
	m->type = DHP_PROTO_REQUEST;
	m->request = (struct dhp_proto_request){ .id = 3, .op = DHP_PROTO_OP_PING };
	fake_send(&f, m);
	CHECK(fake_next(&f, dhp, m, 2000));
	CHECK(m->type == DHP_PROTO_REPLY && m->reply.id == 3 && m->reply.result == DHP_PROTO_OK);
	m->type = DHP_PROTO_REQUEST;
	m->request = (struct dhp_proto_request){ .id = 4, .op = DHP_PROTO_OP_HELLO };
	fake_send(&f, m);
	CHECK(fake_next(&f, dhp, m, 2000));
	snprintf(want, sizeof(want), "workers[%ld]", (long)getpid());
	CHECK(m->type == DHP_PROTO_HELLO);
	CHECK_STR(m->hello.agent, want);
	CHECK(fake_next(&f, dhp, m, 2000));
	CHECK(m->type == DHP_PROTO_REPLY && m->reply.id == 4 && m->reply.result == DHP_PROTO_OK);
	CHECK_INT(dhp_get_fd(dhp), fd);
	dhp_close(dhp);
	fake_free(&f);

	/* Without a name: the program's. */
	fake_listen(&f);
	fake_open(&f, &dhp, NULL, 0);
	dhp_close(dhp);
	fake_free(&f);
	free(m);
}

/* Registration order at start and complete; kinds filter; the change. */
static void test_order(void)
{
	struct cb a = { .who = 1 }, b = { .who = 2 }, c = { .who = 3 }, mem = { .who = 9 };
	struct dhp_proto_unit port = { .kind = DHP_PROTO_UNIT_IO_HOST_BRIDGE };
	struct dhp_proto_unit memu = { .kind = DHP_PROTO_UNIT_MEMORY, .phys_addr = 5 * BS,
				       .size = 2 * BS };
	struct dhp_proto_reply r;
	struct dhp *dhp = NULL;
	struct fake f;

	use_tree(tree);
	fake_listen(&f);
	fake_open(&f, &dhp, "order", 0);
	CHECK_INT(dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &a, &a.reg), 0);
	CHECK_INT(dhp_register(dhp, DHP_KIND_MEMORY, 0, on_change, &mem, &mem.reg), 0);
	CHECK_INT(dhp_register(dhp, DHP_KIND_ALL, 0, on_change, &b, &b.reg), 0);
	CHECK_INT(dhp_register(dhp, DHP_KIND_PROCESSOR | DHP_KIND_IO, 0, on_change, &c, &c.reg), 0);
	calls_reset();
	r = notify(&f, dhp, 11, DHP_PROTO_NOTE_ADD_START, cpu_unit(2));
	CHECK_INT(r.result, DHP_PROTO_APPROVE);
	r = notify(&f, dhp, 12, DHP_PROTO_NOTE_ADD_COMPLETE, cpu_unit(2));
	CHECK_INT(r.result, DHP_PROTO_OK);
	CHECK_STR(calls_str(), "1:add-start 2:add-start 3:add-start "
			       "1:add-complete 2:add-complete 3:add-complete");
	CHECK_INT(calls[0].change.size, sizeof(struct dhp_change));
	CHECK_INT(calls[0].change.kind, DHP_KIND_PROCESSOR);
	CHECK_INT(calls[0].change.processor.cpu, 2);
	CHECK_INT(calls[0].change.processor.node, 1);
	CHECK_INT(calls[0].change.flags, 0);

	/* A processor sysfs does not know (gone, or not yet there). */
	calls_reset();
	notify(&f, dhp, 13, DHP_PROTO_NOTE_REMOVE_COMPLETE, cpu_unit(6));
	CHECK_INT(n_calls, 3);
	CHECK_INT(calls[0].change.processor.cpu, 6);
	CHECK_INT(calls[0].change.processor.node, -1);

	/* Memory: only the registrations of the kind. */
	calls_reset();
	r = notify(&f, dhp, 14, DHP_PROTO_NOTE_REMOVE_QUERY, memu);
	CHECK_INT(r.result, DHP_PROTO_APPROVE);
	CHECK_STR(calls_str(), "9:remove-query 2:remove-query");
	CHECK_INT(calls[0].change.kind, DHP_KIND_MEMORY);
	CHECK_INT(calls[0].change.memory.phys_addr, 5 * BS);
	CHECK_INT(calls[0].change.memory.size, 2 * BS);
	CHECK_INT(calls[0].change.memory.node, 1);

	/* I/O: the root port and the functions behind it. */
	calls_reset();
	snprintf(port.slot, sizeof(port.slot), "0000:00:1c.0");
	r = notify(&f, dhp, 15, DHP_PROTO_NOTE_ADD_START, port);
	CHECK_INT(r.result, DHP_PROTO_APPROVE);
	CHECK_STR(calls_str(), "2:add-start 3:add-start");
	CHECK_INT(calls[0].change.kind, DHP_KIND_IO);
	CHECK_STR(calls[0].change.io.slot, "0000:00:1c.0");
	CHECK_INT(calls[0].change.io.segment, 0);
	CHECK_INT(calls[0].change.io.bus, 0);
	CHECK_INT(calls[0].change.io.node, 0);
	CHECK_INT(calls[0].change.io.n_functions, 2);
	CHECK_STR(calls[0].change.io.functions[0].slot, "0000:01:00.0");
	CHECK_INT(calls[0].change.io.functions[0].vendor_id, 0x1af4);
	CHECK_INT(calls[0].change.io.functions[0].device_id, 0x1041);
	CHECK_INT(calls[0].change.io.functions[0].class_code, 0x020000);
	CHECK_STR(calls[0].change.io.functions[1].slot, "0000:01:00.1");
	CHECK_INT(calls[0].change.io.functions[1].device_id, 0x1042);
	/* dhp did not name the port: the whole bus. */
	calls_reset();
	port.slot[0] = '\0';
	notify(&f, dhp, 16, DHP_PROTO_NOTE_ADD_COMPLETE, port);
	CHECK_INT(n_calls, 2);
	CHECK_STR(calls[0].change.io.slot, "");
	CHECK_INT(calls[0].change.io.segment, -1);
	CHECK_INT(calls[0].change.io.n_functions, 0);

	/* Replace: not vetoable, every registration, told ok. */
	calls_reset();
	c.veto = -EBUSY;
	r = notify(&f, dhp, 17, DHP_PROTO_NOTE_REPLACE_START, cpu_unit(1));
	CHECK_INT(r.result, DHP_PROTO_OK);
	r = notify(&f, dhp, 18, DHP_PROTO_NOTE_REPLACE_COMPLETE, cpu_unit(1));
	CHECK_INT(r.result, DHP_PROTO_OK);
	CHECK_STR(calls_str(), "1:replace-start 2:replace-start 3:replace-start "
			       "1:replace-complete 2:replace-complete 3:replace-complete");
	dhp_close(dhp);
	fake_free(&f);
}

/* The first veto stops the chain; approvers get the failure in reverse. */
static void test_veto(void)
{
	struct cb a = { .who = 1 }, b = { .who = 2 }, c = { .who = 3 }, d = { .who = 4 };
	struct dhp_proto_reply r;
	struct dhp *dhp = NULL;
	struct fake f;

	use_tree(tree);
	fake_listen(&f);
	fake_open(&f, &dhp, "guard", 0);
	c.veto = -EBUSY;
	c.reason = "cpu 1 runs the 'orders' shard";
	d.veto = -EPERM;
	d.reason = "never reached";
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &a, &a.reg);
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &b, &b.reg);
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &c, &c.reg);
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &d, &d.reg);
	calls_reset();
	r = notify(&f, dhp, 21, DHP_PROTO_NOTE_REMOVE_QUERY, cpu_unit(1));
	CHECK_INT(r.result, DHP_PROTO_DENY);
	CHECK_STR(r.reason, "cpu 1 runs the 'orders' shard");
	CHECK_INT(r.code, -EBUSY);
	CHECK_STR(calls_str(), "1:remove-query 2:remove-query 3:remove-query "
			       "2:remove-failure 1:remove-failure");
	/* A failure note after the veto (the agent would not send one) is
	 * told to nobody: those who saw the start were told already. */
	calls_reset();
	r = notify(&f, dhp, 22, DHP_PROTO_NOTE_REMOVE_FAILURE, cpu_unit(1));
	CHECK_INT(r.result, DHP_PROTO_OK);
	CHECK_STR(calls_str(), "");

	/* A veto without a reason: the errno's text. A veto by the first. */
	calls_reset();
	a.veto = -EAGAIN;
	r = notify(&f, dhp, 23, DHP_PROTO_NOTE_ADD_START, cpu_unit(5));
	CHECK_INT(r.result, DHP_PROTO_DENY);
	CHECK_STR(r.reason, "Resource temporarily unavailable");
	CHECK_INT(r.code, -EAGAIN);
	CHECK_STR(calls_str(), "1:add-start");

	/* A reason that is not UTF-8 still makes a line (bytes become '?'),
	 * and a positive return approves. */
	calls_reset();
	a.veto = -EBUSY;
	a.reason = "caf\xe9 \xff\xfe busy";
	r = notify(&f, dhp, 24, DHP_PROTO_NOTE_ADD_START, cpu_unit(5));
	CHECK_INT(r.result, DHP_PROTO_DENY);
	CHECK_STR(r.reason, "caf? ?? busy");
	a.veto = 7;
	b.veto = 1;
	calls_reset();
	r = notify(&f, dhp, 25, DHP_PROTO_NOTE_ADD_START, cpu_unit(5));
	CHECK_STR(calls_str(), "1:add-start 2:add-start 3:add-start 2:add-failure 1:add-failure");
	CHECK_INT(r.result, DHP_PROTO_DENY);	/* c's -EBUSY */
	dhp_close(dhp);
	fake_free(&f);
}

/* A failure note later goes only to those that saw the start, in reverse. */
static void test_failure_later(void)
{
	struct cb a = { .who = 1 }, b = { .who = 2 }, c = { .who = 3 }, d = { .who = 4 };
	struct cb m = { .who = 5 };
	struct dhp_proto_unit memu = { .kind = DHP_PROTO_UNIT_MEMORY, .phys_addr = 8 * BS,
				       .size = BS };
	struct dhp_proto_reply r;
	struct dhp *dhp = NULL;
	struct fake f;

	use_tree(tree);
	fake_listen(&f);
	fake_open(&f, &dhp, "later", 0);
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &a, &a.reg);
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &b, &b.reg);
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &c, &c.reg);
	calls_reset();
	r = notify(&f, dhp, 31, DHP_PROTO_NOTE_ADD_START, cpu_unit(4));
	CHECK_INT(r.result, DHP_PROTO_APPROVE);
	/* d comes after the start; b goes. */
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &d, &d.reg);
	dhp_unregister(b.reg);
	r = notify(&f, dhp, 32, DHP_PROTO_NOTE_ADD_FAILURE, cpu_unit(4));
	CHECK_INT(r.result, DHP_PROTO_OK);
	CHECK_STR(calls_str(), "1:add-start 2:add-start 3:add-start 3:add-failure 1:add-failure");
	CHECK_INT(calls[3].change.flags, 0);

	/* The record ended: the same failure again has none, so it goes to
	 * every registration, in reverse, flagged unmatched. */
	calls_reset();
	notify(&f, dhp, 33, DHP_PROTO_NOTE_ADD_FAILURE, cpu_unit(4));
	CHECK_STR(calls_str(), "4:add-failure 3:add-failure 1:add-failure");
	CHECK(calls[0].change.flags & DHP_CHANGE_UNMATCHED);

	/* A complete ends the record too; records are per unit. */
	calls_reset();
	notify(&f, dhp, 34, DHP_PROTO_NOTE_REMOVE_QUERY, cpu_unit(2));
	notify(&f, dhp, 35, DHP_PROTO_NOTE_REMOVE_QUERY, cpu_unit(3));
	notify(&f, dhp, 36, DHP_PROTO_NOTE_REMOVE_COMPLETE, cpu_unit(3));
	dhp_unregister(a.reg);
	notify(&f, dhp, 37, DHP_PROTO_NOTE_REMOVE_FAILURE, cpu_unit(2));
	CHECK_STR(calls_str(), "1:remove-query 3:remove-query 4:remove-query "
			       "1:remove-query 3:remove-query 4:remove-query "
			       "1:remove-complete 3:remove-complete 4:remove-complete "
			       "4:remove-failure 3:remove-failure");
	/* Memory units are told apart by their range. */
	dhp_register(dhp, DHP_KIND_MEMORY, 0, on_change, &m, &m.reg);
	calls_reset();
	notify(&f, dhp, 38, DHP_PROTO_NOTE_REPLACE_START, memu);
	memu.phys_addr = 9 * BS;
	notify(&f, dhp, 39, DHP_PROTO_NOTE_REPLACE_FAILURE, memu);
	memu.phys_addr = 8 * BS;
	notify(&f, dhp, 40, DHP_PROTO_NOTE_REPLACE_FAILURE, memu);
	CHECK_STR(calls_str(), "5:replace-start 5:replace-failure 5:replace-failure");
	CHECK(calls[1].change.flags & DHP_CHANGE_UNMATCHED);
	CHECK(!(calls[2].change.flags & DHP_CHANGE_UNMATCHED));
	CHECK_INT(calls[1].change.memory.node, -1);	/* block 9 is not there */
	CHECK_INT(calls[2].change.memory.node, 1);
	dhp_close(dhp);
	fake_free(&f);
}

/* DHP_REGISTER_ADD_EXISTING replays what is online, flagged EXISTING. */
static void test_add_existing(void)
{
	struct cb a = { .who = 1 }, b = { .who = 2 }, self = { .who = 3, .unregister_self = true };
	struct dhp_registration *reg;
	struct dhp *dhp = NULL;

	use_tree(tree);
	CHECK_INT(dhp_open(&dhp, "cache", DHP_OPEN_NO_AGENT), 0);
	calls_reset();
	CHECK_INT(dhp_register(dhp, DHP_KIND_PROCESSOR | DHP_KIND_MEMORY,
			       DHP_REGISTER_ADD_EXISTING, on_change, &a, &a.reg), 0);
	CHECK(a.reg != NULL);
	CHECK_INT(n_calls, 4 + 3);
	for (size_t i = 0; i < n_calls && i < 4; i++) {
		CHECK_INT(calls[i].change.phase, DHP_PHASE_ADD_COMPLETE);
		CHECK_INT(calls[i].change.kind, DHP_KIND_PROCESSOR);
		CHECK_INT(calls[i].change.flags, DHP_CHANGE_EXISTING);
		CHECK_INT(calls[i].change.processor.cpu, i);
		CHECK_INT(calls[i].change.processor.node, i == 2);
	}
	/* Blocks 0-3 on node 0, 5-6 on node 1, 8 on node 1 (7 is missing). */
	if (n_calls == 7) {
		CHECK_INT(calls[4].change.kind, DHP_KIND_MEMORY);
		CHECK_INT(calls[4].change.flags, DHP_CHANGE_EXISTING);
		CHECK_INT(calls[4].change.memory.phys_addr, 0);
		CHECK_INT(calls[4].change.memory.size, 4 * BS);
		CHECK_INT(calls[4].change.memory.node, 0);
		CHECK_INT(calls[5].change.memory.phys_addr, 5 * BS);
		CHECK_INT(calls[5].change.memory.size, 2 * BS);
		CHECK_INT(calls[5].change.memory.node, 1);
		CHECK_INT(calls[6].change.memory.phys_addr, 8 * BS);
		CHECK_INT(calls[6].change.memory.size, BS);
	}
	/* Memory only; nothing replayed without the flag; I/O never. */
	calls_reset();
	dhp_register(dhp, DHP_KIND_MEMORY, DHP_REGISTER_ADD_EXISTING, on_change, &b, &b.reg);
	CHECK_INT(n_calls, 3);
	calls_reset();
	dhp_register(dhp, DHP_KIND_ALL, 0, on_change, &b, &reg);
	dhp_register(dhp, DHP_KIND_IO, DHP_REGISTER_ADD_EXISTING, on_change, &b, &reg);
	CHECK_INT(n_calls, 0);
	/* A replayed callback that unregisters itself: no more replay, and
	 * *ret is NULL. */
	calls_reset();
	CHECK_INT(dhp_register(dhp, DHP_KIND_PROCESSOR, DHP_REGISTER_ADD_EXISTING, on_change, &self,
			       &self.reg), 0);
	CHECK_INT(n_calls, 1);
	CHECK(self.reg == NULL);
	dhp_close(dhp);
}

/* Unregistering from callbacks: itself, another, during a chain. */
static void test_unregister_in_callback(void)
{
	struct cb a = { .who = 1 }, b = { .who = 2 }, c = { .who = 3 }, d = { .who = 4 };
	struct dhp_proto_reply r;
	struct dhp *dhp = NULL;
	struct fake f;

	use_tree(tree);
	fake_listen(&f);
	fake_open(&f, &dhp, "unreg", 0);
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &a, &a.reg);
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &b, &b.reg);
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &c, &c.reg);
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &d, &d.reg);
	/* a goes at its first call; b takes c out before c's turn; d vetoes:
	 * the failure goes back to b only (a is gone, c never saw it). */
	a.unregister_self = true;
	b.unregister_other = &c.reg;
	d.veto = -EBUSY;
	d.reason = "no";
	calls_reset();
	r = notify(&f, dhp, 41, DHP_PROTO_NOTE_ADD_START, cpu_unit(6));
	CHECK_INT(r.result, DHP_PROTO_DENY);
	CHECK_STR(calls_str(), "1:add-start 2:add-start 4:add-start 2:add-failure");
	/* They stay gone. */
	calls_reset();
	d.veto = 0;
	notify(&f, dhp, 42, DHP_PROTO_NOTE_ADD_COMPLETE, cpu_unit(6));
	CHECK_STR(calls_str(), "2:add-complete 4:add-complete");
	/* Reentrancy from a callback: dispatch and stop_thread refused,
	 * close ignored. */
	b.dhp = dhp;
	calls_reset();
	r = notify(&f, dhp, 43, DHP_PROTO_NOTE_ADD_COMPLETE, cpu_unit(6));
	CHECK_INT(r.result, DHP_PROTO_OK);
	CHECK_INT(b.dispatch_rc, -EBUSY);
	CHECK_INT(b.stop_rc, 0);	/* no thread: nothing to stop */
	CHECK_STR(calls_str(), "2:add-complete 4:add-complete");
	b.dhp = NULL;
	dhp_close(dhp);
	fake_free(&f);
}

/* Dispatch never blocks: nothing there, or half a line. */
static void test_dispatch_nonblocking(void)
{
	struct cb a = { .who = 1 };
	struct dhp *dhp = NULL;
	const char *line;
	struct fake f;
	int64_t t0;
	int r;

	use_tree(tree);
	fake_listen(&f);
	fake_open(&f, &dhp, "nb", 0);
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &a, &a.reg);
	t0 = now_ms();
	for (int i = 0; i < 100; i++)
		CHECK_INT(dhp_dispatch(dhp), 0);
	line = "{\"type\":\"request\",\"id\":51,\"op\":\"notify\",";
	fake_write(&f, line, strlen(line));
	usleep(20000);
	CHECK_INT(dhp_dispatch(dhp), 0);
	CHECK(now_ms() - t0 < 500);
	calls_reset();
	line = "\"note\":\"add-complete\",\"unit\":{\"kind\":\"processor\",\"cpu\":1}}\n";
	fake_write(&f, line, strlen(line));
	{
		struct pollfd p = { .fd = dhp_get_fd(dhp), .events = POLLIN };

		CHECK_INT(poll(&p, 1, 2000), 1);
	}
	r = dhp_dispatch(dhp);
	CHECK_INT(r, 1);
	CHECK_STR(calls_str(), "1:add-complete");
	dhp_close(dhp);
	fake_free(&f);
}

/* The helper thread dispatches; callbacks run on it. */
static void test_thread(void)
{
	struct cb a = { .who = 1 }, b = { .who = 2, .veto = -EBUSY, .reason = "busy" };
	struct dhp_proto_reply r;
	struct dhp *dhp = NULL;
	struct fake f;

	use_tree(tree);
	fake_listen(&f);
	fake_open(&f, &dhp, "threaded", 0);
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &a, &a.reg);
	CHECK_INT(dhp_start_thread(dhp), 0);
	CHECK_INT(dhp_start_thread(dhp), -EALREADY);
	CHECK_INT(dhp_dispatch(dhp), -EBUSY);
	calls_reset();
	r = notify(&f, NULL, 61, DHP_PROTO_NOTE_ADD_START, cpu_unit(3));
	CHECK_INT(r.result, DHP_PROTO_APPROVE);
	CHECK_INT(n_calls, 1);
	CHECK(n_calls == 1 && !pthread_equal(calls[0].thread, pthread_self()));
	/* Register from this thread while the helper runs. */
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &b, &b.reg);
	r = notify(&f, NULL, 62, DHP_PROTO_NOTE_REMOVE_QUERY, cpu_unit(3));
	CHECK_INT(r.result, DHP_PROTO_DENY);
	CHECK_STR(calls_str(), "1:add-start 1:remove-query 2:remove-query 1:remove-failure");
	/* From a callback on the helper: stop_thread would wait for itself. */
	b.veto = 0;
	b.dhp = dhp;
	calls_reset();
	notify(&f, NULL, 63, DHP_PROTO_NOTE_ADD_COMPLETE, cpu_unit(3));
	CHECK_INT(b.stop_rc, -EDEADLK);
	CHECK_INT(b.dispatch_rc, -EBUSY);
	b.dhp = NULL;
	/* After unregister returns, the callback does not run any more. */
	dhp_unregister(b.reg);
	calls_reset();
	notify(&f, NULL, 64, DHP_PROTO_NOTE_ADD_COMPLETE, cpu_unit(3));
	CHECK_STR(calls_str(), "1:add-complete");
	CHECK_INT(dhp_stop_thread(dhp), 0);
	CHECK_INT(dhp_stop_thread(dhp), 0);
	CHECK_INT(dhp_dispatch(dhp), 0);
	/* Closing with the thread running joins it. */
	CHECK_INT(dhp_start_thread(dhp), 0);
	dhp_close(dhp);
	fake_free(&f);
}

/* ---- the agent goes and comes ---- */

struct transport_log {
	uint32_t transport[16];
	int error[16];
	size_t n;
};

static void on_transport(struct dhp *dhp, uint32_t transport, int error, void *userdata)
{
	struct transport_log *log = userdata;

	CHECK(dhp != NULL);
	if (log->n < 16) {
		log->transport[log->n] = transport;
		log->error[log->n++] = error;
	}
}

/* Dispatch until the transport callback was told n things. */
static void wait_transport(struct dhp *dhp, struct transport_log *log, size_t n, int ms)
{
	int64_t end = now_ms() + ms;

	while (log->n < n && now_ms() < end) {
		struct pollfd p = { .fd = dhp_get_fd(dhp), .events = POLLIN };

		poll(&p, 1, 20);
		dhp_dispatch(dhp);
	}
}

static void test_agent_disconnect(void)
{
	struct transport_log log = { 0 };
	struct cb a = { .who = 1 };
	struct dhp_proto_reply r;
	struct dhp *dhp = NULL;
	struct fake f;
	pthread_t t;

	use_tree(tree);
	fake_listen(&f);
	fake_open(&f, &dhp, "reconnect", 0);
	int fd = dhp_get_fd(dhp);

	dhp_set_transport_callback(dhp, on_transport, &log);
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &a, &a.reg);
	/* The agent goes: uevents, said with ECONNRESET. */
	fake_close(&f);
	wait_transport(dhp, &log, 1, 2000);
	CHECK_INT(log.n, 1);
	CHECK_INT(log.transport[0], DHP_TRANSPORT_UEVENT);
	CHECK_INT(log.error[0], -ECONNRESET);
	CHECK_INT(dhp_transport(dhp), DHP_TRANSPORT_UEVENT);
	CHECK_INT(dhp_get_fd(dhp), fd);
	/* It comes back: the library reconnects by itself (its timer is in
	 * the descriptor) and says hello again. */
	pthread_create(&t, NULL, accept_main, &f);
	wait_transport(dhp, &log, 2, 3000);
	pthread_join(t, NULL);
	CHECK_INT(log.n, 2);
	CHECK_INT(log.transport[1], DHP_TRANSPORT_AGENT);
	CHECK_INT(log.error[1], 0);
	CHECK_INT(dhp_transport(dhp), DHP_TRANSPORT_AGENT);
	dhp_proto_reader_init(&f.reader);
	{
		struct dhp_proto_msg *m = calloc(1, sizeof(*m));

		CHECK(fake_next(&f, dhp, m, 2000));
		CHECK_INT(m->type, DHP_PROTO_HELLO);
		free(m);
	}
	calls_reset();
	r = notify(&f, dhp, 71, DHP_PROTO_NOTE_ADD_START, cpu_unit(3));
	CHECK_INT(r.result, DHP_PROTO_APPROVE);
	CHECK_STR(calls_str(), "1:add-start");

	/* Too many applications: the agent says ENFILE and hangs up. */
	{
		struct dhp_proto_msg *m = calloc(1, sizeof(*m));

		m->type = DHP_PROTO_EVENT;
		m->event.kind = DHP_PROTO_EVENT_ERROR;
		m->event.code = -ENFILE;
		snprintf(m->event.reason, sizeof(m->event.reason), "too many applications");
		fake_send(&f, m);
		free(m);
	}
	fake_close(&f);
	wait_transport(dhp, &log, 3, 2000);
	CHECK_INT(log.n, 3);
	CHECK_INT(log.transport[2], DHP_TRANSPORT_UEVENT);
	CHECK_INT(log.error[2], -ENFILE);
	dhp_close(dhp);
	fake_free(&f);

	/* No agent at all: uevents at once, or nothing with NO_UEVENTS (and
	 * the agent is taken when it comes, its hello making it the
	 * transport). */
	CHECK_INT(dhp_open(&dhp, "alone", 0), 0);
	CHECK_INT(dhp_transport(dhp), DHP_TRANSPORT_UEVENT);
	dhp_close(dhp);
	CHECK_INT(dhp_open(&dhp, "alone", DHP_OPEN_NO_UEVENTS), 0);
	CHECK_INT(dhp_transport(dhp), DHP_TRANSPORT_NONE);
	memset(&log, 0, sizeof(log));
	dhp_set_transport_callback(dhp, on_transport, &log);
	fake_listen(&f);
	pthread_create(&t, NULL, accept_main, &f);
	wait_transport(dhp, &log, 1, 8000);
	pthread_join(t, NULL);
	CHECK_INT(dhp_transport(dhp), DHP_TRANSPORT_AGENT);
	fake_close(&f);
	memset(&log, 0, sizeof(log));
	wait_transport(dhp, &log, 1, 2000);
	CHECK_INT(log.n, 1);
	CHECK_INT(log.transport[0], DHP_TRANSPORT_NONE);
	CHECK_INT(log.error[0], -ECONNRESET);
	dhp_close(dhp);
	fake_free(&f);

	/* An agent slow to say hello: dhp_open waits 1 s, then the fallback
	 * serves until the hello comes. */
	fake_listen(&f);
	f.send_hello = false;
	pthread_create(&t, NULL, accept_main, &f);
	CHECK_INT(dhp_open(&dhp, "early", 0), 0);
	pthread_join(t, NULL);
	CHECK_INT(dhp_transport(dhp), DHP_TRANSPORT_UEVENT);
	memset(&log, 0, sizeof(log));
	dhp_set_transport_callback(dhp, on_transport, &log);
	fake_hello(&f, DHP_PROTO_VERSION);
	wait_transport(dhp, &log, 1, 2000);
	CHECK_INT(dhp_transport(dhp), DHP_TRANSPORT_AGENT);
	CHECK(log.n == 1 && log.error[0] == 0);
	dhp_close(dhp);
	fake_free(&f);
}

/* ---- bad lines from the agent ---- */

static void expect_error_event(struct fake *f, struct dhp *dhp, int code)
{
	struct dhp_proto_msg *m = calloc(1, sizeof(*m));

	CHECK(fake_next(f, dhp, m, 2000));
	CHECK_INT(m->type, DHP_PROTO_EVENT);
	CHECK_INT(m->event.kind, DHP_PROTO_EVENT_ERROR);
	CHECK_INT(m->event.code, code);
	free(m);
}

static void expect_error_reply(struct fake *f, struct dhp *dhp, uint64_t id, int code)
{
	struct dhp_proto_msg *m = calloc(1, sizeof(*m));

	CHECK(fake_next(f, dhp, m, 2000));
	CHECK_INT(m->type, DHP_PROTO_REPLY);
	CHECK_INT(m->reply.id, id);
	CHECK_INT(m->reply.result, DHP_PROTO_ERROR);
	CHECK_INT(m->reply.code, code);
	free(m);
}

static void test_bad_lines(void)
{
	struct transport_log log = { 0 };
	struct cb a = { .who = 1 };
	struct dhp_proto_reply r;
	struct dhp_proto_msg *m = calloc(1, sizeof(*m));
	struct dhp *dhp = NULL;
	struct fake f;
	char *big;
	const char *line;

	use_tree(tree);
	fake_listen(&f);
	fake_open(&f, &dhp, "bad", 0);
	dhp_register(dhp, DHP_KIND_ALL, 0, on_change, &a, &a.reg);
	dhp_set_transport_callback(dhp, on_transport, &log);
	calls_reset();

	line = "this is not json\n";
	fake_write(&f, line, strlen(line));
	expect_error_event(&f, dhp, -EINVAL);
	/* Over the cap: refused once, the rest skipped, then read on. */
	big = malloc(DHP_PROTO_LINE_MAX * 2 + 2);
	memset(big, 'x', DHP_PROTO_LINE_MAX * 2);
	memcpy(big, "{\"type\":\"request\",\"id\":1,\"op\":\"ping\",\"pad\":\"", 45);
	big[DHP_PROTO_LINE_MAX * 2] = '\n';
	fake_write(&f, big, DHP_PROTO_LINE_MAX * 2 + 1);
	free(big);
	expect_error_event(&f, dhp, -EMSGSIZE);
	/* An unknown op, a bad unit, an op that is the agent's: error replies. */
	line = "{\"type\":\"request\",\"id\":81,\"op\":\"reboot\"}\n";
	fake_write(&f, line, strlen(line));
	expect_error_reply(&f, dhp, 81, -EINVAL);
	line = "{\"type\":\"request\",\"id\":82,\"op\":\"notify\",\"note\":\"add-start\","
	       "\"unit\":{\"kind\":\"io-host-bridge\",\"slot\":\"../../etc\"}}\n";
	fake_write(&f, line, strlen(line));
	expect_error_reply(&f, dhp, 82, -EINVAL);
	line = "{\"type\":\"request\",\"id\":83,\"op\":\"online\",\"unit\":{\"kind\":\"processor\","
	       "\"cpu\":1}}\n";
	fake_write(&f, line, strlen(line));
	expect_error_reply(&f, dhp, 83, -EOPNOTSUPP);
	/* No id: an error event. An unknown type with an id: an error reply. */
	line = "{\"type\":\"request\",\"op\":\"ping\"}\n";
	fake_write(&f, line, strlen(line));
	expect_error_event(&f, dhp, -EINVAL);
	line = "{\"type\":\"gossip\",\"id\":84}\n";
	fake_write(&f, line, strlen(line));
	expect_error_reply(&f, dhp, 84, -EINVAL);
	/* Replies and events, even malformed, are never answered; unknown
	 * keys are ignored; NUL bytes refused. */
	line = "{\"type\":\"reply\",\"id\":\"x\"}\n{\"type\":\"event\",\"event\":\"bogus\"}\n"
	       "{\"type\":\"reply\",\"id\":5,\"result\":\"ok\"}\n";
	fake_write(&f, line, strlen(line));
	fake_write(&f, "{\"type\":\0\"x\"}\n", 14);
	expect_error_event(&f, dhp, -EINVAL);
	line = "{\"type\":\"request\",\"id\":85,\"op\":\"ping\",\"future\":{\"a\":[1,2]}}\n";
	fake_write(&f, line, strlen(line));
	CHECK(fake_next(&f, dhp, m, 2000));
	CHECK(m->type == DHP_PROTO_REPLY && m->reply.id == 85 && m->reply.result == DHP_PROTO_OK);
	/* Through all that, nothing reached the callbacks, and it still works. */
	CHECK_INT(n_calls, 0);
	r = notify(&f, dhp, 86, DHP_PROTO_NOTE_ADD_START, cpu_unit(1));
	CHECK_INT(r.result, DHP_PROTO_APPROVE);
	CHECK_INT(n_calls, 1);
	CHECK_INT(log.n, 0);
	CHECK_INT(dhp_transport(dhp), DHP_TRANSPORT_AGENT);
	/* A newer agent: refused with EPROTONOSUPPORT, and we hang up. */
	fake_hello(&f, DHP_PROTO_VERSION + 1);
	expect_error_event(&f, dhp, -EPROTONOSUPPORT);
	wait_transport(dhp, &log, 1, 2000);
	CHECK_INT(log.n, 1);
	CHECK_INT(log.error[0], -EPROTONOSUPPORT);
	CHECK_INT(dhp_transport(dhp), DHP_TRANSPORT_UEVENT);
	CHECK(!fake_pump(&f, 1000));	/* EOF */
	dhp_close(dhp);
	fake_free(&f);
	free(m);
}

/* ---- with the real dhp-agent ---- */

/*
 * The other end for real: build/dhp-agent with its application socket in
 * the temporary directory, this test playing dhpd on its --socket. A veto
 * comes back to dhpd as "vetoed by NAME[PID]: REASON"; failures reach the
 * callbacks that saw the start, in reverse.
 */
static void test_real_agent(void)
{
	const char *build = getenv("DHP_BUILD");
	char agent_path[512], chan[108], app[108], log_path[160], want[300];
	struct cb a = { .who = 1 }, b = { .who = 2, .veto = -EBUSY, .reason = "cpu 1 runs a shard" };
	struct dhp_proto_msg *m = calloc(1, sizeof(*m));
	struct dhp_proto_reply r;
	struct dhp *dhp = NULL;
	struct fake dhpd;
	pid_t pid;
	int status;

	snprintf(agent_path, sizeof(agent_path), "%s/dhp-agent", build && *build ? build : "build");
	if (access(agent_path, X_OK) < 0) {
		test_skip("%s is not built", agent_path);
		free(m);
		return;
	}
	snprintf(chan, sizeof(chan), "%s/dhpd.sock", workdir);
	snprintf(app, sizeof(app), "%s/apps.sock", workdir);
	snprintf(log_path, sizeof(log_path), "%s/agent.log", workdir);
	fake_listen_at(&dhpd, chan);
	pid = fork();
	if (pid == 0) {
		int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

		if (fd >= 0)
			dup2(fd, 2);
		execl(agent_path, "dhp-agent", "--socket", chan, "--sysfs", tree, "--no-uevents",
		      "--verbose", "--app-socket", app, "--app-timeout-ms", "3000", (char *)NULL);
		_exit(127);
	}
	{
		struct pollfd p = { .fd = dhpd.lfd, .events = POLLIN };

		CHECK_MSG(poll(&p, 1, 10000) == 1, "dhp-agent did not connect (%s)", log_path);
		dhpd.fd = accept4(dhpd.lfd, NULL, NULL, SOCK_CLOEXEC);
	}
	if (!fake_next(&dhpd, NULL, m, 5000)) {
		CHECK_MSG(0, "no hello from dhp-agent (%s)", log_path);
		goto out;
	}
	if (m->type != DHP_PROTO_HELLO || !(m->hello.caps & DHP_PROTO_CAP_VETO)) {
		test_skip("this dhp-agent does not relay to applications");
		goto out;
	}
	for (int i = 0; i < 500 && access(app, F_OK) < 0; i++)
		usleep(10000);
	setenv("DHP_AGENT_SOCKET", app, 1);
	CHECK_INT(dhp_open(&dhp, "interop", 0), 0);
	CHECK_INT(dhp_transport(dhp), DHP_TRANSPORT_AGENT);
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &a, &a.reg);
	dhp_register(dhp, DHP_KIND_PROCESSOR, 0, on_change, &b, &b.reg);
	CHECK_INT(dhp_start_thread(dhp), 0);
	calls_reset();
	r = notify(&dhpd, NULL, 1, DHP_PROTO_NOTE_REMOVE_QUERY, cpu_unit(1));
	CHECK_INT(r.result, DHP_PROTO_DENY);
	snprintf(want, sizeof(want), "vetoed by interop[%ld]: cpu 1 runs a shard", (long)getpid());
	CHECK_STR(r.reason, want);
	CHECK_STR(calls_str(), "1:remove-query 2:remove-query 1:remove-failure");
	calls_reset();
	b.veto = 0;
	r = notify(&dhpd, NULL, 2, DHP_PROTO_NOTE_ADD_START, cpu_unit(5));
	CHECK_INT(r.result, DHP_PROTO_APPROVE);
	r = notify(&dhpd, NULL, 3, DHP_PROTO_NOTE_ADD_FAILURE, cpu_unit(5));
	CHECK_INT(r.result, DHP_PROTO_OK);
	r = notify(&dhpd, NULL, 4, DHP_PROTO_NOTE_ADD_COMPLETE, cpu_unit(6));
	CHECK_INT(r.result, DHP_PROTO_OK);
	CHECK_STR(calls_str(), "1:add-start 2:add-start 2:add-failure 1:add-failure "
			       "1:add-complete 2:add-complete");
	dhp_close(dhp);
out:
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	fake_free(&dhpd);
	unlink(chan);
	setenv("DHP_AGENT_SOCKET", sock_path, 1);
	free(m);
}

/* ---- queries ---- */

static void test_queries(void)
{
	uint64_t mask[128], small[16], bytes = 0;
	uint32_t count = 0, max = 0;
	struct dhp *dhp = NULL;
	char path[1200];

	use_tree(bigtree);
	CHECK_INT(dhp_open(&dhp, "q", DHP_OPEN_NO_AGENT), 0);
	CHECK_INT(dhp_cpus_possible(dhp, &max), 0);
	CHECK_INT(max, 8192);
	memset(mask, 0xa5, sizeof(mask));
	CHECK_INT(dhp_cpus_online(dhp, mask, 128, &count), 0);
	CHECK_INT(count, 1024 + 1 + 96);
	for (int i = 0; i < 16; i++)
		CHECK_INT(mask[i], ~0ull);
	CHECK_INT(mask[1500 / 64], 1ull << (1500 % 64));
	CHECK_INT(mask[4000 / 64], ~0ull << (4000 % 64));
	CHECK_INT(mask[63], ~0ull);
	CHECK_INT(mask[64], 0);
	CHECK_INT(mask[127], 0);
	/* Too small (cpu_set_t's 1,024): the words needed, nothing written. */
	memset(small, 0x5a, sizeof(small));
	count = 0;
	CHECK_INT(dhp_cpus_online(dhp, small, 16, &count), -ENOBUFS);
	CHECK_INT(count, 64);
	CHECK_INT(small[0], 0x5a5a5a5a5a5a5a5aull);
	CHECK_INT(dhp_cpus_online(dhp, NULL, 0, &count), -ENOBUFS);
	CHECK_INT(count, 64);
	/* Never stale: the next call reads the new file. */
	put(bigtree, "0-1,9000\n", "devices/system/cpu/online");
	CHECK_INT(dhp_cpus_online(dhp, mask, 128, &count), -ENOBUFS);
	CHECK_INT(count, 141);
	put(bigtree, "0-1\n", "devices/system/cpu/online");
	CHECK_INT(dhp_cpus_online(dhp, small, 1, &count), 0);
	CHECK_INT(count, 2);
	CHECK_INT(small[0], 3);
	/* Malformed: -EIO; missing: -ENOENT. */
	put(bigtree, "0-x\n", "devices/system/cpu/online");
	CHECK_INT(dhp_cpus_online(dhp, small, 1, &count), -EIO);
	put(bigtree, "3-1\n", "devices/system/cpu/online");
	CHECK_INT(dhp_cpus_online(dhp, small, 1, &count), -EIO);
	snprintf(path, sizeof(path), "%s/devices/system/cpu/online", bigtree);
	unlink(path);
	CHECK_INT(dhp_cpus_online(dhp, small, 1, &count), -ENOENT);
	put(bigtree, "0-1023,1500,4000-4095\n", "devices/system/cpu/online");
	/* No memory hotplug in this tree: the page count. */
	CHECK_INT(dhp_memory_size(dhp, &bytes), 0);
	CHECK_INT(bytes, (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE));
	dhp_close(dhp);

	use_tree(tree);
	CHECK_INT(dhp_open(&dhp, "q", DHP_OPEN_NO_AGENT), 0);
	CHECK_INT(dhp_memory_size(dhp, &bytes), 0);
	CHECK_INT(bytes, 7 * BS);
	put(tree, "offline\n", "devices/system/memory/memory8/state");
	CHECK_INT(dhp_memory_size(dhp, &bytes), 0);
	CHECK_INT(bytes, 6 * BS);
	put(tree, "online\n", "devices/system/memory/memory8/state");
	CHECK_INT(dhp_cpus_possible(dhp, &max), 0);
	CHECK_INT(max, 8);
	dhp_close(dhp);
}

/* ---- the uevent fallback, with real kernel uevents ---- */

static bool write_file(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
	close(fd);
	return ok;
}

/* Dispatch until a change of kind with flag UEVENT arrived. */
static bool wait_change(struct dhp *dhp, uint32_t kind, int ms)
{
	int64_t end = now_ms() + ms;

	while (now_ms() < end) {
		struct pollfd p = { .fd = dhp_get_fd(dhp), .events = POLLIN };

		poll(&p, 1, 50);
		dhp_dispatch(dhp);
		for (size_t i = 0; i < n_calls; i++)
			if (calls[i].change.kind == kind)
				return true;
	}
	return false;
}

static void test_real_uevents(void)
{
	const char *cpu0 = "/sys/devices/system/cpu/cpu0/uevent";
	struct cb a = { .who = 1 };
	struct dhp *dhp = NULL;
	char path[128], state[32] = "";
	uint64_t block = 0, bs = 0;
	FILE *f;
	int r;

	unsetenv("DHP_SYSFS_ROOT");
	if (geteuid() != 0 || access(cpu0, W_OK) < 0) {
		test_skip("needs root and a writable /sys (synthetic uevents)");
		return;
	}
	r = dhp_open(&dhp, "uevents", DHP_OPEN_NO_AGENT);
	if (r < 0) {
		test_skip("no NETLINK_KOBJECT_UEVENT socket here: %s", strerror(-r));
		return;
	}
	CHECK_INT(dhp_transport(dhp), DHP_TRANSPORT_UEVENT);
	dhp_register(dhp, DHP_KIND_ALL, 0, on_change, &a, &a.reg);
	calls_reset();
	/* A synthetic uevent: the kernel sends "online" for cpu0 as it would
	 * for a processor brought online; nothing changes. */
	CHECK(write_file(cpu0, "online"));
	if (!wait_change(dhp, DHP_KIND_PROCESSOR, 3000)) {
		test_skip("the kernel's uevents do not reach this network namespace");
		dhp_close(dhp);
		return;
	}
	for (size_t i = 0; i < n_calls; i++)
		if (calls[i].change.kind == DHP_KIND_PROCESSOR) {
			CHECK_INT(calls[i].change.phase, DHP_PHASE_ADD_COMPLETE);
			CHECK_INT(calls[i].change.processor.cpu, 0);
			CHECK_INT(calls[i].change.flags, DHP_CHANGE_UEVENT);
			break;
		}
	/* A memory block: its range. */
	f = fopen("/sys/devices/system/memory/block_size_bytes", "r");
	if (f) {
		if (fscanf(f, "%" SCNx64, &bs) != 1)
			bs = 0;
		fclose(f);
	}
	for (block = 0; bs && block < 4096; block++) {
		snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%" PRIu64 "/state",
			 block);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (!fgets(state, sizeof(state), f))
			state[0] = '\0';
		fclose(f);
		if (!strcmp(state, "online\n"))
			break;
	}
	if (bs && block < 4096) {
		snprintf(path, sizeof(path), "/sys/devices/system/memory/memory%" PRIu64 "/uevent",
			 block);
		calls_reset();
		CHECK(write_file(path, "online"));
		CHECK(wait_change(dhp, DHP_KIND_MEMORY, 3000));
		for (size_t i = 0; i < n_calls; i++)
			if (calls[i].change.kind == DHP_KIND_MEMORY) {
				CHECK_INT(calls[i].change.phase, DHP_PHASE_ADD_COMPLETE);
				CHECK_INT(calls[i].change.memory.phys_addr, block * bs);
				CHECK_INT(calls[i].change.memory.size, bs);
				CHECK_INT(calls[i].change.flags, DHP_CHANGE_UEVENT);
				break;
			}
	}
	dhp_close(dhp);
}

int main(void)
{
	const char *base = getenv("DHP_TEST_TMP");

	signal(SIGPIPE, SIG_IGN);
	if (!base || !*base || strlen(base) > sizeof(workdir) - 16)
		base = "/tmp";
	snprintf(workdir, sizeof(workdir), "%s/t1400-XXXXXX", base);
	if (!mkdtemp(workdir)) {
		perror(workdir);
		return 1;
	}
	snprintf(tree, sizeof(tree), "%s/sys", workdir);
	snprintf(bigtree, sizeof(bigtree), "%s/bigsys", workdir);
	snprintf(sock_path, sizeof(sock_path), "%s/agent.sock", workdir);
	tree_make();

	RUN(test_args);
	RUN(test_hello);
	RUN(test_order);
	RUN(test_veto);
	RUN(test_failure_later);
	RUN(test_add_existing);
	RUN(test_unregister_in_callback);
	RUN(test_dispatch_nonblocking);
	RUN(test_thread);
	RUN(test_agent_disconnect);
	RUN(test_bad_lines);
	RUN(test_real_agent);
	RUN(test_queries);
	RUN(test_real_uevents);

	if (!getenv("DHP_KEEP"))
		nftw(workdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return test_done();
}
