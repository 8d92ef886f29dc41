/* SPDX-License-Identifier: MIT */
/*
 * The command line of a partition's QEMU (cmdline.h). DESIGN.md §9 gave
 * one that works here; this adds the ceilings every unit of the server
 * needs to join later (vCPU slots, DIMM slots and maxmem, one root port
 * per I/O host bridge), the units the partition boots with, and QEMU in
 * its own session (-daemonize: it outlives dhpd, and its first process
 * exits once the sockets listen).
 */
#include "backend/qemu/cmdline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/server.h"

static const char *const fn_drivers[QEMU_FN_KIND_MAX] = {
	[QEMU_FN_VIRTIO_NET] = "virtio-net-pci",
	[QEMU_FN_VIRTIO_BLK] = "virtio-blk-pci",
};

/* The names a topology's devices= list may use (docs/topology.md). */
static const char *const fn_names[QEMU_FN_KIND_MAX] = {
	[QEMU_FN_VIRTIO_NET] = "virtio-net",
	[QEMU_FN_VIRTIO_BLK] = "virtio-blk",
};

const char *qemu_fn_driver(enum qemu_fn_kind kind)
{
	return (unsigned)kind < QEMU_FN_KIND_MAX ? fn_drivers[kind] : "?";
}

int qemu_fn_kinds(const struct dhp_unit *u, enum qemu_fn_kind *kinds, size_t *ret_n,
		  struct dhp_error *err)
{
	const char *p = u->devices ? u->devices : "";
	size_t n = 0;

	while (*p) {
		size_t len = strcspn(p, ",");
		int k;

		for (k = 0; k < QEMU_FN_KIND_MAX; k++)
			if (strlen(fn_names[k]) == len && !strncmp(p, fn_names[k], len))
				break;
		if (k == QEMU_FN_KIND_MAX)
			return dhp_error_set(err, -EOPNOTSUPP, "%s: the QEMU backend cannot make "
					     "a \"%.*s\" device (virtio-net and virtio-blk only)",
					     u->id, (int)len, p);
		if (n == QEMU_FNS_MAX)
			return dhp_error_set(err, -E2BIG, "%s: more than %d devices behind one "
					     "root port", u->id, QEMU_FNS_MAX);
		kinds[n++] = (enum qemu_fn_kind)k;
		p += len + (p[len] == ',');
	}
	*ret_n = n;
	return 0;
}

void qemu_port_addr(unsigned port, unsigned *ret_slot, unsigned *ret_fn)
{
	*ret_slot = 1 + port / 8;
	*ret_fn = port % 8;
}

/*
 * A hot-added processor must arrive in its socket's node, and QEMU binds
 * slots to nodes only on the command line, so each socket owns a range of
 * slots, in proportion to its processors (the cap may leave less than
 * twice each), the rest given out one each in socket order.
 */
static void split_slots(const size_t *per_socket, size_t cpus, struct qemu_sizing *ret)
{
	unsigned n = ret->maxcpus - 1, given = 0, share[QEMU_NODES_MAX] = { 0 };

	for (unsigned s = 0; s < ret->n_nodes; s++)
		given += share[s] = (unsigned)((uint64_t)n * per_socket[s] / cpus);
	for (unsigned s = 0; given < n; s = (s + 1) % ret->n_nodes)
		if (per_socket[s]) {
			share[s]++;
			given++;
		}
	ret->node_first[0] = 1;
	for (unsigned s = 0; s < ret->n_nodes; s++)
		ret->node_first[s + 1] = (uint16_t)(ret->node_first[s] + share[s]);
}

int qemu_slot_pick(const struct qemu_sizing *z, unsigned socket, const uint8_t *slot_state)
{
	unsigned first = 1, end = z->maxcpus;

	if (z->n_nodes && socket >= z->n_nodes)
		return -1;
	if (z->n_nodes) {
		first = z->node_first[socket];
		end = z->node_first[socket + 1];
	}
	for (unsigned k = first; k < end; k++)
		if (!slot_state[k])
			return (int)k;
	return -1;
}

