/* SPDX-License-Identifier: MIT */
/*
 * dhp-agent relays dhpd's notifications to the applications registered on
 * its local socket (docs/agent-protocol.md, Applications).
 *
 * The real build/dhp-agent runs against a small fake sysfs tree; this test
 * plays dhpd on one unix socket (--socket) and several applications on the
 * agent's (--app-socket, in a temporary directory: never the host's
 * /run/dhp-agent.sock), all speaking the protocol through
 * dhp_proto_encode/decode. It checks the hellos, approval, vetoes and the
 * failure notes that undo them (in reverse registration order, one at a
 * time), the per-unit record of who saw a start, timeouts, disconnects,
 * bad input, the cap on applications, a stuck application, SIGTERM in the
 * middle of a wait, and --no-apps.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proto/proto.h"

#define TIMEOUT_MS 300		/* --app-timeout-ms of test_timeout's agent */
#define QUIET_MS 100		/* how long "nothing comes" is watched */

static char workdir[512], tree[600], chan_path[640], app_path[640], log_path[640];
static char agent_path[512];

/* One end of a line-oriented socket: dhpd's, or an application's. */
struct conn {
	int fd;
	char name[64];		/* an application's, as its hello says */
	char buf[3 * DHP_PROTO_LINE_MAX];
	size_t len;
	uint64_t next_id;	/* its own requests (pings) */
};

static struct {
	pid_t pid;
	int listen_fd;
	struct conn dhpd;
} agent = { .pid = -1, .listen_fd = -1, .dhpd = { .fd = -1 } };

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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

static int unix_addr(const char *path, struct sockaddr_un *sa)
{
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

/* The agent's dhpd side needs only a sysfs root that reads. */
static void setup(void)
{
	const char *base = getenv("DHP_TEST_TMP"), *build = getenv("DHP_BUILD");
	struct sockaddr_un sa;
	int fd;

	snprintf(workdir, sizeof(workdir), "%s/dhp-t1150-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(workdir)) {
		perror(workdir);
		exit(2);
	}
	snprintf(tree, sizeof(tree), "%s/sys", workdir);
	snprintf(chan_path, sizeof(chan_path), "%s/agent.sock", workdir);
	snprintf(app_path, sizeof(app_path), "%s/apps.sock", workdir);
	snprintf(log_path, sizeof(log_path), "%s/agent.log", workdir);
	snprintf(agent_path, sizeof(agent_path), "%s/dhp-agent", build && *build ? build : "build");
	mkdir(tree, 0755);
	put("devices/system/cpu/possible", "0-7\n");
	put("devices/system/cpu/cpu0/uevent", "");
	put("devices/system/cpu/cpu1/online", "1\n");
	/* A stale socket file, as an agent killed with SIGKILL leaves it. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || unix_addr(app_path, &sa) || bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		perror(app_path);
		exit(2);
	}
	close(fd);
}

static int remove_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(p);
}

/* The next line within timeout_ms: 0, -ETIMEDOUT, or -EPIPE at EOF. */
static int conn_line(struct conn *c, char *out, size_t size, int timeout_ms)
{
	return test_read_line(c->fd, c->buf, sizeof(c->buf), &c->len, out, size, timeout_ms);
}

/* The next message; NULL (and a failed CHECK) if none comes or it is bad. */
static struct dhp_proto_msg *conn_msg(struct conn *c)
{
	struct dhp_proto_msg *m = calloc(1, sizeof(*m));
	struct dhp_error err = { 0 };
	char line[DHP_PROTO_LINE_MAX + 1];
	int r = m ? conn_line(c, line, sizeof(line), 5000) : -ENOMEM;

	CHECK_MSG(r == 0, "%s: no line from dhp-agent: %s", c->name, strerror(-r));
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

/* Nothing comes within QUIET_MS. */
static bool conn_quiet(struct conn *c)
{
	char line[DHP_PROTO_LINE_MAX + 1];

	return conn_line(c, line, sizeof(line), QUIET_MS) == -ETIMEDOUT;
}

/* The connection is closed by the agent (after what it still had to say). */
static bool conn_closed(struct conn *c)
{
	char line[DHP_PROTO_LINE_MAX + 1];
	int r;

	while ((r = conn_line(c, line, sizeof(line), 5000)) == 0)
		;
	return r == -EPIPE;
}

static void conn_text(struct conn *c, const char *text)
{
	size_t len = strlen(text);

	CHECK_MSG((size_t)write(c->fd, text, len) == len, "%s: write: %s", c->name,
		  strerror(errno));
}

static void conn_send(struct conn *c, const struct dhp_proto_msg *m)
{
	char buf[DHP_PROTO_LINE_MAX + 1];
	size_t len = 0;

	CHECK(dhp_proto_encode(m, buf, sizeof(buf), &len, NULL) == 0);
	CHECK_MSG((size_t)write(c->fd, buf, len) == len, "%s: write: %s", c->name,
		  strerror(errno));
}

static void conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}

/* Start the agent (with more options, NULL ended) and take its channel;
 * its hello, or NULL. Its applications' timeout is 5 s unless an option
 * says otherwise: cases that watch for silence take their time. */
static struct dhp_proto_msg *agent_start(const char *opt, ...)
{
	const char *argv[32] = { "dhp-agent", "--socket", chan_path, "--sysfs", tree,
				 "--no-uevents", "--verbose", "--app-socket", app_path,
				 "--app-timeout-ms", "5000" };
	struct sockaddr_un sa;
	size_t n = 11;
	va_list ap;

	va_start(ap, opt);
	for (const char *o = opt; o && n < 31; o = va_arg(ap, const char *))
		argv[n++] = o;
	va_end(ap);
	unlink(chan_path);
	agent.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (agent.listen_fd < 0 || unix_addr(chan_path, &sa) ||
	    bind(agent.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(agent.listen_fd, 1))
		abort();
	agent.pid = fork();
	if (agent.pid < 0)
		abort();
	if (!agent.pid) {
		int logfd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (logfd >= 0)
			dup2(logfd, 2);
		execv(agent_path, (char *const *)argv);
		_exit(127);
	}
	snprintf(agent.dhpd.name, sizeof(agent.dhpd.name), "dhpd");
	CHECK_MSG(test_wait_fd(agent.listen_fd, 10000) == 0, "dhp-agent did not connect (see %s)",
		  log_path);
	agent.dhpd.fd = accept4(agent.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	agent.dhpd.len = 0;
	if (agent.dhpd.fd < 0)
		return NULL;
	return conn_msg(&agent.dhpd);
}

/* SIGTERM: it must exit 0, within within_ms (and without leaks under ASan). */
static void agent_stop(int within_ms)
{
	int64_t t0 = now_ms();
	int status = -1;

	if (agent.pid > 0) {
		kill(agent.pid, SIGTERM);
		waitpid(agent.pid, &status, 0);
		CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "dhp-agent ended with status 0x%x (see %s)", status, log_path);
		CHECK_MSG(now_ms() - t0 < within_ms, "dhp-agent took %lld ms to stop",
			  (long long)(now_ms() - t0));
	}
	conn_close(&agent.dhpd);
	if (agent.listen_fd >= 0)
		close(agent.listen_fd);
	agent.pid = -1;
	agent.listen_fd = -1;
}

static struct conn *app_connect(void)
{
	struct conn *c = calloc(1, sizeof(*c));
	struct sockaddr_un sa;

	if (!c)
		abort();
	snprintf(c->name, sizeof(c->name), "(unregistered)");
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || unix_addr(app_path, &sa) ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa))) {
		CHECK_MSG(0, "cannot connect to %s: %s", app_path, strerror(errno));
		conn_close(c);
	}
	return c;
}

