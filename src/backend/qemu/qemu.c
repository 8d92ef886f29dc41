/* SPDX-License-Identifier: MIT */
/*
 * The QEMU backend object: making it (QEMU's version, the guest image, the
 * accelerator, the state file, the processor removal method), its ops
 * table, its queries, freeing it. Start-up order: the state directory,
 * then QEMU (its version keys the caches), the guest image (the KVM probe
 * boots it), the accelerator (kvm.c), the state file, and last the removal
 * method, which depends on the version and the accelerator (probe.c).
 */
#include "backend/qemu/object.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/qemu/call.h"
#include "backend/qemu/jobs.h"
#include "backend/qemu/partition.h"
#include "backend/qemu/process.h"

#define DEFAULT_BINARY "qemu-system-x86_64"
#define DEFAULT_KERNEL "build/guest/vmlinuz"
#define DEFAULT_INITRD "build/guest/initrd.gz"
#define VERSION_MS 10000

static const char *const accel_names[DHP_QEMU_ACCEL_MAX] = {
	[DHP_QEMU_ACCEL_AUTO] = "auto",
	[DHP_QEMU_ACCEL_TCG] = "tcg",
	[DHP_QEMU_ACCEL_KVM] = "kvm",
};

static const char *const remove_names[DHP_QEMU_CPU_REMOVE_MAX] = {
	[DHP_QEMU_CPU_REMOVE_UNPLUG] = "unplug",
	[DHP_QEMU_CPU_REMOVE_PARK] = "park",
};

const char *dhp_qemu_accel_name(enum dhp_qemu_accel accel)
{
	return (unsigned)accel < DHP_QEMU_ACCEL_MAX ? accel_names[accel] : "?";
}

int dhp_qemu_accel_parse(const char *name, enum dhp_qemu_accel *ret_accel)
{
	for (int i = 0; i < DHP_QEMU_ACCEL_MAX; i++)
		if (name && !strcmp(name, accel_names[i])) {
			*ret_accel = (enum dhp_qemu_accel)i;
			return 0;
		}
	return -EINVAL;
}

const char *dhp_qemu_cpu_remove_name(enum dhp_qemu_cpu_remove method)
{
	return (unsigned)method < DHP_QEMU_CPU_REMOVE_MAX ? remove_names[method] : "?";
}

void qemu_notice(struct qemu *q, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	if (!q->notice)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	q->notice(q->notice_ctx, line);
}

/* ---- start-up ---- */

/* `qemu --version`, blocking: start-up only. */
static int read_version(struct qemu *q, struct dhp_error *err)
{
	char *argv[] = { q->binary, "--version", NULL }, out[512];
	char tmp[] = "/tmp/dhp-qemu-version-XXXXXX";
	size_t len = 0;
	pid_t pid;
	int fd, status = 0, r;

	fd = mkstemp(tmp);
	if (fd < 0)
		return dhp_error_set(err, -errno, "cannot make a temporary file: %s",
				     strerror(errno));
	close(fd);
	r = qemu_spawn(argv, tmp, &pid, err);
	if (r == 0) {
		for (int waited = 0; waited < VERSION_MS; waited += 10) {
			if ((r = qemu_child_done(pid, &status)) != 0)
				break;
			poll(NULL, 0, 10);
		}
		fd = open(tmp, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			ssize_t n = read(fd, out, sizeof(out) - 1);

			len = n > 0 ? (size_t)n : 0;
			close(fd);
		}
	}
	unlink(tmp);
	out[len] = '\0';
	if (r < 0 && err && err->code)
		goto missing;
	if (r <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    qemu_version_parse(out, &q->version) < 0) {
		if (r == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
		}
		goto missing;
	}
	snprintf(q->version_text, sizeof(q->version_text), "%d.%d.%d", q->version.major,
		 q->version.minor, q->version.micro);
	return 0;

missing:
	dhp_error_clear(err);
	dhp_error_set(err, -ENOENT, "cannot run \"%s --version\"%s%.80s", q->binary,
		      len ? ": " : "", out);
	return dhp_error_resolve(err, "install QEMU (apt-get install qemu-system-x86) or name "
				 "its binary");
}