void qemu_sizing_of(const struct dhp_server *server, struct qemu_sizing *ret)
{
	size_t cpus = 0, mems = 0, bridges = 0, per_socket[QEMU_NODES_MAX] = { 0 };
	uint64_t total = 0;

	for (size_t i = 0; i < server->n_units; i++) {
		const struct dhp_unit *u = &server->units[i];

		cpus += u->type == DHP_UNIT_PROCESSOR;
		mems += u->type == DHP_UNIT_MEMORY;
		bridges += u->type == DHP_UNIT_IO_HOST_BRIDGE;
		if (u->type == DHP_UNIT_MEMORY)
			total += u->size_bytes;
		if (u->type == DHP_UNIT_PROCESSOR && u->socket < QEMU_NODES_MAX)
			per_socket[u->socket]++;
	}
	memset(ret, 0, sizeof(*ret));
	/* Twice the processors: each can join, and as many can be parked;
	 * and vCPU 0, which is in no socket's range. */
	ret->maxcpus = cpus * 2 + 1 > QEMU_MAXCPUS_CAP ? QEMU_MAXCPUS_CAP : (unsigned)cpus * 2 + 1;
	if (ret->maxcpus < QEMU_MAXCPUS_MIN)
		ret->maxcpus = QEMU_MAXCPUS_MIN;
	ret->n_nodes = server->n_sockets <= QEMU_NODES_MAX ? server->n_sockets : 0;
	if (ret->n_nodes && cpus)
		split_slots(per_socket, cpus, ret);
	else
		ret->n_nodes = 0;
	/* The boot module is -m, the others DIMMs. */
	ret->mem_slots = mems > QEMU_MEM_SLOTS_CAP ? QEMU_MEM_SLOTS_CAP
						   : (unsigned)(mems ? mems - 1 : 0);
	ret->maxmem = ret->mem_slots ? (total > QEMU_MAXMEM_CAP ? QEMU_MAXMEM_CAP : total) : 0;
	ret->n_ports = bridges > QEMU_PORTS_CAP ? QEMU_PORTS_CAP : (unsigned)bridges;
}

__attribute__((format(printf, 2, 3)))
static int push(struct qemu_argv *a, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		char **v = realloc(a->argv, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->argv = v;
		a->cap = cap;
	}
	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	a->argv[a->n++] = s;
	a->argv[a->n] = NULL;
	return 0;
}

/* A path inside a QEMU option value: commas are doubled. */
static char *opt_path(const char *dir, const char *name)
{
	size_t len = strlen(dir) + strlen(name) + 2, commas = 0;
	char *out, *o;

	for (const char *p = dir; *p; p++)
		commas += *p == ',';
	out = malloc(len + commas);
	if (!out)
		return NULL;
	o = out;
	for (const char *p = dir; *p; p++) {
		*o++ = *p;
		if (*p == ',')
			*o++ = ',';
	}
	snprintf(o, len + commas - (size_t)(o - out), "/%s", name);
	return out;
}

static int push_chardevs(struct qemu_argv *a, const char *dir)
{
	char *qmp = opt_path(dir, "qmp.sock"), *console = opt_path(dir, "console.log");
	char *agent = opt_path(dir, "agent.sock");
	int r = qmp && console && agent ? 0 : -ENOMEM;

	/* The agent's line is the guest's second serial port (ttyS1). */
	if (!r)
		r = push(a, "-qmp") ?: push(a, "unix:%s,server=on,wait=off", qmp) ?:
		    push(a, "-serial") ?: push(a, "file:%s", console) ?:
		    push(a, "-chardev") ?: push(a, "socket,id=agent,path=%s,server=on,wait=off", agent) ?:
		    push(a, "-serial") ?: push(a, "chardev:agent");
	free(qmp);
	free(console);
	free(agent);
	return r;
}

static int push_bridge(struct qemu_argv *a, const struct dhp_unit *u, unsigned port,
		       struct dhp_error *err)
{
	enum qemu_fn_kind kinds[QEMU_FNS_MAX];
	size_t n = 0;
	int r = qemu_fn_kinds(u, kinds, &n, err);

	for (size_t f = 0; !r && f < n; f++) {
		if (kinds[f] == QEMU_FN_VIRTIO_BLK)
			r = push(a, "-blockdev") ?:
			    push(a, "driver=null-co,node-name=%s-n%zu,size=%llu,read-zeroes=on", u->id,
				 f, (unsigned long long)QEMU_NULL_BLK_SIZE);
		if (!r && kinds[f] == QEMU_FN_VIRTIO_BLK)
			r = push(a, "-device") ?:
			    push(a, "%s,id=%s-d%zu,bus=rp%u,addr=0.%zu%s,drive=%s-n%zu",
				 fn_drivers[kinds[f]], u->id, f, port, f,
				 f == 0 && n > 1 ? ",multifunction=on" : "", u->id, f);
		else if (!r)
			r = push(a, "-device") ?:
			    push(a, "%s,id=%s-d%zu,bus=rp%u,addr=0.%zu%s", fn_drivers[kinds[f]],
				 u->id, f, port, f, f == 0 && n > 1 ? ",multifunction=on" : "");
	}
	return r;
}

