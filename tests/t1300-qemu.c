/* SPDX-License-Identifier: MIT */
/*
 * The QEMU backend without QEMU: the command line of a partition, the
 * sizing for the shipped topologies, the processor removal rule and its
 * cache, the state file. tests/t1310-qemu-guest.c boots real partitions.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/qemu/cmdline.h"
#include "backend/qemu/probe.h"
#include "backend/qemu/qemu.h"
#include "backend/qemu/state-file.h"
#include "harness.h"
#include "model/topology.h"
#include "testbed.h"

#define DEMO "topologies/demo"

static bool verbose;

/* ---- without QEMU ---- */

static struct dhp_server *load(const char *path)
{
	struct dhp_server *s = NULL;
	struct dhp_error err = { 0 };

	CHECK_MSG(dhp_topology_load(path, &s, &err) == 0, "%s: %s", path, err.message);
	return s;
}

static bool has_arg(const struct qemu_argv *a, const char *opt, const char *value)
{
	for (size_t i = 0; i + 1 < a->n; i++)
		if (!strcmp(a->argv[i], opt) && !strcmp(a->argv[i + 1], value))
			return true;
	return false;
}

#define CHECK_ARG(a, opt, value) CHECK_MSG(has_arg(a, opt, value), "no %s %s", opt, value)