static void app_free(struct conn *c)
{
	if (c)
		conn_close(c);
	free(c);
}

/* The agent's hello to an application: no state, "veto" claimed. */
static void app_read_hello(struct conn *c)
{
	struct dhp_proto_msg *m = conn_msg(c);

	CHECK(m && m->type == DHP_PROTO_HELLO);
	if (m && m->type == DHP_PROTO_HELLO) {
		CHECK_INT(m->hello.version, DHP_PROTO_VERSION);
		CHECK_STR(m->hello.agent, "dhp-agent 0.1");
		CHECK_STR(m->hello.profile, "linux");
		CHECK(m->hello.caps & DHP_PROTO_CAP_VETO);
		CHECK(!m->hello.has_state);
	}
	free(m);
}

/* Ping from the application; the agent answers ok. Since it reads an
 * application's lines in order, everything sent before was seen. */
static void app_ping(struct conn *c)
{
	struct dhp_proto_msg m = { .type = DHP_PROTO_REQUEST };
	struct dhp_proto_msg *r;

	m.request = (struct dhp_proto_request){ .id = ++c->next_id, .op = DHP_PROTO_OP_PING };
	conn_send(c, &m);
	r = conn_msg(c);
	CHECK_MSG(r && r->type == DHP_PROTO_REPLY && r->reply.id == c->next_id &&
		  r->reply.result == DHP_PROTO_OK, "%s: no answer to its ping", c->name);
	free(r);
}

static void app_hello(struct conn *c, const char *name)
{
	struct dhp_proto_msg m = { .type = DHP_PROTO_HELLO };

	snprintf(c->name, sizeof(c->name), "%s", name);
	m.hello.version = DHP_PROTO_VERSION;
	snprintf(m.hello.agent, sizeof(m.hello.agent), "%s", name);
	conn_send(c, &m);
	app_ping(c);
}