static int image_path(const char *given, const char *fallback, char *buf, size_t size,
		      struct dhp_error *err)
{
	const char *path = given ? given : fallback;
	char *real = realpath(path, NULL);

	if (!real) {
		dhp_error_set(err, -ENOENT, "no guest image file %s: %s", path, strerror(errno));
		return dhp_error_resolve(err, "build it with \"make guest\" (docs/guest.md)");
	}
	snprintf(buf, size, "%s", real);
	free(real);
	return 0;
}

static int make_dirs(struct qemu *q, const char *state_dir, struct dhp_error *err)
{
	char *real;

	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
		return dhp_error_set(err, -errno, "cannot make %s: %s", state_dir, strerror(errno));
	real = realpath(state_dir, NULL);
	if (!real)
		return dhp_error_set(err, -errno, "%s: %s", state_dir, strerror(errno));
	/* DIR/qemu/<id>/agent.sock must fit in a unix socket address. */
	if (strlen(real) + sizeof("/qemu/4294967295/agent.sock") > QEMU_SOCKET_PATH_MAX) {
		dhp_error_set(err, -ENAMETOOLONG, "the state directory %s is too long for the "
			      "partitions' unix sockets", real);
		free(real);
		return dhp_error_resolve(err, "use a state directory of at most 70 characters");
	}
	snprintf(q->dir, sizeof(q->dir), "%s/qemu", real);
	free(real);
	if (mkdir(q->dir, 0700) < 0 && errno != EEXIST)
		return dhp_error_set(err, -errno, "cannot make %s: %s", q->dir, strerror(errno));
	return 0;
}

static const struct dhp_backend_ops qemu_ops;

static void qemu_free(struct dhp_backend *be)
{
	struct qemu *q = to_qemu(be);

	qcall_free_all(q);
	qpart_free_all(q);
	qemu_tell_free_all(q);
	qs_close(&q->state);
	free(q);
}

int dhp_qemu_new(const struct dhp_server *server, struct dhp_loop *loop,
		 const struct dhp_qemu_config *cfg, struct dhp_backend **ret_backend,
		 struct dhp_error *err)
{
	struct qemu *q;
	char path[QEMU_PATH_MAX + 32];
	int r;

	if (!server || !loop || !cfg || !cfg->state_dir || (unsigned)cfg->accel >= DHP_QEMU_ACCEL_MAX)
		return dhp_error_set(err, -EINVAL, "incomplete QEMU backend configuration");
	q = calloc(1, sizeof(*q));
	if (!q)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	q->base.ops = &qemu_ops;
	q->server = server;
	q->loop = loop;
	snprintf(q->binary, sizeof(q->binary), "%s", cfg->qemu ? cfg->qemu : DEFAULT_BINARY);
	snprintf(q->append, sizeof(q->append), "%s", cfg->append ? cfg->append : "");
	q->boot_ms = cfg->boot_ms ? cfg->boot_ms : 60000;
	q->cpu_ms = cfg->cpu_ms ? cfg->cpu_ms : 30000;
	q->unit_ms = cfg->unit_ms ? cfg->unit_ms : 30000;
	q->powerdown_ms = cfg->powerdown_ms ? cfg->powerdown_ms : 5000;
	q->notice = cfg->notice;
	q->notice_ctx = cfg->notice_ctx;
	qemu_sizing_of(server, &q->sizing);
	r = make_dirs(q, cfg->state_dir, err);
	r = r ?: read_version(q, err);
	r = r ?: image_path(cfg->kernel, DEFAULT_KERNEL, q->kernel, sizeof(q->kernel), err);
	r = r ?: image_path(cfg->initrd, DEFAULT_INITRD, q->initrd, sizeof(q->initrd), err);
	r = r ?: qemu_pick_accel(q, cfg->accel, err);
	if (!r) {
		snprintf(path, sizeof(path), "%s/state", q->dir);
		r = qs_open(&q->state, path, server->n_units, dhp_server_digest(server), err);
	}
	if (r < 0) {
		free(q);
		return r;
	}
	snprintf(path, sizeof(path), "%s/cpu-remove-probe.json", q->dir);
	q->cpu_remove = qemu_probe_decide(path, q->version_text, &q->version, q->accel,
					  q->cpu_remove_reason, sizeof(q->cpu_remove_reason));
	*ret_backend = &q->base;
	return 0;
}