static void cmdline(void)
{
	struct dhp_server *s = load(DEMO);
	const char *ids[] = { "s0-cpu0", "s0-mem0", "s0-cpu1", "s1-iohb0", "s0-mem1" };
	const struct dhp_unit *units[5];
	int slots[5] = { 0, -1, 1, -1, -1 }, ports[5] = { -1, -1, -1, 0, -1 };
	struct qemu_sizing z;
	struct qemu_argv a = { 0 };
	struct dhp_error err = { 0 };
	struct qemu_launch l = {
		.binary = "qemu-system-x86_64", .kernel = "/k", .initrd = "/i", .append = "x=1",
		.dir = "/state,dir/qemu/1", .name = "web", .accel = DHP_QEMU_ACCEL_TCG,
		.uuid = "6f1c2a4e-93d5-4b7a-8c1e-2f0a9b3d4e5f",
		.sizing = &z, .server = s, .units = units, .n_units = 5, .slots = slots,
		.ports = ports,
	};
	char *line;

	if (!s)
		return;
	qemu_sizing_of(s, &z);
	/* 16 processors, 16 x 2 GiB, 4 bridges: room for all and as many
	 * parked vCPUs, and vCPU 0; the boot module is -m. */
	CHECK_INT(z.maxcpus, 33);
	CHECK_INT(z.mem_slots, 15);
	CHECK_INT(z.maxmem, 32ull << 30);
	CHECK_INT(z.n_ports, 4);
	for (int i = 0; i < 5; i++)
		units[i] = dhp_server_unit(s, ids[i]);
	CHECK_INT(qemu_cmdline(&l, &a, &err), 0);
	line = qemu_argv_join(&a);
	if (verbose)
		printf("# %s\n", line);
	CHECK_STR(a.argv[0], "qemu-system-x86_64");
	CHECK_ARG(&a, "-M", "q35");
	CHECK_ARG(&a, "-uuid", "6f1c2a4e-93d5-4b7a-8c1e-2f0a9b3d4e5f");
	CHECK_ARG(&a, "-accel", "tcg");
	CHECK_ARG(&a, "-cpu", "max");
	CHECK_ARG(&a, "-smp", "1,sockets=1,cores=33,threads=1,maxcpus=33");
	CHECK_ARG(&a, "-m", "2048M,slots=15,maxmem=32768M");
	CHECK_ARG(&a, "-append", "console=ttyS0 panic=-1 quiet memhp_default_state=offline x=1");
	/* Commas in paths are doubled inside option values. */
	CHECK_ARG(&a, "-qmp", "unix:/state,,dir/qemu/1/qmp.sock,server=on,wait=off");
	CHECK_ARG(&a, "-serial", "file:/state,,dir/qemu/1/console.log");
	CHECK_ARG(&a, "-chardev", "socket,id=agent,path=/state,,dir/qemu/1/agent.sock,"
		  "server=on,wait=off");
	CHECK_ARG(&a, "-serial", "chardev:agent");
	CHECK_ARG(&a, "-pidfile", "/state,dir/qemu/1/qemu.pid");
	CHECK(line && strstr(line, " -daemonize "));
	CHECK_ARG(&a, "-device", "pcie-root-port,id=rp0,bus=pcie.0,addr=1.0,multifunction=on,"
		  "chassis=1,slot=1,io-reserve=0");
	CHECK_ARG(&a, "-device", "pcie-root-port,id=rp3,bus=pcie.0,addr=1.3,chassis=4,slot=4,"
		  "io-reserve=0");
	/* vCPU 0 is -smp's; the second processor is a device in slot 1. */
	CHECK_ARG(&a, "-device", "max-x86_64-cpu,id=s0-cpu1.1,socket-id=0,core-id=1,thread-id=0");
	CHECK(line && !strstr(line, "id=s0-cpu0"));
	/* The first module boots (-m); the next is a DIMM. */
	CHECK(line && !strstr(line, "mem-s0-mem0"));
	CHECK_ARG(&a, "-object", "memory-backend-ram,id=mem-s0-mem1,size=2147483648");
	CHECK_ARG(&a, "-device", "pc-dimm,id=s0-mem1,memdev=mem-s0-mem1,node=0");
	/* Sockets are nodes: the boot memory in its module's, every slot
	 * bound (slot 0 to the booting processor's socket, then 8 slots per
	 * socket), the demo's distances. */
	CHECK_ARG(&a, "-object", "memory-backend-ram,id=boot-ram,size=2147483648");
	CHECK_ARG(&a, "-numa", "node,nodeid=0,memdev=boot-ram");
	CHECK_ARG(&a, "-numa", "node,nodeid=1");
	CHECK_ARG(&a, "-numa", "node,nodeid=3");
	CHECK_ARG(&a, "-numa", "cpu,node-id=0,socket-id=0,core-id=0,thread-id=0");
	CHECK_ARG(&a, "-numa", "cpu,node-id=0,socket-id=0,core-id=8,thread-id=0");
	CHECK_ARG(&a, "-numa", "cpu,node-id=1,socket-id=0,core-id=9,thread-id=0");
	CHECK_ARG(&a, "-numa", "cpu,node-id=3,socket-id=0,core-id=32,thread-id=0");
	CHECK_ARG(&a, "-numa", "dist,src=0,dst=1,val=16");
	CHECK_ARG(&a, "-numa", "dist,src=1,dst=2,val=21");
	CHECK_ARG(&a, "-numa", "dist,src=2,dst=3,val=16");
	CHECK_ARG(&a, "-device", "virtio-net-pci,id=s1-iohb0-d0,bus=rp0,addr=0.0,multifunction=on");
	CHECK_ARG(&a, "-blockdev", "driver=null-co,node-name=s1-iohb0-n1,size=67108864,"
		  "read-zeroes=on");
	CHECK_ARG(&a, "-device", "virtio-blk-pci,id=s1-iohb0-d1,bus=rp0,addr=0.1,"
		  "drive=s1-iohb0-n1");
	free(line);
	qemu_argv_release(&a);

	l.accel = DHP_QEMU_ACCEL_KVM;
	CHECK_INT(qemu_cmdline(&l, &a, &err), 0);
	CHECK_ARG(&a, "-accel", "kvm");
	CHECK_ARG(&a, "-cpu", "host");
	CHECK_ARG(&a, "-device", "host-x86_64-cpu,id=s0-cpu1.1,socket-id=0,core-id=1,thread-id=0");
	qemu_argv_release(&a);

	/* No UUID given: no -uuid. */
	l.uuid = "";
	CHECK_INT(qemu_cmdline(&l, &a, &err), 0);
	CHECK(!has_arg(&a, "-uuid", "6f1c2a4e-93d5-4b7a-8c1e-2f0a9b3d4e5f"));
	for (size_t i = 0; i < a.n; i++)
		CHECK(strcmp(a.argv[i], "-uuid") != 0);
	qemu_argv_release(&a);

	/* A partition booting on socket 2's processor and socket 1's memory:
	 * slot 0 in node 2, the boot memory in node 1. */
	units[0] = dhp_server_unit(s, "s2-cpu0");
	units[1] = dhp_server_unit(s, "s1-mem0");
	CHECK_INT(qemu_cmdline(&l, &a, &err), 0);
	CHECK_ARG(&a, "-numa", "cpu,node-id=2,socket-id=0,core-id=0,thread-id=0");
	CHECK_ARG(&a, "-numa", "node,nodeid=1,memdev=boot-ram");
	CHECK_ARG(&a, "-numa", "node,nodeid=0");
	qemu_argv_release(&a);

	/* No server (the KVM probe): no nodes. */
	l.server = NULL;
	CHECK_INT(qemu_cmdline(&l, &a, &err), 0);
	for (size_t i = 0; i < a.n; i++)
		CHECK(strcmp(a.argv[i], "-numa") != 0);
	CHECK_ARG(&a, "-device", "pc-dimm,id=s0-mem1,memdev=mem-s0-mem1");
	qemu_argv_release(&a);

	/* No memory module: no boot. */
	l.n_units = 1;
	CHECK_INT(qemu_cmdline(&l, &a, &err), -EINVAL);
	dhp_server_free(s);
}