/* Connect, read the hello, register as name. */
static struct conn *app_open(const char *name)
{
	struct conn *c = app_connect();

	if (c->fd >= 0) {
		app_read_hello(c);
		app_hello(c, name);
	}
	return c;
}

static struct dhp_proto_unit cpu_unit(uint32_t cpu)
{
	return (struct dhp_proto_unit){ .kind = DHP_PROTO_UNIT_PROCESSOR, .cpu = cpu };
}

static bool same_unit(const struct dhp_proto_unit *x, const struct dhp_proto_unit *y)
{
	return x->kind == y->kind && x->cpu == y->cpu && x->phys_addr == y->phys_addr &&
	       x->size == y->size && !strcmp(x->slot, y->slot);
}

/* The application gets note about unit; returns the request's id (0: not). */
static uint64_t app_expect(struct conn *c, enum dhp_proto_note note,
			   const struct dhp_proto_unit *unit)
{
	struct dhp_proto_msg *m = conn_msg(c);
	uint64_t id = 0;

	CHECK_MSG(m && m->type == DHP_PROTO_REQUEST && m->request.op == DHP_PROTO_OP_NOTIFY,
		  "%s: no notification", c->name);
	if (m && m->type == DHP_PROTO_REQUEST) {
		CHECK_MSG(m->request.note == note, "%s got %s, not %s", c->name,
			  dhp_proto_note_name(m->request.note), dhp_proto_note_name(note));
		CHECK_MSG(m->request.has_unit && same_unit(&m->request.unit, unit),
			  "%s: not the unit", c->name);
		CHECK(m->request.id > 0);
		id = m->request.id;
	}
	free(m);
	return id;
}

static void app_answer(struct conn *c, uint64_t id, enum dhp_proto_result result,
		       const char *reason)
{
	struct dhp_proto_msg m = { .type = DHP_PROTO_REPLY };

	m.reply = (struct dhp_proto_reply){ .id = id, .result = result };
	snprintf(m.reply.reason, sizeof(m.reply.reason), "%s", reason ? reason : "");
	conn_send(c, &m);
}

static void dhpd_notify(uint64_t id, enum dhp_proto_note note, const struct dhp_proto_unit *unit)
{
	struct dhp_proto_msg m = { .type = DHP_PROTO_REQUEST };

	m.request = (struct dhp_proto_request){ .id = id, .op = DHP_PROTO_OP_NOTIFY,
						.note = note, .has_unit = true, .unit = *unit };
	conn_send(&agent.dhpd, &m);
}

/* dhpd's reply to id: result, and a reason that is exactly says (NULL:
 * empty). */
static void dhpd_expect(uint64_t id, enum dhp_proto_result result, const char *says)
{
	struct dhp_proto_msg *m = conn_msg(&agent.dhpd);

	CHECK_MSG(m && m->type == DHP_PROTO_REPLY && m->reply.id == id, "no reply to %llu",
		  (unsigned long long)id);
	if (m && m->type == DHP_PROTO_REPLY) {
		CHECK_MSG(m->reply.result == result, "reply to %llu: %s, not %s (%s)",
			  (unsigned long long)id, dhp_proto_result_name(m->reply.result),
			  dhp_proto_result_name(result), m->reply.reason);
		CHECK_STR(m->reply.reason, says ? says : "");
	}
	free(m);
}

/* dhpd pings: the agent is alive and serving. */
static void dhpd_ping(uint64_t id)
{
	struct dhp_proto_msg m = { .type = DHP_PROTO_REQUEST };

	m.request = (struct dhp_proto_request){ .id = id, .op = DHP_PROTO_OP_PING };
	conn_send(&agent.dhpd, &m);
	dhpd_expect(id, DHP_PROTO_OK, NULL);
}

/* An error event from the agent to c with errno errnum. */
static void expect_error_event(struct conn *c, int errnum, const char *says)
{
	struct dhp_proto_msg *m = conn_msg(c);

	CHECK_MSG(m && m->type == DHP_PROTO_EVENT && m->event.kind == DHP_PROTO_EVENT_ERROR,
		  "no error event (%s)", says);
	if (m && m->type == DHP_PROTO_EVENT) {
		CHECK_MSG(m->event.code == -errnum, "errno %d, not %d", -m->event.code, errnum);
		CHECK_MSG(strstr(m->event.reason, says), "\"%s\" does not say \"%s\"",
			  m->event.reason, says);
	}
	free(m);
}

