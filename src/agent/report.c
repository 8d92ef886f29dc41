/* SPDX-License-Identifier: MIT */
/* What the guest has, read from sysfs: the hello and the reply to report. */
#include "agent/agent.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "proto/guest.h"

#define CPU_DIR "devices/system/cpu"
#define MEM_DIR "devices/system/memory"
#define PCI_DIR "bus/pci/devices"

/* Present cpus are those with a cpuN directory (the kernel makes one when a
 * processor arrives), online those whose online file says 1 or that have
 * none (cpu0 cannot go offline). Derived rather than read from the
 * kernel's own online/present files so that a fake tree stays coherent. */
static int cpus_read(const struct agent *a, struct dhp_proto_state *s)
{
	bool *present = calloc(DHP_CPULIST_CPUS, sizeof(bool));
	bool *online = calloc(DHP_CPULIST_CPUS, sizeof(bool));
	uint64_t *cpus = NULL;
	size_t n = 0;
	char path[64], val[8];
	int r = present && online ? 0 : -ENOMEM;

	if (!r)
		r = sysfs_numbered(a, CPU_DIR, "cpu", &cpus, &n);
	for (size_t i = 0; !r && i < n && cpus[i] < DHP_CPULIST_CPUS; i++) {
		present[cpus[i]] = true;
		snprintf(path, sizeof(path), CPU_DIR "/cpu%llu/online",
			 (unsigned long long)cpus[i]);
		online[cpus[i]] = sysfs_read(a, path, val, sizeof(val)) < 0 || val[0] == '1';
	}
	if (!r)
		r = dhp_cpulist_format(present, DHP_CPULIST_CPUS, s->cpus_present,
				       sizeof(s->cpus_present));
	if (!r)
		r = dhp_cpulist_format(online, DHP_CPULIST_CPUS, s->cpus_online,
				       sizeof(s->cpus_online));
	/* possible has no per-cpu trace; the kernel's file or else present. */
	if (!r && sysfs_read(a, CPU_DIR "/possible", s->cpus_possible,
			     sizeof(s->cpus_possible)) < 0)
		memcpy(s->cpus_possible, s->cpus_present, sizeof(s->cpus_possible));
	free(cpus);
	free(present);
	free(online);
	return r;
}

/* One block as a run of one. Only a Movable block can be counted on to go
 * offline (the kernel's own "removable" file says 1 for every block since
 * Linux 5.9), and an offline block holds nothing. */
static void block_read(const struct agent *a, uint64_t index, struct dhp_proto_mem_run *run)
{
	char path[96], val[64];

	memset(run, 0, sizeof(*run));
	run->index = index;
	run->count = 1;
	snprintf(path, sizeof(path), MEM_DIR "/memory%llu/state", (unsigned long long)index);
	if (sysfs_read(a, path, val, sizeof(val)) < 0 ||
	    dhp_proto_mem_state_parse(val, &run->state) < 0)
		run->state = DHP_PROTO_MEM_OFFLINE;
	/* Online, valid_zones names the one zone the block is in. */
	snprintf(path, sizeof(path), MEM_DIR "/memory%llu/valid_zones",
		 (unsigned long long)index);
	if (run->state == DHP_PROTO_MEM_ONLINE && sysfs_read(a, path, val, sizeof(val)) == 0 &&
	    strlen(val) < sizeof(run->zone) && !strchr(val, ' '))
		memcpy(run->zone, val, strlen(val) + 1);
	run->removable = run->state == DHP_PROTO_MEM_OFFLINE || !strcmp(run->zone, "Movable");
}

static bool same_run(const struct dhp_proto_mem_run *run, const struct dhp_proto_mem_run *b)
{
	return b->index == run->index + run->count && b->state == run->state &&
	       b->removable == run->removable && !strcmp(b->zone, run->zone);
}

static int memory_read(const struct agent *a, const struct dhp_proto_unit *filter,
		       struct dhp_proto_state *s)
{
	uint64_t *blocks = NULL, first = 0, end = UINT64_MAX;
	struct dhp_proto_mem_run b;
	size_t n = 0;
	int r;