static void sizing_caps(void)
{
	struct dhp_server *s = load("topologies/large");
	struct qemu_sizing z;

	if (!s)
		return;
	/* 8,192 processors, 4,096 x 16 GiB, 256 bridges: QEMU's and q35's
	 * limits (docs/qemu.md). */
	qemu_sizing_of(s, &z);
	CHECK_INT(z.maxcpus, QEMU_MAXCPUS_CAP);
	CHECK_INT(z.mem_slots, QEMU_MEM_SLOTS_CAP);
	CHECK_INT(z.maxmem, QEMU_MAXMEM_CAP);
	CHECK_INT(z.n_ports, QEMU_PORTS_CAP);
	/* 254 slots for 32 sockets: 8 each for the first 30, 7 for the last. */
	CHECK_INT(z.n_nodes, 32);
	CHECK_INT(z.node_first[0], 1);
	CHECK_INT(z.node_first[1], 9);
	CHECK_INT(z.node_first[30], 241);
	CHECK_INT(z.node_first[31], 248);
	CHECK_INT(z.node_first[32], 255);
	dhp_server_free(s);
	s = load("topologies/static-demo");
	if (!s)
		return;
	/* 8 processors: 17 slots. */
	qemu_sizing_of(s, &z);
	CHECK_INT(z.maxcpus, 17);
	dhp_server_free(s);
}

/* Each socket's range of slots (cmdline.h), and never fewer than 16
 * slots (flat APIC mode), the extra ones shared out. */
static void slot_ranges(void)
{
	static const char tiny[] = "server t\nmode dynamic\nsocket 0\n  processor model=P\n"
		"  memory model=M size=1GiB\nsocket 1\n  processor count=2 model=P\n";
	struct dhp_server *s = load(DEMO), *t = NULL;
	struct dhp_error err = { 0 };
	uint8_t state[QS_SLOTS_MAX + 1] = { 0 };
	struct qemu_sizing z;

	if (!s)
		return;
	qemu_sizing_of(s, &z);
	CHECK_INT(z.n_nodes, 4);
	CHECK_INT(qemu_slot_pick(&z, 2, state), 17);
	state[17] = 1;
	CHECK_INT(qemu_slot_pick(&z, 2, state), 18);
	for (unsigned k = 17; k < 25; k++)
		state[k] = 2;	/* parked or used: taken all the same */
	CHECK_INT(qemu_slot_pick(&z, 2, state), -1);
	CHECK_INT(qemu_slot_pick(&z, 3, state), 25);
	CHECK_INT(qemu_slot_pick(&z, 4, state), -1);	/* no such socket */
	dhp_server_free(s);

	CHECK_INT(dhp_topology_parse(tiny, "tiny", &t, &err), 0);
	if (!t)
		return;
	qemu_sizing_of(t, &z);
	CHECK_INT(z.maxcpus, QEMU_MAXCPUS_MIN);
	CHECK_INT(z.node_first[1] - z.node_first[0], 5);	/* 15 * 1/3, and one */
	CHECK_INT(z.node_first[2] - z.node_first[1], 10);
	CHECK_INT(z.node_first[2], QEMU_MAXCPUS_MIN);
	dhp_server_free(t);
}