static void expect_error_reply(struct conn *c, uint64_t id, int errnum, const char *says)
{
	struct dhp_proto_msg *m = conn_msg(c);

	CHECK_MSG(m && m->type == DHP_PROTO_REPLY && m->reply.id == id &&
		  m->reply.result == DHP_PROTO_ERROR, "no error reply to %llu",
		  (unsigned long long)id);
	if (m && m->type == DHP_PROTO_REPLY) {
		CHECK_MSG(m->reply.code == -errnum, "errno %d, not %d", -m->reply.code, errnum);
		CHECK_MSG(strstr(m->reply.reason, says), "\"%s\" does not say \"%s\"",
			  m->reply.reason, says);
	}
	free(m);
}

/* Does the agent's log say text? */
static bool log_says(const char *text)
{
	static char buf[1 << 20];
	FILE *f = fopen(log_path, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

/* ---- the cases ------------------------------------------------------ */

/* The registered applications of the main agent, in registration order. */
static struct conn *group[16];
static size_t n_group;

static struct conn *join(const char *name)
{
	struct conn *c = app_open(name);

	if (n_group < 16)
		group[n_group++] = c;
	return c;
}

static void leave(struct conn *c)
{
	for (size_t i = 0; i < n_group; i++) {
		if (group[i] != c)
			continue;
		memmove(&group[i], &group[i + 1], (n_group - i - 1) * sizeof(group[0]));
		n_group--;
		break;
	}
	app_free(c);
}

/* Every application of the group gets note about unit and answers result. */
static void group_answer(enum dhp_proto_note note, const struct dhp_proto_unit *unit,
			 enum dhp_proto_result result)
{
	for (size_t i = 0; i < n_group; i++)
		app_answer(group[i], app_expect(group[i], note, unit), result, NULL);
}

/* apps[0..n) get note about unit in that order, one at a time: the next
 * one and dhpd hear nothing until the one before answered. */
static void expect_in_turn(struct conn **apps, size_t n, enum dhp_proto_note note,
			   const struct dhp_proto_unit *unit)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t id = app_expect(apps[i], note, unit);

		if (i + 1 < n)
			CHECK_MSG(conn_quiet(apps[i + 1]), "%s was told before %s answered",
				  apps[i + 1]->name, apps[i]->name);
		CHECK_MSG(conn_quiet(&agent.dhpd), "dhpd was answered before %s", apps[i]->name);
		app_answer(apps[i], id, DHP_PROTO_OK, NULL);
	}
}

/* The group, last registered first. */
static size_t group_reversed(struct conn **out)
{
	for (size_t i = 0; i < n_group; i++)
		out[i] = group[n_group - 1 - i];
	return n_group;
}

