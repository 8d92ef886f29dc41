/* SPDX-License-Identifier: MIT */
/*
 * Real partitions: the engine, the store and the QEMU backend on the
 * built-in loop in real time, with QEMU (TCG) and the guest image
 * ($DHP_BUILD/guest, `make guest`); skipped, with the reason, without
 * them. On topologies/demo: a partition of one processor and one memory
 * module boots; a processor, a memory module and an I/O host bridge are
 * hot added and seen from inside the guest through the agent's report;
 * the module is hot replaced, then everything hot removed (the processor
 * by the park path under TCG: QEMU lives on and takes another processor);
 * dhpd "restarts" (the backend is freed with the partition running, made
 * again, and reconnects); the partition stops, gracefully (its guest
 * powers off on the ACPI power button). Then: starts the engine
 * gives up on leave nothing running; a partition on host CPUs has its
 * vCPU pinned and moved by a hot replace, and fails cleanly when its QEMU
 * is killed. The invariant checker runs with the backend's reconcile after
 * each step. Every QEMU started is killed at the end, whatever happened.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend/qemu/qemu.h"
#include "harness.h"
#include "model/topology.h"
#include "testbed.h"

#define DEMO "topologies/demo"

static char image[512];
static struct testbed tb;
static uint32_t deadline_ms = 90000;	/* the engine's, per phase */
/* The power button's grace at a stop (0: the backend's 5 s; the guest
 * powers off in about 2 s). A start's undo is a stop, and must fit in
 * deadline_ms: the deadlines test shortens both. */
static uint32_t powerdown_ms;

static bool image_with_agent(const char *dir);
static void refused_remove(const char *unit, int rc);

/* Every QEMU this test started, killed at the end whatever happened. */
static pid_t pids[16];
static size_t n_pids;

static void remember_pid(uint32_t partition)
{
	int pid = tb.backend ? dhp_qemu_partition_pid(tb.backend, partition) : -1;

	for (size_t i = 0; i < n_pids; i++)
		if (pids[i] == pid)
			return;
	if (pid > 0 && n_pids < sizeof(pids) / sizeof(pids[0]))
		pids[n_pids++] = pid;
}

static void kill_all(void)
{
	for (size_t i = 0; i < n_pids; i++)
		kill(pids[i], SIGKILL);
	n_pids = 0;
}

/* And any QEMU the backend left a pid file for. */
static void kill_pidfiles(const char *dir)
{
	char path[600], buf[32];
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "%s/qemu", dir);
	d = opendir(path);
	while (d && (de = readdir(d))) {
		int fd;
		ssize_t len;

		snprintf(path, sizeof(path), "%s/qemu/%.64s/qemu.pid", dir, de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (len > 0) {
			buf[len] = '\0';
			if (atoi(buf) > 1)
				kill(atoi(buf), SIGKILL);
		}
	}
	if (d)
		closedir(d);
}