static void device_names(void)
{
	struct dhp_unit u = { .id = "s0-iohb0", .type = DHP_UNIT_IO_HOST_BRIDGE,
			      .devices = "virtio-net,nvme" };
	enum qemu_fn_kind kinds[QEMU_FNS_MAX];
	struct dhp_error err = { 0 };
	size_t n = 0;
	unsigned slot, fn;

	CHECK_INT(qemu_fn_kinds(&u, kinds, &n, &err), -EOPNOTSUPP);
	CHECK(strstr(err.message, "nvme") != NULL);
	u.devices = "virtio-blk,virtio-net";
	CHECK_INT(qemu_fn_kinds(&u, kinds, &n, NULL), 0);
	CHECK_INT(n, 2);
	CHECK_INT(kinds[0], QEMU_FN_VIRTIO_BLK);
	u.devices = "virtio-net,virtio-net,virtio-net,virtio-net,virtio-net,virtio-net,"
		    "virtio-net,virtio-net,virtio-net";
	CHECK_INT(qemu_fn_kinds(&u, kinds, &n, NULL), -E2BIG);
	qemu_port_addr(0, &slot, &fn);
	CHECK(slot == 1 && fn == 0);
	qemu_port_addr(223, &slot, &fn);
	CHECK(slot == 28 && fn == 7);
}

static void probe_rule(void)
{
	struct qemu_version v;
	enum qemu_probe_source src;
	char reason[256];

	CHECK_INT(qemu_version_parse("QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7)\n"
				     "Copyright (c) 2003-2022", &v), 0);
	CHECK(v.major == 7 && v.minor == 2 && v.micro == 22);
	CHECK_INT(qemu_version_parse("QEMU emulator version 8.1 \n", &v), 0);
	CHECK(v.major == 8 && v.minor == 1 && v.micro == 0);
	CHECK_INT(qemu_version_parse("no version here", &v), -EINVAL);
	CHECK_INT(qemu_version_parse(NULL, &v), -EINVAL);

	/* KVM: unplug. */
	v = (struct qemu_version){ 7, 2, 22 };
	CHECK_INT(qemu_probe_rule(&v, DHP_QEMU_ACCEL_KVM, &src, reason, sizeof(reason)),
		  DHP_QEMU_CPU_REMOVE_UNPLUG);
	CHECK_INT(src, QEMU_PROBE_RULE);
	/* TCG up to 7.2: park, known (DESIGN.md §9). */
	CHECK_INT(qemu_probe_rule(&v, DHP_QEMU_ACCEL_TCG, &src, reason, sizeof(reason)),
		  DHP_QEMU_CPU_REMOVE_PARK);
	CHECK_INT(src, QEMU_PROBE_RULE);
	CHECK(strstr(reason, "corrupts its heap") != NULL);
	v = (struct qemu_version){ 6, 2, 0 };
	CHECK_INT(qemu_probe_rule(&v, DHP_QEMU_ACCEL_TCG, &src, NULL, 0),
		  DHP_QEMU_CPU_REMOVE_PARK);
	CHECK_INT(src, QEMU_PROBE_RULE);
	/* After 7.2 under TCG: not known, parked to be safe, and said so. */
	v = (struct qemu_version){ 8, 2, 1 };
	CHECK_INT(qemu_probe_rule(&v, DHP_QEMU_ACCEL_TCG, &src, reason, sizeof(reason)),
		  DHP_QEMU_CPU_REMOVE_PARK);
	CHECK_INT(src, QEMU_PROBE_UNKNOWN);
	CHECK(strstr(reason, "not known") != NULL);
}