static void test_hello(void)
{
	struct dhp_proto_msg *m = agent_start(NULL);
	struct stat st;

	CHECK_MSG(m && m->type == DHP_PROTO_HELLO, "no hello from dhp-agent (see %s)", log_path);
	if (m && m->type == DHP_PROTO_HELLO) {
		CHECK(m->hello.caps & DHP_PROTO_CAP_VETO);
		CHECK(m->hello.has_state);
	}
	free(m);
	/* The stale socket file was replaced; anyone may connect. */
	CHECK(stat(app_path, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0666);
}

/* Nobody registered (one connected, but without its hello): at once. */
static void test_nobody(void)
{
	struct dhp_proto_unit u = cpu_unit(1);
	struct conn *c = app_connect();
	int64_t t0;

	app_read_hello(c);
	t0 = now_ms();
	dhpd_notify(1, DHP_PROTO_NOTE_ADD_START, &u);
	dhpd_expect(1, DHP_PROTO_APPROVE, NULL);
	dhpd_notify(2, DHP_PROTO_NOTE_ADD_COMPLETE, &u);
	dhpd_expect(2, DHP_PROTO_OK, NULL);
	CHECK_MSG(now_ms() - t0 < 1000, "%lld ms with nobody to ask",
		  (long long)(now_ms() - t0));
	CHECK_MSG(conn_quiet(c), "an unregistered application was told");
	app_free(c);
}

static void test_approve(void)
{
	struct dhp_proto_unit u = cpu_unit(2);
	uint64_t first[3];

	join("alpha[101]");
	join("beta[102]");
	join("gamma[103]");
	dhpd_notify(10, DHP_PROTO_NOTE_ADD_START, &u);
	/* Each gets the same note and unit, under its connection's own id. */
	for (size_t i = 0; i < 3; i++)
		first[i] = app_expect(group[i], DHP_PROTO_NOTE_ADD_START, &u);
	CHECK(first[0] == first[1] && first[1] == first[2]);
	CHECK_MSG(conn_quiet(&agent.dhpd), "dhpd answered before the applications");
	for (size_t i = 0; i < 3; i++)
		app_answer(group[i], first[i], DHP_PROTO_APPROVE, NULL);
	dhpd_expect(10, DHP_PROTO_APPROVE, NULL);
	dhpd_notify(11, DHP_PROTO_NOTE_ADD_COMPLETE, &u);
	group_answer(DHP_PROTO_NOTE_ADD_COMPLETE, &u, DHP_PROTO_OK);
	dhpd_expect(11, DHP_PROTO_OK, NULL);
}

/* One veto: the approvers undo, last registered first, one at a time;
 * the vetoer hears nothing more. */
static void test_veto(void)
{
	struct dhp_proto_unit u = cpu_unit(3);
	struct conn *order[2] = { group[2], group[0] };
	uint64_t id[3];

	dhpd_notify(12, DHP_PROTO_NOTE_ADD_START, &u);
	for (size_t i = 0; i < 3; i++)
		id[i] = app_expect(group[i], DHP_PROTO_NOTE_ADD_START, &u);
	app_answer(group[0], id[0], DHP_PROTO_APPROVE, NULL);
	app_answer(group[1], id[1], DHP_PROTO_DENY, "it holds cpu 3");
	app_answer(group[2], id[2], DHP_PROTO_APPROVE, NULL);
	expect_in_turn(order, 2, DHP_PROTO_NOTE_ADD_FAILURE, &u);
	dhpd_expect(12, DHP_PROTO_DENY, "vetoed by beta[102]: it holds cpu 3");
	CHECK_MSG(conn_quiet(group[1]), "the vetoer was told of the failure");
	/* dhpd's own failure note for it is not relayed again. */
	dhpd_notify(13, DHP_PROTO_NOTE_ADD_FAILURE, &u);
	dhpd_expect(13, DHP_PROTO_OK, NULL);
	for (size_t i = 0; i < 3; i++)
		CHECK_MSG(conn_quiet(group[i]), "%s was told again", group[i]->name);
}

/* Two vetoes, named in registration order, which is the order of the
 * hellos and not of the connections. */
static void test_two_vetoes(void)
{
	struct dhp_proto_unit u = { .kind = DHP_PROTO_UNIT_MEMORY, .phys_addr = 1ull << 32,
				    .size = 1ull << 27 };
	struct conn *late = app_connect(), *early = app_connect(), *order[3];
	uint64_t id[5];

	app_read_hello(late);
	app_read_hello(early);
	app_hello(early, "early[201]");
	app_hello(late, "late[202]");
	group[n_group++] = early;
	group[n_group++] = late;
	dhpd_notify(14, DHP_PROTO_NOTE_REMOVE_QUERY, &u);
	for (size_t i = 0; i < 5; i++)
		id[i] = app_expect(group[i], DHP_PROTO_NOTE_REMOVE_QUERY, &u);
	app_answer(group[0], id[0], DHP_PROTO_APPROVE, NULL);
	app_answer(group[1], id[1], DHP_PROTO_APPROVE, NULL);
	app_answer(group[2], id[2], DHP_PROTO_APPROVE, NULL);
	app_answer(late, id[4], DHP_PROTO_DENY, "pinned");
	app_answer(early, id[3], DHP_PROTO_DENY, "in use");
	order[0] = group[2], order[1] = group[1], order[2] = group[0];
	expect_in_turn(order, 3, DHP_PROTO_NOTE_REMOVE_FAILURE, &u);
	dhpd_expect(14, DHP_PROTO_DENY, "vetoed by early[201]: in use; and by late[202]: pinned");
	CHECK(conn_quiet(early) && conn_quiet(late));
	leave(early);
	leave(late);
}

/* A long veto reason is cut at the reason cap, on a whole character. */
static void test_long_veto(void)
{
	struct dhp_proto_unit u = cpu_unit(3);
	char reason[DHP_PROTO_TEXT_MAX];
	uint64_t id[3];

	/* "é" is two bytes: the cut would fall inside one. */
	for (size_t i = 0; i + 2 < sizeof(reason); i += 2)
		memcpy(reason + i, "\xc3\xa9", 2);
	reason[sizeof(reason) - 2] = '\0';
	dhpd_notify(15, DHP_PROTO_NOTE_ADD_START, &u);
	for (size_t i = 0; i < 3; i++)
		id[i] = app_expect(group[i], DHP_PROTO_NOTE_ADD_START, &u);
	app_answer(group[0], id[0], DHP_PROTO_DENY, reason);
	app_answer(group[1], id[1], DHP_PROTO_DENY, "no");
	app_answer(group[2], id[2], DHP_PROTO_DENY, "no");
	{
		struct dhp_proto_msg *m = conn_msg(&agent.dhpd);

		CHECK(m && m->type == DHP_PROTO_REPLY && m->reply.result == DHP_PROTO_DENY);
		if (m && m->type == DHP_PROTO_REPLY) {
			CHECK(!strncmp(m->reply.reason, "vetoed by alpha[101]: \xc3\xa9", 24));
			CHECK(strlen(m->reply.reason) >= DHP_PROTO_TEXT_MAX - 3);
			CHECK(!strstr(m->reply.reason, "beta"));
		}
		free(m);
	}
}

/* One that leaves in the middle of a wait counts as approving, at once. */
static void test_disconnect(void)
{
	struct dhp_proto_unit u = cpu_unit(5);
	struct conn *gone;
	int64_t t0;

	join("slow[301]");
	gone = join("gone[401]");

	dhpd_notify(22, DHP_PROTO_NOTE_ADD_START, &u);
	app_expect(gone, DHP_PROTO_NOTE_ADD_START, &u);
	t0 = now_ms();
	leave(gone);
	group_answer(DHP_PROTO_NOTE_ADD_START, &u, DHP_PROTO_APPROVE);
	dhpd_expect(22, DHP_PROTO_APPROVE, NULL);
	CHECK_MSG(now_ms() - t0 < 1000, "waited %lld ms for a closed connection",
		  (long long)(now_ms() - t0));
	CHECK(log_says("application \"gone[401]\" left before answering add-start"));
}

/* A failure later: only to those that saw the start (cpu 5, before
 * "newcomer" registered), last registered first, one at a time. */
static void test_failure_record(void)
{
	struct dhp_proto_unit u = cpu_unit(5);
	struct conn *newcomer = app_open("newcomer[501]"), *order[16];
	size_t n = group_reversed(order);

	dhpd_notify(23, DHP_PROTO_NOTE_ADD_FAILURE, &u);
	expect_in_turn(order, n, DHP_PROTO_NOTE_ADD_FAILURE, &u);
	dhpd_expect(23, DHP_PROTO_OK, NULL);
	CHECK_MSG(conn_quiet(newcomer), "an application that did not see the start was told");
	/* The failure ended the record: another one goes to everyone. */
	group[n_group++] = newcomer;
	n = group_reversed(order);
	dhpd_notify(24, DHP_PROTO_NOTE_ADD_FAILURE, &u);
	expect_in_turn(order, n, DHP_PROTO_NOTE_ADD_FAILURE, &u);
	dhpd_expect(24, DHP_PROTO_OK, NULL);
}

/* A failure with no record (the agent restarted): everyone, in reverse. */
static void test_failure_no_record(void)
{
	struct dhp_proto_unit u = { .kind = DHP_PROTO_UNIT_IO_HOST_BRIDGE, .slot = "0000:00:1c.0" };
	struct conn *order[16];
	size_t n = group_reversed(order);

	dhpd_notify(25, DHP_PROTO_NOTE_REMOVE_FAILURE, &u);
	expect_in_turn(order, n, DHP_PROTO_NOTE_REMOVE_FAILURE, &u);
	dhpd_expect(25, DHP_PROTO_OK, NULL);
}

/* A complete note goes to everyone and ends the record. */
static void test_complete(void)
{
	struct dhp_proto_unit u = cpu_unit(7);
	struct conn *order[16];
	size_t n;

	dhpd_notify(26, DHP_PROTO_NOTE_REPLACE_START, &u);
	group_answer(DHP_PROTO_NOTE_REPLACE_START, &u, DHP_PROTO_OK);
	dhpd_expect(26, DHP_PROTO_OK, NULL);
	join("after[601]");
	dhpd_notify(27, DHP_PROTO_NOTE_REPLACE_COMPLETE, &u);
	group_answer(DHP_PROTO_NOTE_REPLACE_COMPLETE, &u, DHP_PROTO_OK);
	dhpd_expect(27, DHP_PROTO_OK, NULL);
	/* Without the record, a failure goes to everyone, "after" included. */
	n = group_reversed(order);
	dhpd_notify(28, DHP_PROTO_NOTE_REPLACE_FAILURE, &u);
	expect_in_turn(order, n, DHP_PROTO_NOTE_REPLACE_FAILURE, &u);
	dhpd_expect(28, DHP_PROTO_OK, NULL);
	/* An error reply to a notice is logged and counts as ok. */
	dhpd_notify(29, DHP_PROTO_NOTE_ADD_COMPLETE, &u);
	for (size_t i = 0; i < n_group; i++)
		app_answer(group[i], app_expect(group[i], DHP_PROTO_NOTE_ADD_COMPLETE, &u),
			   i ? DHP_PROTO_OK : DHP_PROTO_ERROR, "confused");
	dhpd_expect(29, DHP_PROTO_OK, NULL);
	CHECK(log_says("answered error to add-complete: confused"));
}

static void test_bad_input(void)
{
	static char big[5000];
	struct conn *c = join("sloppy[701]"), *v2;

	conn_text(c, "this is not JSON\n");
	expect_error_event(c, EINVAL, "not JSON");
	conn_text(c, "{\"type\":\"request\",\"op\":\"ping\"}\n");
	expect_error_event(c, EINVAL, "\"id\" is missing");
	conn_text(c, "{\"type\":\"request\",\"id\":40,\"op\":\"fly\"}\n");
	expect_error_reply(c, 40, EINVAL, "unknown op");
	conn_text(c, "{\"type\":\"request\",\"id\":41,\"op\":\"offline\","
		     "\"unit\":{\"kind\":\"processor\",\"cpu\":1}}\n");
	expect_error_reply(c, 41, EOPNOTSUPP, "not for applications");
	conn_text(c, "{\"type\":\"greeting\",\"id\":42}\n");
	expect_error_reply(c, 42, EINVAL, "unknown type");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\n';
	CHECK((size_t)write(c->fd, big, sizeof(big)) == sizeof(big));
	expect_error_event(c, EMSGSIZE, "longer than 4096");
	/* Replies and events, even malformed, are never answered. */
	conn_text(c, "{\"type\":\"reply\",\"id\":99,\"result\":\"bogus\"}\n"
		     "{\"type\":\"event\",\"event\":\"add\"}\n"
		     "{\"type\":\"reply\",\"id\":98,\"result\":\"ok\"}\n");
	app_ping(c);
	/* It is still registered and asked. */
	{
		struct dhp_proto_unit u = cpu_unit(6);

		dhpd_notify(30, DHP_PROTO_NOTE_ADD_START, &u);
		group_answer(DHP_PROTO_NOTE_ADD_START, &u, DHP_PROTO_APPROVE);
		dhpd_expect(30, DHP_PROTO_APPROVE, NULL);
	}
	/* A newer major version is refused and closed. */
	v2 = app_connect();
	app_read_hello(v2);
	conn_text(v2, "{\"type\":\"hello\",\"version\":2,\"agent\":\"future[9]\"}\n");
	expect_error_event(v2, EPROTONOSUPPORT, "version 2");
	CHECK(conn_closed(v2));
	app_free(v2);
}

/* More than 64 bad lines in a row: disconnected. 64 are fine, and a good
 * line starts the count again. */
static void test_flood(void)
{
	struct conn *c = app_open("flood[801]");
	char lines[65 * 4];

	for (int i = 0; i < 65; i++)
		memcpy(lines + 4 * i, "bad\n", 4);
	CHECK((size_t)write(c->fd, lines, 64 * 4) == 64 * 4);
	for (int i = 0; i < 64; i++)
		expect_error_event(c, EINVAL, "not JSON");
	app_ping(c);
	CHECK((size_t)write(c->fd, lines, 65 * 4) == 65 * 4);
	for (int i = 0; i < 64; i++)
		expect_error_event(c, EINVAL, "not JSON");
	expect_error_event(c, EPROTO, "more than 64 bad lines");
	CHECK(conn_closed(c));
	app_free(c);
	dhpd_ping(31);
}

/* An application that never reads: when the agent's writes to it would
 * block, it is dropped, and the agent goes on. */
static void test_stuck(void)
{
	static const char ping[] = "{\"type\":\"request\",\"id\":1,\"op\":\"ping\"}\n";
	struct conn *c = app_open("stuck[901]");
	int small = 4096, sent = 0;
	int64_t t0 = now_ms();
	bool dropped = false;

	setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	/* Pings, whose answers it never reads, until the agent hangs up. */
	while (!dropped && now_ms() - t0 < 20000) {
		ssize_t n = write(c->fd, ping, sizeof(ping) - 1);

		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { c->fd, POLLOUT, 0 };

			poll(&p, 1, 100);
			dropped = p.revents & (POLLHUP | POLLERR);
			continue;
		}
		dropped = n < 0;
		sent++;
	}
	CHECK_MSG(dropped, "not dropped after %d pings", sent);
	CHECK(log_says("application \"stuck[901]\" does not read what it is sent: dropped"));
	app_free(c);
	dhpd_ping(32);
}

