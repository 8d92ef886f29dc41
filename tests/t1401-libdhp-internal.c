/* SPDX-License-Identifier: MIT */
/*
 * libdhp's insides, linked from its objects (build/pic/): what the public
 * API cannot reach from a test. The uevent fallback's reading of kernel
 * datagrams (as the kernel sends them: copies of real ones) into changes,
 * for processors, memory blocks and PCI functions, and what it ignores;
 * the cpulist reader; the bound on start records.
 */
#include "harness.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "libdhp/internal.h"

#define BS 0x8000000ull

static char workdir[80], tree[200];

static void put(const char *rel, const char *content)
{
	char path[512], cmd[600];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tree, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	if (system(cmd) != 0)
		abort();
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs(content, f);
	fclose(f);
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* "ACTION@DEVPATH", then KEY=VALUE strings, each NUL-terminated. */
static size_t datagram(char *buf, size_t size, const char *action, const char *devpath,
		       const char *subsystem, const char *extra)
{
	size_t n = (size_t)snprintf(buf, size, "%s@%s", action, devpath) + 1;

	n += (size_t)snprintf(buf + n, size - n, "ACTION=%s", action) + 1;
	n += (size_t)snprintf(buf + n, size - n, "DEVPATH=%s", devpath) + 1;
	n += (size_t)snprintf(buf + n, size - n, "SUBSYSTEM=%s", subsystem) + 1;
	if (extra)
		n += (size_t)snprintf(buf + n, size - n, "%s", extra) + 1;
	n += (size_t)snprintf(buf + n, size - n, "SEQNUM=4242") + 1;
	return n;
}

static void test_uevents(void)
{
	/* A real one, as `echo online > /sys/devices/system/cpu/cpu0/uevent`
	 * made the kernel send it (MODALIAS cut short). */
	static const char real[] = "online@/devices/system/cpu/cpu0\0ACTION=online\0"
				   "DEVPATH=/devices/system/cpu/cpu0\0SUBSYSTEM=cpu\0SYNTH_UUID=0\0"
				   "MODALIAS=cpu:type:x86,ven0002fam0019mod0001:feature:,0000\n\0"
				   "SEQNUM=831";
	struct dhp_change c;
	struct dhp *dhp = NULL;
	char buf[1024];
	size_t n;

	CHECK_INT(dhp_open(&dhp, "t1401", DHP_OPEN_NO_AGENT), 0);
	if (!dhp)
		return;
	CHECK_INT(dhp->block_size, BS);
	/* The last field lacks its NUL: the parser ignores it. */
	CHECK_INT(libdhp_uevent_change(dhp, real, sizeof(real) - 1, &c), 0);
	CHECK_INT(c.kind, DHP_KIND_PROCESSOR);
	CHECK_INT(c.phase, DHP_PHASE_ADD_COMPLETE);
	CHECK_INT(c.flags, DHP_CHANGE_UEVENT);
	CHECK_INT(c.processor.cpu, 0);
	CHECK_INT(c.processor.node, 1);

	n = datagram(buf, sizeof(buf), "offline", "/devices/system/cpu/cpu12", "cpu", NULL);
	CHECK_INT(libdhp_uevent_change(dhp, buf, n, &c), 0);
	CHECK_INT(c.phase, DHP_PHASE_REMOVE_COMPLETE);
	CHECK_INT(c.processor.cpu, 12);
	CHECK_INT(c.processor.node, -1);
	/* add/remove of a processor: not usable yet / already offline. */
	n = datagram(buf, sizeof(buf), "add", "/devices/system/cpu/cpu12", "cpu", NULL);
	CHECK_INT(libdhp_uevent_change(dhp, buf, n, &c), -ENOENT);
	n = datagram(buf, sizeof(buf), "remove", "/devices/system/cpu/cpu12", "cpu", NULL);
	CHECK_INT(libdhp_uevent_change(dhp, buf, n, &c), -ENOENT);
	/* Not the processor itself. */
	n = datagram(buf, sizeof(buf), "online", "/devices/system/cpu/cpu1/cache/index0", "cpu",
		     NULL);
	CHECK_INT(libdhp_uevent_change(dhp, buf, n, &c), -ENOENT);

	/* A memory block: its range, its node. */
	n = datagram(buf, sizeof(buf), "online", "/devices/system/memory/memory33", "memory",
		     NULL);
	CHECK_INT(libdhp_uevent_change(dhp, buf, n, &c), 0);
	CHECK_INT(c.kind, DHP_KIND_MEMORY);
	CHECK_INT(c.phase, DHP_PHASE_ADD_COMPLETE);
	CHECK_INT(c.memory.phys_addr, 33 * BS);
	CHECK_INT(c.memory.size, BS);
	CHECK_INT(c.memory.node, 1);
	n = datagram(buf, sizeof(buf), "offline", "/devices/system/memory/memory2", "memory", NULL);
	CHECK_INT(libdhp_uevent_change(dhp, buf, n, &c), 0);
	CHECK_INT(c.phase, DHP_PHASE_REMOVE_COMPLETE);
	CHECK_INT(c.memory.phys_addr, 2 * BS);
	CHECK_INT(c.memory.node, -1);
	n = datagram(buf, sizeof(buf), "add", "/devices/system/memory/memory2", "memory", NULL);
	CHECK_INT(libdhp_uevent_change(dhp, buf, n, &c), -ENOENT);

	/* A PCI function: add and remove; the function itself (its ids from
	 * sysfs while it is there), or the functions behind a bridge. */
	n = datagram(buf, sizeof(buf), "add", "/devices/pci0000:00/0000:00:1c.0/0000:01:00.0",
		     "pci", "PCI_SLOT_NAME=0000:01:00.0");
	CHECK_INT(libdhp_uevent_change(dhp, buf, n, &c), 0);
	CHECK_INT(c.kind, DHP_KIND_IO);
	CHECK_INT(c.phase, DHP_PHASE_ADD_COMPLETE);
	CHECK_STR(c.io.slot, "0000:01:00.0");
	CHECK_INT(c.io.segment, 0);
	CHECK_INT(c.io.bus, 1);
	CHECK_INT(c.io.node, 0);
	CHECK_INT(c.io.n_functions, 1);
	CHECK_STR(c.io.functions[0].slot, "0000:01:00.0");
	CHECK_INT(c.io.functions[0].vendor_id, 0x8086);
	CHECK_INT(c.io.functions[0].device_id, 0x10d3);
	CHECK_INT(c.io.functions[0].class_code, 0x020000);
	n = datagram(buf, sizeof(buf), "remove", "/devices/pci0000:00/0000:00:1d.0/0000:02:00.3",
		     "pci", NULL);
	CHECK_INT(libdhp_uevent_change(dhp, buf, n, &c), 0);
	CHECK_INT(c.phase, DHP_PHASE_REMOVE_COMPLETE);
	CHECK_INT(c.io.n_functions, 1);
	CHECK_INT(c.io.functions[0].vendor_id, 0);	/* gone from sysfs */
	CHECK_INT(c.io.node, -1);
	n = datagram(buf, sizeof(buf), "add", "/devices/pci0000:00/0000:00:1c.0", "pci", NULL);
	CHECK_INT(libdhp_uevent_change(dhp, buf, n, &c), 0);
	CHECK_INT(c.io.n_functions, 2);
	CHECK_STR(c.io.functions[1].slot, "0000:01:00.1");
	/* PCI has no online/offline; "change", "bind" and others are not
	 * changes of units; other subsystems are not ours. */
	n = datagram(buf, sizeof(buf), "online", "/devices/pci0000:00/0000:00:1c.0", "pci", NULL);
	CHECK_INT(libdhp_uevent_change(dhp, buf, n, &c), -ENOENT);
	n = datagram(buf, sizeof(buf), "bind", "/devices/pci0000:00/0000:00:1c.0", "pci", NULL);
	CHECK_INT(libdhp_uevent_change(dhp, buf, n, &c), -ENOENT);
	n = datagram(buf, sizeof(buf), "change", "/devices/system/cpu/cpu1", "cpu", NULL);
	CHECK_INT(libdhp_uevent_change(dhp, buf, n, &c), -ENOENT);
	n = datagram(buf, sizeof(buf), "add", "/devices/virtual/net/lo", "net", NULL);
	CHECK_INT(libdhp_uevent_change(dhp, buf, n, &c), -ENOENT);
	/* Malformed: ignored as well. */
	CHECK_INT(libdhp_uevent_change(dhp, "", 0, &c), -ENOENT);
	CHECK_INT(libdhp_uevent_change(dhp, "online", 6, &c), -ENOENT);
	CHECK_INT(libdhp_uevent_change(dhp, "online@/x\0ACTION=online\0", 24, &c), -ENOENT);
	/* udev's own messages ("libudev" header) are on another group; if
	 * one came, it is not a kernel uevent. */
	CHECK_INT(libdhp_uevent_change(dhp, "libudev\0\xfe\xed\xca\xfe", 12, &c), -ENOENT);
	dhp_close(dhp);

	/* Without memory hotplug, memory uevents mean nothing. */
	setenv("DHP_SYSFS_ROOT", "/nonexistent", 1);
	CHECK_INT(dhp_open(&dhp, "t1401", DHP_OPEN_NO_AGENT), 0);
	n = datagram(buf, sizeof(buf), "online", "/devices/system/memory/memory33", "memory",
		     NULL);
	CHECK_INT(libdhp_uevent_change(dhp, buf, n, &c), -ENOENT);
	CHECK_INT(dhp_memory_size(dhp, &(uint64_t){ 0 }) == 0, 1);	/* sysconf */
	CHECK_INT(dhp_cpus_possible(dhp, &(uint32_t){ 0 }), -ENOENT);
	dhp_close(dhp);
	setenv("DHP_SYSFS_ROOT", tree, 1);
}

static int collect(void *ctx, uint32_t first, uint32_t last)
{
	char *out = ctx;
	size_t len = strlen(out);

	snprintf(out + len, 256 - len, "[%u,%u]", first, last);
	return 0;
}

static void test_cpulist(void)
{
	char out[256];

	out[0] = '\0';
	CHECK_INT(libdhp_cpulist_ranges("0-3,8,10-11\n", collect, out), 0);
	CHECK_STR(out, "[0,3][8,8][10,11]");
	out[0] = '\0';
	CHECK_INT(libdhp_cpulist_ranges("", collect, out), 0);
	CHECK_STR(out, "");
	out[0] = '\0';
	CHECK_INT(libdhp_cpulist_ranges("100000-100001", collect, out), 0);
	CHECK_STR(out, "[100000,100001]");
	CHECK_INT(libdhp_cpulist_ranges("1,", collect, out), 0);	/* the kernel's never, harmless */
	CHECK_INT(libdhp_cpulist_ranges("-1", collect, out), -EIO);
	CHECK_INT(libdhp_cpulist_ranges("1-", collect, out), -EIO);
	CHECK_INT(libdhp_cpulist_ranges("4-2", collect, out), -EIO);
	CHECK_INT(libdhp_cpulist_ranges("1;2", collect, out), -EIO);
	CHECK_INT(libdhp_cpulist_ranges("99999999999", collect, out), -EIO);
}

/* An agent that never ends its records cannot make them grow. */
static void test_records_bounded(void)
{
	struct dhp *dhp = NULL;
	uint64_t serials[2] = { 1, 2 };

	CHECK_INT(dhp_open(&dhp, "t1401", DHP_OPEN_NO_AGENT), 0);
	if (!dhp)
		return;
	for (uint32_t cpu = 0; cpu < 3 * LIBDHP_RECORDS_MAX; cpu++) {
		struct dhp_proto_unit u = { .kind = DHP_PROTO_UNIT_PROCESSOR, .cpu = cpu };

		CHECK_INT(dhp_proto_records_set(&dhp->records, DHP_PROTO_NOTE_ADD_START, &u,
						serials, 2), 0);
	}
	CHECK_INT(dhp->records.n, LIBDHP_RECORDS_MAX);
	{
		struct dhp_proto_unit oldest = { .kind = DHP_PROTO_UNIT_PROCESSOR, .cpu = 0 };
		struct dhp_proto_unit newest = { .kind = DHP_PROTO_UNIT_PROCESSOR,
						 .cpu = 3 * LIBDHP_RECORDS_MAX - 1 };
		const struct dhp_proto_record *rec;

		CHECK(!dhp_proto_records_find(&dhp->records, DHP_PROTO_NOTE_ADD_START, &oldest));
		rec = dhp_proto_records_find(&dhp->records, DHP_PROTO_NOTE_ADD_START, &newest);
		CHECK(rec && dhp_proto_serials_has(rec->serials, rec->n, 2) &&
		      !dhp_proto_serials_has(rec->serials, rec->n, 3));
		/* A new start for a unit replaces its record. */
		CHECK_INT(dhp_proto_records_set(&dhp->records, DHP_PROTO_NOTE_REMOVE_QUERY, &newest,
						NULL, 0), 0);
		CHECK(!dhp_proto_records_find(&dhp->records, DHP_PROTO_NOTE_ADD_START, &newest));
		CHECK_INT(dhp->records.n, LIBDHP_RECORDS_MAX);
	}
	dhp_close(dhp);
}

int main(void)
{
	const char *base = getenv("DHP_TEST_TMP");

	if (!base || !*base || strlen(base) > sizeof(workdir) - 16)
		base = "/tmp";
	snprintf(workdir, sizeof(workdir), "%s/t1401-XXXXXX", base);
	if (!mkdtemp(workdir)) {
		perror(workdir);
		return 1;
	}
	snprintf(tree, sizeof(tree), "%s/sys", workdir);
	put("devices/system/memory/block_size_bytes", "8000000\n");
	put("devices/system/memory/memory33/node1/x", "");
	put("devices/system/cpu/cpu0/node1/x", "");
	put("bus/pci/devices/0000:01:00.0/vendor", "0x8086\n");
	put("bus/pci/devices/0000:01:00.0/device", "0x10d3\n");
	put("bus/pci/devices/0000:01:00.0/class", "0x020000\n");
	put("bus/pci/devices/0000:01:00.0/numa_node", "0\n");
	put("bus/pci/devices/0000:00:1c.0/0000:01:00.0/x", "");
	put("bus/pci/devices/0000:00:1c.0/0000:01:00.1/x", "");
	setenv("DHP_SYSFS_ROOT", tree, 1);
	setenv("DHP_AGENT_SOCKET", "/nonexistent/agent.sock", 1);

	RUN(test_uevents);
	RUN(test_cpulist);
	RUN(test_records_bounded);

	nftw(workdir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return test_done();
}