/* The node of a vCPU slot: slot 0 is the booting processor's socket. */
static unsigned slot_node(const struct qemu_sizing *z, unsigned slot, unsigned boot_socket)
{
	unsigned s = 0;

	if (!slot)
		return boot_socket;
	while (s + 1 < z->n_nodes && slot >= z->node_first[s + 1])
		s++;
	return s;
}

/*
 * The server's sockets as the guest's NUMA nodes (docs/qemu.md): one node
 * per socket, node N being socket N in every partition, as any unit may
 * join any partition; every vCPU slot bound to its socket's node, so a
 * hot-added processor arrives in it; the boot memory in its module's
 * node (a node's memory must come from a memdev: QEMU adds the nodes' up
 * to -m); the distances of the topology. DIMMs name their node as they
 * are plugged.
 */
static int push_numa(struct qemu_argv *a, const struct qemu_launch *l,
		     const struct dhp_unit *cpu, const struct dhp_unit *mem)
{
	const struct qemu_sizing *z = l->sizing;
	int r = push(a, "-object") ?:
		push(a, "memory-backend-ram,id=boot-ram,size=%llu",
		     (unsigned long long)mem->size_bytes);

	for (unsigned n = 0; !r && n < z->n_nodes; n++)
		r = push(a, "-numa") ?:
		    push(a, "node,nodeid=%u%s", n, n == mem->socket ? ",memdev=boot-ram" : "");
	for (unsigned k = 0; !r && k < z->maxcpus; k++)
		r = push(a, "-numa") ?:
		    push(a, "cpu,node-id=%u,socket-id=0,core-id=%u,thread-id=0",
			 slot_node(z, k, cpu->socket), k);
	for (unsigned i = 0; !r && i < z->n_nodes; i++)
		for (unsigned j = i + 1; !r && j < z->n_nodes; j++)
			r = push(a, "-numa") ?:
			    push(a, "dist,src=%u,dst=%u,val=%u", i, j,
				 dhp_server_distance(l->server, i, j));
	return r;
}

static bool numa_on(const struct qemu_launch *l)
{
	return l->server && l->sizing->n_nodes;
}

static int push_units(struct qemu_argv *a, const struct qemu_launch *l, const char *cpu_type,
		      struct dhp_error *err)
{
	bool boot_mem = false;
	int r = 0;

	for (size_t i = 0; !r && i < l->n_units; i++) {
		const struct dhp_unit *u = l->units[i];

		switch (u->type) {
		case DHP_UNIT_PROCESSOR:
			if (l->slots[i] > 0)	/* slot 0 is -smp's own vCPU */
				r = push(a, "-device") ?:
				    push(a, "%s,id=%s.%d,socket-id=0,core-id=%d,thread-id=0", cpu_type,
					 u->id, l->slots[i], l->slots[i]);
			break;
		case DHP_UNIT_MEMORY:
			if (!boot_mem) {
				boot_mem = true;
				break;
			}
			r = push(a, "-object") ?:
			    push(a, "memory-backend-ram,id=mem-%s,size=%llu", u->id,
				 (unsigned long long)u->size_bytes) ?:
			    push(a, "-device") ?:
			    (numa_on(l) ? push(a, "pc-dimm,id=%s,memdev=mem-%s,node=%u", u->id, u->id,
					       (unsigned)u->socket)
					: push(a, "pc-dimm,id=%s,memdev=mem-%s", u->id, u->id));
			break;
		default:
			r = push_bridge(a, u, (unsigned)l->ports[i], err);
			break;
		}
	}
	return r;
}