static void main_agent(void)
{
	RUN(test_hello);
	if (agent.dhpd.fd < 0)
		return;
	RUN(test_nobody);
	RUN(test_approve);
	RUN(test_veto);
	RUN(test_two_vetoes);
	RUN(test_long_veto);
	RUN(test_disconnect);
	RUN(test_failure_record);
	RUN(test_failure_no_record);
	RUN(test_complete);
	RUN(test_bad_input);
	RUN(test_flood);
	RUN(test_stuck);
	test_begin("main agent stops");
	while (n_group)
		leave(group[n_group - 1]);
	agent_stop(2000);
	CHECK_MSG(access(app_path, F_OK) < 0, "the socket file is left behind");
	test_end();
}

/* One that never answers: approval after the timeout (its own agent, with
 * --app-timeout-ms 300), its late reply dropped. */
static void test_timeout(void)
{
	struct dhp_proto_unit u = cpu_unit(4);
	struct dhp_proto_msg *m = agent_start("--app-timeout-ms", "300", NULL);
	struct conn *slow;
	uint64_t late_id;
	int64_t t0, took;

	free(m);
	join("fast[301]");
	slow = app_open("slow[302]");
	join("quick[303]");
	t0 = now_ms();
	dhpd_notify(20, DHP_PROTO_NOTE_ADD_START, &u);
	group_answer(DHP_PROTO_NOTE_ADD_START, &u, DHP_PROTO_APPROVE);
	late_id = app_expect(slow, DHP_PROTO_NOTE_ADD_START, &u);
	dhpd_expect(20, DHP_PROTO_APPROVE, NULL);
	took = now_ms() - t0;
	CHECK_MSG(took >= TIMEOUT_MS - 20 && took < TIMEOUT_MS + 1000, "approved after %lld ms",
		  (long long)took);
	CHECK(log_says("application \"slow[302]\" did not answer add-start within 300 ms"));
	/* Too late: dropped, not answered, not counted. */
	app_answer(slow, late_id, DHP_PROTO_DENY, "too late");
	app_ping(slow);
	CHECK(conn_quiet(&agent.dhpd));
	/* It answers the next one in time: no waiting then. */
	group[n_group++] = slow;
	t0 = now_ms();
	dhpd_notify(21, DHP_PROTO_NOTE_ADD_COMPLETE, &u);
	group_answer(DHP_PROTO_NOTE_ADD_COMPLETE, &u, DHP_PROTO_OK);
	dhpd_expect(21, DHP_PROTO_OK, NULL);
	CHECK_MSG(now_ms() - t0 < TIMEOUT_MS - 10, "waited %lld ms for answers that came",
		  (long long)(now_ms() - t0));
	while (n_group)
		leave(group[n_group - 1]);
	agent_stop(2000);
}