	s->block_size = sysfs_block_size(a);
	if (!s->block_size)
		return 0;
	if (filter && filter->kind == DHP_PROTO_UNIT_MEMORY) {
		first = filter->phys_addr / s->block_size;
		end = first + (filter->size + s->block_size - 1) / s->block_size;
	}
	if ((r = sysfs_numbered(a, MEM_DIR, "memory", &blocks, &n)) < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		if (blocks[i] < first || blocks[i] >= end)
			continue;
		block_read(a, blocks[i], &b);
		if (s->n_runs && same_run(&s->runs[s->n_runs - 1], &b))
			s->runs[s->n_runs - 1].count++;
		else if (s->n_runs < DHP_PROTO_RUNS_MAX)
			s->runs[s->n_runs++] = b;
		else
			s->truncated = true;
	}
	free(blocks);
	return 0;
}

static int cmp_pci(const void *x, const void *y)
{
	return strcmp(((const struct dhp_proto_pci *)x)->slot,
		      ((const struct dhp_proto_pci *)y)->slot);
}

static uint32_t hex_file(const struct agent *a, const char *slot, const char *name)
{
	char path[96], val[32];

	snprintf(path, sizeof(path), PCI_DIR "/%s/%s", slot, name);
	return sysfs_read(a, path, val, sizeof(val)) < 0 ? 0 : (uint32_t)strtoul(val, NULL, 16);
}

static int pci_read(const struct agent *a, struct dhp_proto_state *s)
{
	struct dirent *de;
	DIR *dir;
	int fd;

	fd = openat(a->sysfs_fd, PCI_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* no PCI bus: nothing to tell */
	dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return -ENOMEM;
	}
	while ((de = readdir(dir))) {
		struct dhp_proto_pci *p = &s->pci[s->n_pci];

		if (!dhp_proto_slot_valid(de->d_name))
			continue;
		if (s->n_pci == DHP_PROTO_PCI_MAX) {
			s->truncated = true;
			break;
		}
		memcpy(p->slot, de->d_name, strlen(de->d_name) + 1);
		p->vendor = (uint16_t)hex_file(a, p->slot, "vendor");
		p->device = (uint16_t)hex_file(a, p->slot, "device");
		p->class = hex_file(a, p->slot, "class");
		s->n_pci++;
	}
	closedir(dir);
	qsort(s->pci, s->n_pci, sizeof(s->pci[0]), cmp_pci);
	return 0;
}

int agent_state(const struct agent *a, const struct dhp_proto_unit *filter,
		struct dhp_proto_state *state)
{
	int r;

	memset(state, 0, sizeof(*state));
	if ((r = cpus_read(a, state)) < 0)
		return r;
	if ((r = memory_read(a, filter, state)) < 0)
		return r;
	return pci_read(a, state);
}

/* What this kernel lets the agent do, judged by the files that do it. */
static unsigned caps_read(const struct agent *a)
{
	unsigned caps = 0;

	if (sysfs_exists(a, CPU_DIR "/hotplug") || sysfs_exists(a, CPU_DIR "/cpu1/online"))
		caps |= DHP_PROTO_CAP_ONLINE_CPU | DHP_PROTO_CAP_OFFLINE_CPU;
	if (sysfs_block_size(a))
		caps |= DHP_PROTO_CAP_ONLINE_MEMORY | DHP_PROTO_CAP_OFFLINE_MEMORY;
	if (sysfs_exists(a, "bus/pci/rescan"))
		caps |= DHP_PROTO_CAP_PCI_RESCAN | DHP_PROTO_CAP_PCI_REMOVE;
	if (a->uevent_fd >= 0)
		caps |= DHP_PROTO_CAP_UEVENTS;
	/* Applications can veto only while the agent listens for them. */
	if (a->apps.listen_fd >= 0)
		caps |= DHP_PROTO_CAP_VETO;
	return caps;
}

void agent_hello_brief(const struct agent *a, struct dhp_proto_hello *hello)
{
	struct utsname u;

	memset(hello, 0, sizeof(*hello));
	hello->version = DHP_PROTO_VERSION;
	snprintf(hello->agent, sizeof(hello->agent), "%s", AGENT_NAME);
	if (uname(&u) == 0)
		snprintf(hello->kernel, sizeof(hello->kernel), "%s", u.release);
	snprintf(hello->profile, sizeof(hello->profile), "linux");
	hello->caps = caps_read(a);
}

int agent_hello(const struct agent *a, struct dhp_proto_hello *hello)
{
	agent_hello_brief(a, hello);
	hello->has_state = true;
	return agent_state(a, NULL, &hello->state);
}