static void probe_cache(void)
{
	char dir[] = "/tmp/dhp-probe-XXXXXX", path[64], reason[256];
	struct qemu_version v = { 7, 2, 22 };
	FILE *f;

	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	snprintf(path, sizeof(path), "%s/cpu-remove-probe.json", dir);
	/* First: the rule, written down. */
	CHECK_INT(qemu_probe_decide(path, "7.2.22", &v, DHP_QEMU_ACCEL_TCG, reason,
				    sizeof(reason)), DHP_QEMU_CPU_REMOVE_PARK);
	CHECK(access(path, R_OK) == 0);
	/* A cache for this QEMU and accelerator is believed (here: one that
	 * a live probe on another machine wrote)... */
	f = fopen(path, "w");
	if (f) {
		fputs("{\"qemu\": \"7.2.22\", \"accel\": \"tcg\", \"method\": \"unplug\", "
		      "\"reason\": \"probed live\"}\n", f);
		fclose(f);
	}
	CHECK_INT(qemu_probe_decide(path, "7.2.22", &v, DHP_QEMU_ACCEL_TCG, reason,
				    sizeof(reason)), DHP_QEMU_CPU_REMOVE_UNPLUG);
	CHECK_STR(reason, "probed live");
	/* ... one for another QEMU or accelerator is not. */
	v.micro = 23;
	CHECK_INT(qemu_probe_decide(path, "7.2.23", &v, DHP_QEMU_ACCEL_TCG, reason,
				    sizeof(reason)), DHP_QEMU_CPU_REMOVE_PARK);
	CHECK_INT(qemu_probe_decide(path, "7.2.23", &v, DHP_QEMU_ACCEL_KVM, reason,
				    sizeof(reason)), DHP_QEMU_CPU_REMOVE_UNPLUG);
	/* A broken cache is decided again. */
	f = fopen(path, "w");
	if (f) {
		fputs("{not json", f);
		fclose(f);
	}
	CHECK_INT(qemu_probe_decide(path, "7.2.23", &v, DHP_QEMU_ACCEL_TCG, reason,
				    sizeof(reason)), DHP_QEMU_CPU_REMOVE_PARK);
	unlink(path);
	rmdir(dir);
}

static void state_file(void)
{
	char dir[] = "/tmp/dhp-qs-XXXXXX", path[64];
	struct qs s;
	struct qs_partition *p;

	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	snprintf(path, sizeof(path), "%s/state", dir);
	CHECK_INT(qs_open(&s, path, 10, 42, NULL), 0);
	s.units[3].powered = 1;
	s.units[3].partition = 7;
	p = qs_partition(&s, 7, true);
	CHECK(p && p->id == 7 && p->slot_unit[0] == -1 && p->guest_cpu[5] == -1);
	if (p)
		p->slot_state[1] = QS_SLOT_PARKED;
	qs_close(&s);
	/* It survives (a crash of dhpd), and belongs to its topology. */
	CHECK_INT(qs_open(&s, path, 10, 42, NULL), 0);
	CHECK(s.units[3].powered && s.units[3].partition == 7);
	p = qs_partition(&s, 7, false);
	CHECK(p && p->slot_state[1] == QS_SLOT_PARKED);
	qs_partition_clear(&s, 7);
	CHECK(!qs_partition(&s, 7, false) && !s.units[3].partition && s.units[3].powered);
	qs_close(&s);
	CHECK_INT(qs_open(&s, path, 10, 43, NULL), -ESTALE);
	CHECK_INT(qs_open(&s, path, 11, 42, NULL), -ESTALE);
	unlink(path);
	rmdir(dir);
}