/* --app-max 3 (tests only): the fourth is told ENFILE and closed. */
static void test_cap(void)
{
	struct conn *c[4];
	struct dhp_proto_msg *m = agent_start("--app-max", "3", NULL);

	free(m);
	for (int i = 0; i < 3; i++)
		c[i] = app_open("capped");
	c[3] = app_connect();
	expect_error_event(c[3], ENFILE, "too many applications");
	CHECK(conn_closed(c[3]));
	app_free(c[3]);
	/* One leaves: there is room again. */
	app_free(c[0]);
	usleep(100 * 1000);
	c[0] = app_open("capped again");
	for (int i = 0; i < 3; i++)
		app_free(c[i]);
	agent_stop(2000);
}

/* SIGTERM while the agent waits for an application: it stops at once. */
static void test_sigterm(void)
{
	struct dhp_proto_unit u = cpu_unit(1);
	struct dhp_proto_msg *m = agent_start("--app-timeout-ms", "20000", NULL);
	struct conn *c = app_open("sleepy");

	free(m);
	dhpd_notify(1, DHP_PROTO_NOTE_REMOVE_QUERY, &u);
	app_expect(c, DHP_PROTO_NOTE_REMOVE_QUERY, &u);
	agent_stop(1000);
	CHECK_MSG(access(app_path, F_OK) < 0, "the socket file is left behind");
	app_free(c);
}

/* --no-apps: no socket, no "veto", approval at once. */
static void test_no_apps(void)
{
	struct dhp_proto_unit u = cpu_unit(1);
	struct dhp_proto_msg *m = agent_start("--no-apps", NULL);

	CHECK(m && m->type == DHP_PROTO_HELLO && !(m->hello.caps & DHP_PROTO_CAP_VETO));
	free(m);
	CHECK(access(app_path, F_OK) < 0);
	dhpd_notify(1, DHP_PROTO_NOTE_ADD_START, &u);
	dhpd_expect(1, DHP_PROTO_APPROVE, NULL);
	agent_stop(2000);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	setup();
	if (access(agent_path, X_OK)) {
		test_begin("agent");
		test_skip("%s is not built", agent_path);
		return test_done();
	}
	main_agent();
	agent_stop(2000);
	RUN(test_timeout);
	RUN(test_cap);
	RUN(test_sigterm);
	RUN(test_no_apps);
	if (!test_state.failed)
		nftw(workdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	else
		printf("# the agent's log: %s\n", log_path);
	return test_done();
}