static void on_signal(int sig)
{
	for (size_t i = 0; i < n_pids; i++)
		kill(pids[i], SIGKILL);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The last notice that a stop gave (stop.c says how QEMU ended). */
static char stop_notice[512];

static void notice(void *ctx, const char *line)
{
	(void)ctx;
	printf("# qemu: %s\n", line);
	fflush(stdout);
	if (strstr(line, "power button") || strstr(line, "was killed"))
		snprintf(stop_notice, sizeof(stop_notice), "%s", line);
}

static void recovered(void *ctx, int rc, const struct dhp_error *err)
{
	int *result = ctx;

	(void)err;
	*result = rc;
}

/* The testbed of testbed.c, with the QEMU backend in real time. */
static int qb_open(const char *dir, const char *topology, struct dhp_error *err)
{
	char kernel[600], initrd[600], path[320];
	struct dhp_qemu_config qc = {
		.state_dir = dir, .kernel = kernel, .initrd = initrd,
		.accel = DHP_QEMU_ACCEL_TCG, .powerdown_ms = powerdown_ms, .notice = notice,
	};
	struct dhp_core_config cfg = { 0 };
	int result = 1, r;

	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", image);
	snprintf(initrd, sizeof(initrd), "%s/initrd.gz", image);
	snprintf(tb.dir, sizeof(tb.dir), "%s", dir);
	tb.loop = dhp_loop_new(false);
	if (!tb.loop)
		return -ENOMEM;
	snprintf(tb.topology, sizeof(tb.topology), "%s", topology);
	r = dhp_topology_load(topology, &tb.server, err);
	if (!r) {
		snprintf(path, sizeof(path), "%s/state.db", dir);
		r = dhp_store_open(path, &tb.store, err);
	}
	if (!r)
		r = dhp_qemu_new(tb.server, tb.loop, &qc, &tb.backend, err);
	if (r)
		return r;
	cfg = (struct dhp_core_config){
		.server = tb.server, .store = tb.store, .backend = tb.backend, .loop = tb.loop,
		.phase_deadline_ms = deadline_ms,
	};
	r = dhp_core_new(&cfg, &tb.core, err);
	if (!r)
		r = dhp_core_recover(tb.core, recovered, &result);
	if (r)
		return r;
	tb_settle(&tb);
	if (result)
		return dhp_error_set(err, result < 0 ? result : -EIO, "recovery failed");
	tb.view.n_units = tb.server->n_units;
	tb.view.units = calloc(tb.server->n_units, sizeof(*tb.view.units));
	return tb.view.units ? 0 : -ENOMEM;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void invariants(const char *after)
{
	struct dhp_error err = { 0 };
	int r = tb_invariants(&tb, &err);

	CHECK_MSG(r == 0, "after %s: invariant broken: %s", after, err.message);
}

/* A request that must complete; prints its time. */
static bool ok_req(const struct dhp_request *req, const char *what)
{
	struct dhp_error err = { 0 };
	struct dhp_op op = { 0 };
	double t = now_s();
	int r = tb_do_req(&tb, req, &op, &err);

	CHECK_MSG(r == 0, "%s refused: %s", what, err.message);
	if (r)
		return false;
	CHECK_MSG(op.state == DHP_OP_COMPLETED, "%s ended %s: %s", what,
		  dhp_op_state_name(op.state), op.error.message);
	printf("# %s: %.2f s\n", what, now_s() - t);
	fflush(stdout);
	invariants(what);
	return op.state == DHP_OP_COMPLETED;
}

static bool ok(enum dhp_verb verb, const char *unit)
{
	const char *ids[1] = { unit };
	struct dhp_request req = { .verb = verb, .partition = "p", .units = ids,
				   .n_units = unit ? 1 : 0 };
	char what[64];

	snprintf(what, sizeof(what), "%s %s", dhp_verb_name(verb), unit ? unit : "p");
	return ok_req(&req, what);
}

struct report {
	bool done;
	int rc;
	struct dhp_proto_state st;
	struct dhp_error err;
};

static void got_report(void *ctx, int rc, const struct dhp_proto_state *st,
		       const struct dhp_error *err)
{
	struct report *rep = ctx;

	rep->done = true;
	rep->rc = rc;
	if (st)
		rep->st = *st;
	if (err)
		rep->err = *err;
}

/* What the guest itself says it has. */
static bool guest(struct report *rep)
{
	uint32_t id = dhp_server_partition_by_name(tb.server, "p")->id;

	memset(rep, 0, sizeof(*rep));
	CHECK_INT(dhp_qemu_report(tb.backend, id, got_report, rep), 0);
	for (int i = 0; i < 100000 && !rep->done; i++)
		dhp_loop_run_once(tb.loop);
	CHECK_MSG(rep->done && rep->rc == 0, "no report: %s", rep->err.message);
	return rep->done && rep->rc == 0;
}

/* Blocks of the guest in a zone and state. */
static unsigned blocks(const struct dhp_proto_state *st, const char *zone, bool online)
{
	unsigned n = 0;

	for (size_t i = 0; i < st->n_runs; i++)
		if ((st->runs[i].state == DHP_PROTO_MEM_ONLINE) == online &&
		    (!zone || !strcmp(st->runs[i].zone, zone)))
			n += st->runs[i].count;
	return n;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	return remove(path);
}

/* The partition's console log, as the API serves it (console_open), has
 * text (the guest's boot line). */
static void console_has(uint32_t id, const char *text)
{
	struct dhp_error err = { 0 };
	char buf[65536];
	ssize_t n = 0;
	int fd = -1;

	CHECK_MSG(tb.backend->ops->console_open(tb.backend, id, &fd, &err) == 0,
		  "console_open: %s", err.message);
	if (fd >= 0) {
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = '\0';
	CHECK_MSG(strstr(buf, text) != NULL, "no \"%s\" in the console log: %s", text, buf);
}

static bool boot(void)
{
	struct dhp_partition *p;
	char line[80];
	struct report rep;
	uint32_t id;

	if (!ok(DHP_VERB_START, NULL))
		return false;
	p = dhp_server_partition_by_name(tb.server, "p");
	id = p->id;
	remember_pid(id);
	CHECK(dhp_qemu_partition_pid(tb.backend, id) > 0);
	console_has(id, "\ndhp-guest: init ");
	/* The guest's init says its SMBIOS system UUID
	 * (/sys/class/dmi/id/product_uuid), lowercase: the partition's (the
	 * console ends lines in CR LF: no newline after it). */
	snprintf(line, sizeof(line), "\ndhp-guest: system uuid %s", p->uuid);
	console_has(id, line);
	if (guest(&rep)) {
		CHECK_STR(rep.st.cpus_online, "0");
		/* Every vCPU slot: 2 × 16 processors and vCPU 0 (cmdline.c). */
		CHECK_STR(rep.st.cpus_possible, "0-32");
		CHECK_INT(blocks(&rep.st, "Movable", true), 0);
	}
	return true;
}

/* PCI functions of virtio devices (vendor 0x1af4) the guest has. */
static unsigned virtio_fns(const struct dhp_proto_state *st)
{
	unsigned n = 0;

	for (size_t i = 0; i < st->n_pci; i++)
		n += st->pci[i].vendor == 0x1af4;
	return n;
}

static void hot_add(void)
{
	struct report rep;

	if (!ok(DHP_VERB_ADD, "s0-cpu1") || !guest(&rep))
		return;
	CHECK_STR(rep.st.cpus_online, "0-1");
	if (!ok(DHP_VERB_ADD, "s0-mem1") || !guest(&rep))
		return;
	/* 2 GiB in 128 MiB blocks, online and movable, so removable. */
	CHECK_INT(blocks(&rep.st, "Movable", true), 16);
	/* virtio-net and virtio-blk behind a root port. */
	if (!ok(DHP_VERB_ADD, "s1-iohb0") || !guest(&rep))
		return;
	CHECK_INT(virtio_fns(&rep.st), 2);
}

static void hot_replace_memory(void)
{
	const char *ids[1] = { "s0-mem1" };
	struct dhp_request req = { .verb = DHP_VERB_REPLACE, .partition = "p", .units = ids,
				   .n_units = 1, .spare = "s0-mem2" };
	struct report rep;

	if (!ok_req(&req, "replace s0-mem1 by s0-mem2") || !guest(&rep))
		return;
	CHECK_INT(blocks(&rep.st, "Movable", true), 16);
	CHECK(dhp_server_unit(tb.server, "s0-mem2")->partition != 0);
	CHECK(dhp_server_unit(tb.server, "s0-mem1")->partition == 0);
}

static void hot_remove(void)
{
	uint32_t id = dhp_server_partition_by_name(tb.server, "p")->id;
	struct report rep;
	int pid = dhp_qemu_partition_pid(tb.backend, id);

	if (!ok(DHP_VERB_REMOVE, "s1-iohb0") || !guest(&rep))
		return;
	CHECK_INT(virtio_fns(&rep.st), 0);
	if (!ok(DHP_VERB_REMOVE, "s0-mem2") || !guest(&rep))
		return;
	CHECK_INT(blocks(&rep.st, "Movable", true), 0);
	CHECK_INT(blocks(&rep.st, NULL, false), 0);	/* gone, not just offline */
	CHECK_STR(dhp_qemu_cpu_remove_method(tb.backend), "park");
	if (!ok(DHP_VERB_REMOVE, "s0-cpu1") || !guest(&rep))
		return;
	/* Offline in the guest, its vCPU parked: present, not online. */
	CHECK_STR(rep.st.cpus_online, "0");
	CHECK_STR(rep.st.cpus_present, "0-1");
	CHECK_INT(dhp_qemu_parked(tb.backend, id), 1);
	CHECK_INT(dhp_qemu_partition_pid(tb.backend, id), pid);
	/* QEMU lives on and takes the processor back, in a new slot (the
	 * parked one is never reused): the guest numbers it 2. */
	if (!ok(DHP_VERB_ADD, "s0-cpu1") || !guest(&rep))
		return;
	CHECK_STR(rep.st.cpus_online, "0,2");
	CHECK_INT(dhp_qemu_partition_pid(tb.backend, id), pid);
	CHECK_INT(dhp_qemu_parked(tb.backend, id), 1);
	/* vCPU 0 never leaves: the hot remove is rolled back. */
	refused_remove("s0-cpu0", -EOPNOTSUPP);
}

/* A hot remove that the backend refuses, rolled back with rc. */
static void refused_remove(const char *unit, int rc)
{
	const char *ids[1] = { unit };
	struct dhp_request req = { .verb = DHP_VERB_REMOVE, .partition = "p", .units = ids,
				   .n_units = 1 };
	struct dhp_error err = { 0 };
	struct dhp_op op = { 0 };

	CHECK_INT(tb_do_req(&tb, &req, &op, &err), 0);
	CHECK_MSG(op.state == DHP_OP_ROLLED_BACK && op.error.code == rc,
		  "remove %s ended %s (%d): %s", unit, dhp_op_state_name(op.state),
		  op.error.code, op.error.message);
	printf("# remove %s: rolled back: %s\n", unit, op.error.message);
	invariants("a refused remove");
}

/* dhpd restarts with the partition running: QEMU outlives it, and the
 * next dhpd reconnects (reconcile) and goes on. */
static void restart_dhpd(void)
{
	uint32_t id = dhp_server_partition_by_name(tb.server, "p")->id;
	int pid = dhp_qemu_partition_pid(tb.backend, id);
	struct dhp_error err = { 0 };
	struct report rep;
	char dir[256];
	double t = now_s();

	snprintf(dir, sizeof(dir), "%s", tb.dir);
	tb_close(&tb);
	CHECK(kill(pid, 0) == 0);
	CHECK_MSG(qb_open(dir, DEMO, &err) == 0, "reopen: %s", err.message);
	if (!tb.core)
		return;
	printf("# dhpd restart and reconnection: %.2f s\n", now_s() - t);
	CHECK_INT(dhp_qemu_partition_pid(tb.backend, id), pid);
	CHECK_INT(dhp_server_partition(tb.server, id)->state, DHP_PARTITION_RUNNING);
	CHECK(dhp_server_partition(tb.server, id)->os_ready);
	invariants("restart");
	if (guest(&rep))
		CHECK_STR(rep.st.cpus_online, "0,2");
	ok(DHP_VERB_REMOVE, "s0-cpu1");
}

static void stop(void)
{
	uint32_t id = dhp_server_partition_by_name(tb.server, "p")->id;
	int pid = dhp_qemu_partition_pid(tb.backend, id);

	CHECK(pid > 0);
	stop_notice[0] = '\0';
	ok(DHP_VERB_STOP, NULL);
	CHECK_INT(dhp_qemu_partition_pid(tb.backend, id), -1);
	/* Graceful: the guest's acpid powered it off on the ACPI power
	 * button, within the grace (not QMP quit, not SIGKILL). */
	CHECK_MSG(strstr(stop_notice, "powered off by its OS") != NULL,
		  "the stop was not graceful: %s", stop_notice[0] ? stop_notice : "no notice");
}

/* What the API shows (the Chassis's Oem.Dhp), through the backend seam:
 * under TCG a processor leaves by the park path (DESIGN.md §9). */
static void backend_info(void)
{
	struct dhp_backend_info info;

	dhp_backend_describe(tb.backend, &info);
	CHECK_STR(info.accelerator, "tcg");
	CHECK_STR(info.version, dhp_qemu_version(tb.backend));
	CHECK_STR(info.cpu_remove, dhp_qemu_cpu_remove_method(tb.backend));
	CHECK_STR(info.cpu_remove_reason, dhp_qemu_cpu_remove_reason(tb.backend));
	CHECK_STR(info.cpu_remove, "park");	/* TCG parks, whatever the version */
}

static bool with_qemu(void)
{
	const char *tmp = getenv("DHP_TEST_TMP"), *steps[] = {
		"qemu-boot", "qemu-hot-add", "qemu-hot-replace-memory", "qemu-hot-remove",
		"qemu-dhpd-restart", "qemu-stop",
	};
	void (*fns[])(void) = { NULL, hot_add, hot_replace_memory, hot_remove, restart_dhpd,
				stop };
	struct dhp_error err = { 0 };
	char dir[256], path[600];
	size_t n = sizeof(steps) / sizeof(steps[0]), i;
	const char *why = NULL;

	snprintf(path, sizeof(path), "%s/initrd.gz", image);
	if (system("command -v qemu-system-x86_64 >/dev/null 2>&1") != 0)
		why = "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)";
	else if (access(path, R_OK) != 0)
		why = "no guest image (make guest)";
	else if (!image_with_agent(image))
		why = "the guest image has no dhp-agent (make guest in a build without SANITIZE)";
	if (why) {
		for (i = 0; i < n; i++) {
			test_begin("%s", steps[i]);
			test_skip("%s", why);
		}
		test_begin("pinned");
		test_skip("%s", why);
		return false;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGABRT, on_signal);
	snprintf(dir, sizeof(dir), "%s/dhp-qemu-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		test_begin("qemu-boot");
		CHECK(0);
		return false;
	}
	test_begin("qemu-boot");
	memset(&tb, 0, sizeof(tb));
	if (qb_open(dir, DEMO, &err) == 0 &&
	    tb_create(&tb, "p", "linux", "s0-cpu0 s0-mem0", &err) == 0) {
		CHECK_STR(dhp_qemu_accel(tb.backend), "tcg");
		backend_info();
		printf("# QEMU %s, processor removal: %s (%s)\n", dhp_qemu_version(tb.backend),
		       dhp_qemu_cpu_remove_method(tb.backend),
		       dhp_qemu_cpu_remove_reason(tb.backend));
		boot();
	} else {
		CHECK_MSG(0, "testbed: %s", err.message);
	}
	for (i = 1; i < n; i++) {
		bool failed = test_state.failures > 0;

		test_end();
		test_begin("%s", steps[i]);
		if (failed) {
			test_skip("an earlier step failed");
			for (i++; i < n; i++) {
				test_begin("%s", steps[i]);
				test_skip("an earlier step failed");
			}
			break;
		}
		fns[i]();
	}
	test_end();
	tb_close(&tb);
	kill_all();
	kill_pidfiles(dir);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return true;
}

/* ---- processors on host CPUs ---- */

/* The thread of vCPU n of a QEMU (-name debug-threads=on names them). */
static pid_t vcpu_thread(int pid, int n)
{
	char path[128], comm[64], want[32];
	struct dirent *de;
	pid_t tid = -1;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	snprintf(want, sizeof(want), "CPU %d/", n);
	d = opendir(path);
	while (d && (de = readdir(d)) && tid < 0) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%d/task/%.32s/comm", pid, de->d_name);
		f = fopen(path, "r");
		if (f && fgets(comm, sizeof(comm), f) && !strncmp(comm, want, strlen(want)))
			tid = atoi(de->d_name);
		if (f)
			fclose(f);
	}
	if (d)
		closedir(d);
	return tid;
}

/* The one host CPU a thread may run on, or -1. */
static int pinned_to(pid_t tid)
{
	cpu_set_t set;
	int cpu = -1;

	if (tid <= 0 || sched_getaffinity(tid, sizeof(set), &set) < 0 || CPU_COUNT(&set) != 1)
		return -1;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			cpu = i;
	return cpu;
}

static void wait_failed(uint32_t id)
{
	for (int i = 0; i < 200000; i++) {
		if (dhp_server_partition(tb.server, id)->state == DHP_PARTITION_FAILED)
			return;
		dhp_loop_run_once(tb.loop);
	}
}

/* A partition on host CPUs: its vCPU pinned, moved by a hot replace while
 * it runs; then its QEMU is killed: the partition fails, and stops. */
static void pinned(void)
{
	static const char topo[] = "server pinned\nmode dynamic\nsocket 0\n"
		"  processor count=2 model=\"vCPU\" host-cpus=0-1\n"
		"  memory count=1 model=\"DIMM\" size=512MiB\n";
	const char *tmp = getenv("DHP_TEST_TMP"), *ids[1] = { "s0-cpu0" };
	struct dhp_request req = { .verb = DHP_VERB_REPLACE, .partition = "p", .units = ids,
				   .n_units = 1, .spare = "s0-cpu1" };
	struct dhp_error err = { 0 };
	char dir[256], path[300];
	uint32_t id;
	int pid, fd;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		test_skip("this machine has one CPU");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/dhp-qemu-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	snprintf(path, sizeof(path), "%s/pinned", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, topo, sizeof(topo) - 1) == (ssize_t)sizeof(topo) - 1);
	if (fd >= 0)
		close(fd);
	memset(&tb, 0, sizeof(tb));
	if (qb_open(dir, path, &err) < 0 || tb_create(&tb, "p", "linux", "s0-cpu0 s0-mem0",
						      &err) < 0) {
		CHECK_MSG(0, "testbed: %s", err.message);
		goto out;
	}
	if (!ok(DHP_VERB_START, NULL))
		goto out;
	id = dhp_server_partition_by_name(tb.server, "p")->id;
	remember_pid(id);
	pid = dhp_qemu_partition_pid(tb.backend, id);
	CHECK_INT(pinned_to(vcpu_thread(pid, 0)), 0);
	/* The logical processor keeps running; its host CPU changes. */
	if (ok_req(&req, "replace s0-cpu0 by s0-cpu1"))
		CHECK_INT(pinned_to(vcpu_thread(pid, 0)), 1);
	/* QEMU dies: the partition fails, and stops cleanly. */
	kill(pid, SIGKILL);
	wait_failed(id);
	CHECK_INT(dhp_server_partition(tb.server, id)->state, DHP_PARTITION_FAILED);
	invariants("QEMU killed");
	ok(DHP_VERB_STOP, NULL);
out:
	tb_close(&tb);
	kill_all();
	kill_pidfiles(dir);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Processes whose command line names dir (QEMUs of that state dir). */
static unsigned processes_in(const char *dir)
{
	char path[64], buf[4096];
	struct dirent *de;
	unsigned n = 0;
	DIR *d = opendir("/proc");

	while (d && (de = readdir(d))) {
		ssize_t len;
		int fd;

		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%.16s/cmdline", de->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		len = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		for (ssize_t i = 0; i < len; i++)
			if (!buf[i])
				buf[i] = ' ';
		buf[len > 0 ? len : 0] = '\0';
		n += len > 0 && strstr(buf, dir) != NULL;
	}
	if (d)
		closedir(d);
	return n;
}

static void wake(void *arg)
{
	*(struct dhp_timer **)arg = NULL;
}

/* Run the loop for that long: a timer wakes it when only descriptors are
 * watched (a QEMU left running would otherwise block it for good). */
static void run_for(double seconds)
{
	double end = now_s() + seconds;
	struct dhp_timer *timer = dhp_timer_add(tb.loop, (uint64_t)(seconds * 1000), wake, &timer);

	while (now_s() < end) {
		if (dhp_loop_pending(tb.loop))
			dhp_loop_run_once(tb.loop);
		else
			usleep(20000);
	}
	dhp_timer_cancel(tb.loop, timer);
}

/* A start the engine gives up on (its deadline) leaves nothing running:
 * once while the guest boots, once while QEMU is still daemonizing. */
static void deadlines(void)
{
	const char *tmp = getenv("DHP_TEST_TMP");
	uint32_t limits[] = { 2000, 30 };
	struct dhp_error err = { 0 };
	char dir[256];

	snprintf(dir, sizeof(dir), "%s/dhp-qemu-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		struct dhp_op op = { 0 };

		memset(&tb, 0, sizeof(tb));
		deadline_ms = limits[i];
		powerdown_ms = 500;
		if (qb_open(dir, DEMO, &err) < 0 ||
		    (i == 0 && tb_create(&tb, "p", "linux", "s0-cpu0 s0-mem0", &err) < 0)) {
			CHECK_MSG(0, "testbed: %s", err.message);
			break;
		}
		CHECK_INT(tb_do(&tb, DHP_VERB_START, "p", NULL, &op, &err), 0);
		CHECK_MSG(op.state == DHP_OP_ROLLED_BACK && op.error.code == -ETIMEDOUT,
			  "start with a %u ms deadline ended %s: %s", limits[i],
			  dhp_op_state_name(op.state), op.error.message);
		printf("# start with a %u ms deadline: %s\n", limits[i], op.error.message);
		run_for(2.5);	/* QEMU may come up after the deadline: it is ended */
		invariants("a start past its deadline");
		CHECK_INT(processes_in(dir), 0);
		tb_close(&tb);
	}
	deadline_ms = 90000;
	powerdown_ms = 0;
	kill_pidfiles(dir);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The unplug path (KVM's) under TCG, asked for: QEMU 7.2 may abort after
 * it (DESIGN.md §9), so only when DHP_TEST_UNSAFE_UNPLUG=1. */
static void unplug_path(void)
{
	const char *tmp = getenv("DHP_TEST_TMP");
	struct dhp_error err = { 0 };
	struct report rep;
	char dir[256], path[320], version[32];
	FILE *f;

	if (!getenv("DHP_TEST_UNSAFE_UNPLUG")) {
		test_skip("set DHP_TEST_UNSAFE_UNPLUG=1: it may crash QEMU 7.2 under TCG");
		return;
	}
	snprintf(dir, sizeof(dir), "%s/dhp-qemu-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	memset(&tb, 0, sizeof(tb));
	if (qb_open(dir, DEMO, &err) < 0) {
		CHECK_MSG(0, "testbed: %s", err.message);
		goto out;
	}
	snprintf(version, sizeof(version), "%s", dhp_qemu_version(tb.backend));
	tb_close(&tb);
	/* A cache that says unplug for this QEMU is believed. */
	snprintf(path, sizeof(path), "%s/qemu/cpu-remove-probe.json", dir);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "{\"qemu\": \"%s\", \"accel\": \"tcg\", \"method\": \"unplug\", "
			"\"reason\": \"forced by the test\"}\n", version);
		fclose(f);
	}
	if (qb_open(dir, DEMO, &err) < 0 ||
	    tb_create(&tb, "p", "linux", "s0-cpu0 s0-mem0", &err) < 0) {
		CHECK_MSG(0, "testbed: %s", err.message);
		goto out;
	}
	CHECK_STR(dhp_qemu_cpu_remove_method(tb.backend), "unplug");
	if (!ok(DHP_VERB_START, NULL))
		goto out;
	remember_pid(dhp_server_partition_by_name(tb.server, "p")->id);
	if (ok(DHP_VERB_ADD, "s0-cpu1") && ok(DHP_VERB_REMOVE, "s0-cpu1") && guest(&rep))
		CHECK_STR(rep.st.cpus_present, "0");
	ok(DHP_VERB_STOP, NULL);
out:
	tb_close(&tb);
	kill_all();
	kill_pidfiles(dir);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* An image with dhp-agent in it: a SANITIZE build links the agent
 * dynamically and its image has none, so fall back to build/'s. */
static bool image_with_agent(const char *dir)
{
	char path[600], line[256];
	bool agent = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/MANIFEST", dir);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		agent |= !strncmp(line, "agent: dhp-agent", 16);
	if (f)
		fclose(f);
	return agent;
}

int main(void)
{
	const char *build = getenv("DHP_BUILD");

	snprintf(image, sizeof(image), "%s/guest", build && *build ? build : "build");
	if (!image_with_agent(image) && image_with_agent("build/guest"))
		snprintf(image, sizeof(image), "build/guest");
	if (with_qemu()) {
		RUN(deadlines);
		RUN(pinned);
		RUN(unplug_path);
	}
	return test_done();
}