/* ---- a QEMU that cannot start ---- */

static int write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static void on_done(void *ctx, int rc, const struct dhp_error *err)
{
	(void)err;
	*(int *)ctx = rc;
}

/* Its error becomes the start's, the start is rolled back, and nothing
 * stays wired: the engine, the store and the backend, no guest needed. */
static void start_failure(void)
{
	char dir[] = "/tmp/dhp-qemu-fail-XXXXXX", fake[64], kernel[64], path[96];
	struct testbed tb = { .deadline_ms = 30000 };
	struct dhp_qemu_config qc = { .kernel = kernel, .initrd = kernel,
				      .accel = DHP_QEMU_ACCEL_TCG };
	struct dhp_core_config cfg = { 0 };
	struct dhp_error err = { 0 };
	struct dhp_op op = { 0 };
	int recovered = 1;

	if (!mkdtemp(dir)) {
		CHECK(0);
		return;
	}
	snprintf(fake, sizeof(fake), "%s/fake-qemu", dir);
	snprintf(kernel, sizeof(kernel), "%s/vmlinuz", dir);
	CHECK(write_file(fake, "#!/bin/sh\n[ \"$1\" = --version ] && "
			 "echo 'QEMU emulator version 7.2.22' && exit 0\n"
			 "echo 'qemu: could not load kernel' >&2; exit 1\n", 0700) == 0);
	CHECK(write_file(kernel, "", 0600) == 0);
	qc.qemu = fake;
	qc.state_dir = dir;
	snprintf(tb.dir, sizeof(tb.dir), "%s", dir);
	tb.loop = dhp_loop_new(false);
	snprintf(path, sizeof(path), "%s/state.db", dir);
	CHECK_INT(dhp_topology_load(DEMO, &tb.server, &err), 0);
	CHECK_INT(dhp_store_open(path, &tb.store, &err), 0);
	CHECK_MSG(dhp_qemu_new(tb.server, tb.loop, &qc, &tb.backend, &err) == 0, "%s",
		  err.message);
	if (!tb.backend)
		goto out;
	CHECK_STR(dhp_qemu_version(tb.backend), "7.2.22");
	CHECK_STR(dhp_qemu_cpu_remove_method(tb.backend), "park");
	cfg = (struct dhp_core_config){ .server = tb.server, .store = tb.store,
					.backend = tb.backend, .loop = tb.loop,
					.phase_deadline_ms = 30000 };
	CHECK_INT(dhp_core_new(&cfg, &tb.core, &err), 0);
	CHECK_INT(dhp_core_recover(tb.core, on_done, &recovered), 0);
	tb_settle(&tb);
	CHECK_INT(recovered, 0);
	tb.view.n_units = tb.server->n_units;
	tb.view.units = calloc(tb.server->n_units, sizeof(*tb.view.units));
	CHECK_INT(tb_create(&tb, "p", "linux", "s0-cpu0 s0-mem0", &err), 0);
	CHECK_INT(tb_do(&tb, DHP_VERB_START, "p", NULL, &op, &err), 0);
	CHECK_MSG(op.state == DHP_OP_ROLLED_BACK && op.error.code == -EIO &&
		  strstr(op.error.message, "could not load kernel"),
		  "start ended %s: %s", dhp_op_state_name(op.state), op.error.message);
	CHECK_MSG(tb_invariants(&tb, &err) == 0, "%s", err.message);
	CHECK(dhp_qemu_partition_pid(tb.backend, 1) < 0);
out:
	tb_close(&tb);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	CHECK(system(path) == 0);
}

int main(int argc, char **argv)
{
	verbose = argc > 1 && !strcmp(argv[1], "-v");
	RUN(cmdline);
	RUN(sizing_caps);
	RUN(slot_ranges);
	RUN(device_names);
	RUN(probe_rule);
	RUN(probe_cache);
	RUN(state_file);
	RUN(start_failure);
	return test_done();
}