static int push_machine(struct qemu_argv *a, const struct qemu_launch *l, uint64_t boot_bytes)
{
	const struct qemu_sizing *z = l->sizing;
	uint64_t maxmem = z->maxmem > boot_bytes ? z->maxmem : boot_bytes;
	bool kvm = l->accel == DHP_QEMU_ACCEL_KVM;
	int r;

	r = push(a, "%s", l->binary) ?: push(a, "-name") ?:
	    push(a, "guest=dhp-%s,debug-threads=on", l->name) ?:
	    push(a, "-M") ?: push(a, "q35") ?: push(a, "-accel") ?: push(a, kvm ? "kvm" : "tcg") ?:
	    push(a, "-cpu") ?: push(a, kvm ? "host" : "max") ?:
	    push(a, "-smp") ?:
	    push(a, "1,sockets=1,cores=%u,threads=1,maxcpus=%u", z->maxcpus, z->maxcpus) ?:
	    push(a, "-m");
	if (!r && z->mem_slots)
		r = push(a, "%lluM,slots=%u,maxmem=%lluM", (unsigned long long)(boot_bytes >> 20),
			 z->mem_slots, (unsigned long long)(maxmem >> 20));
	else if (!r)
		r = push(a, "%lluM", (unsigned long long)(boot_bytes >> 20));
	/* QEMU puts it in SMBIOS (type 1): the guest reads the partition's
	 * UUID as its system UUID (/sys/class/dmi/id/product_uuid). */
	if (!r && l->uuid && *l->uuid)
		r = push(a, "-uuid") ?: push(a, "%s", l->uuid);
	if (!r)
		r = push(a, "-nodefaults") ?: push(a, "-no-user-config") ?: push(a, "-display") ?:
		    push(a, "none") ?: push(a, "-no-reboot") ?:
		    push(a, "-kernel") ?: push(a, "%s", l->kernel) ?:
		    push(a, "-initrd") ?: push(a, "%s", l->initrd) ?:
		    /* Hot-added memory stays offline until the agent onlines it
		     * movable (docs/agent-protocol.md). */
		    push(a, "-append") ?:
		    push(a, "console=ttyS0 panic=-1 quiet memhp_default_state=offline%s%s",
			 l->append && *l->append ? " " : "", l->append ? l->append : "");
	for (unsigned n = 0; !r && n < z->n_ports; n++) {
		unsigned slot, fn;

		qemu_port_addr(n, &slot, &fn);
		r = push(a, "-device") ?:
		    push(a, "pcie-root-port,id=rp%u,bus=pcie.0,addr=%u.%u%s,chassis=%u,slot=%u,"
			 "io-reserve=0", n, slot, fn, fn ? "" : ",multifunction=on", n + 1, n + 1);
	}
	return r;
}

int qemu_cmdline(const struct qemu_launch *l, struct qemu_argv *ret_argv,
		 struct dhp_error *err)
{
	struct qemu_argv a = { 0 };
	const struct dhp_unit *cpu = NULL, *mem = NULL;
	int r;

	for (size_t i = 0; i < l->n_units; i++) {
		if (l->units[i]->type == DHP_UNIT_PROCESSOR && !cpu)
			cpu = l->units[i];
		if (l->units[i]->type == DHP_UNIT_MEMORY && !mem)
			mem = l->units[i];
	}
	if (!cpu || !mem)
		return dhp_error_set(err, -EINVAL, "a partition boots with at least a processor "
				     "and a memory module");
	if (numa_on(l) && (cpu->socket >= l->sizing->n_nodes || mem->socket >= l->sizing->n_nodes))
		return dhp_error_set(err, -EINVAL, "socket of %s or %s is not a node of the server",
				     cpu->id, mem->id);
	r = push_machine(&a, l, mem->size_bytes) ?: push_chardevs(&a, l->dir);
	if (!r && numa_on(l))
		r = push_numa(&a, l, cpu, mem);
	if (!r)
		r = push(&a, "-daemonize") ?: push(&a, "-pidfile") ?: push(&a, "%s/qemu.pid", l->dir) ?:
		    push(&a, "-D") ?: push(&a, "%s/qemu.log", l->dir);
	if (!r)
		r = push_units(&a, l, l->accel == DHP_QEMU_ACCEL_KVM ? "host-x86_64-cpu"
								    : "max-x86_64-cpu", err);
	if (r < 0) {
		qemu_argv_release(&a);
		return err && err->code ? err->code : dhp_error_set(err, r, "out of memory");
	}
	*ret_argv = a;
	return 0;
}

void qemu_argv_release(struct qemu_argv *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->argv[i]);
	free(a->argv);
	memset(a, 0, sizeof(*a));
}

char *qemu_argv_join(const struct qemu_argv *a)
{
	size_t len = 1, off = 0;
	char *s;

	for (size_t i = 0; i < a->n; i++)
		len += strlen(a->argv[i]) + 1;
	s = malloc(len);
	if (!s)
		return NULL;
	s[0] = '\0';
	for (size_t i = 0; i < a->n; i++)
		off += (size_t)snprintf(s + off, len - off, "%s%s", i ? " " : "", a->argv[i]);
	return s;
}