/* ---- queries ---- */

/* The QEMU backend behind be, or NULL for another backend. */
static struct qemu *as_qemu(struct dhp_backend *be)
{
	return be && be->ops == &qemu_ops ? to_qemu(be) : NULL;
}

bool qemu_is(struct dhp_backend *be)
{
	return as_qemu(be) != NULL;
}

const char *dhp_qemu_accel(struct dhp_backend *be)
{
	struct qemu *q = as_qemu(be);

	return q ? dhp_qemu_accel_name(q->accel) : NULL;
}

const char *dhp_qemu_cpu_remove_method(struct dhp_backend *be)
{
	struct qemu *q = as_qemu(be);

	return q ? dhp_qemu_cpu_remove_name(q->cpu_remove) : NULL;
}

const char *dhp_qemu_cpu_remove_reason(struct dhp_backend *be)
{
	struct qemu *q = as_qemu(be);

	return q ? q->cpu_remove_reason : NULL;
}

const char *dhp_qemu_version(struct dhp_backend *be)
{
	struct qemu *q = as_qemu(be);

	return q ? q->version_text : NULL;
}

int dhp_qemu_partition_pid(struct dhp_backend *be, uint32_t partition)
{
	struct qemu *q = as_qemu(be);
	struct qs_partition *rec = q ? qs_partition(&q->state, partition, false) : NULL;

	return rec && qemu_pid_alive(rec->pid, rec->start_time) ? rec->pid : -1;
}

unsigned dhp_qemu_parked(struct dhp_backend *be, uint32_t partition)
{
	struct qemu *q = as_qemu(be);
	struct qs_partition *rec = q ? qs_partition(&q->state, partition, false) : NULL;

	return rec ? qs_slots_in(rec, QS_SLOT_PARKED) : 0;
}

static void qemu_info(struct dhp_backend *be, struct dhp_backend_info *ret_info)
{
	struct qemu *q = to_qemu(be);

	*ret_info = (struct dhp_backend_info){
		.accelerator = dhp_qemu_accel_name(q->accel),
		.version = q->version_text,
		.cpu_remove = dhp_qemu_cpu_remove_name(q->cpu_remove),
		.cpu_remove_reason = q->cpu_remove_reason,
	};
}

/* STATE_DIR/qemu/<id>/console.log: QEMU writes the guest's ttyS0 there
 * (-serial file:, truncated at each start); stop leaves it for people. */
static int qemu_console_open(struct dhp_backend *be, uint32_t partition, int *ret_fd,
			     struct dhp_error *err)
{
	char path[QEMU_PATH_MAX];
	int fd;

	if (qemu_part_path(to_qemu(be), partition, "console.log", path, sizeof(path)) < 0)
		return dhp_error_set(err, -ENAMETOOLONG, "the console log's path is too long");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		int r = errno == ENOENT ? -ENOENT : -errno;

		dhp_error_set(err, r, "partition %u has no console log%s%s", partition,
			      r == -ENOENT ? " yet" : ": ", r == -ENOENT ? "" : strerror(-r));
		return r == -ENOENT ? dhp_error_resolve(err, "start it: QEMU writes the log "
							"from its boot on") : r;
	}
	*ret_fd = fd;
	return 0;
}

static const struct dhp_backend_ops qemu_ops = {
	.name = "qemu",
	.power = qemu_power,
	.partition_start = qemu_partition_start,
	.partition_stop = qemu_partition_stop,
	.notify = qemu_notify,
	.attach = qemu_attach,
	.detach = qemu_detach,
	.online = qemu_online,
	.offline = qemu_offline,
	.move = qemu_move,
	.cancel = qemu_cancel,
	.reconcile = qemu_reconcile,
	.info = qemu_info,
	.console_open = qemu_console_open,
	.free = qemu_free,
};
