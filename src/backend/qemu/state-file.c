/* SPDX-License-Identifier: MIT */
/* The QEMU backend's persistent state file (state-file.h). */
#include "backend/qemu/state-file.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define QS_MAGIC "DHPQEMU1"
#define QS_VERSION 1u

struct qs_header {
	char magic[8];
	uint32_t version;
	uint32_t n_units;
	uint32_t n_partitions;
	uint32_t pad;
	uint64_t digest;
};

static size_t qs_size(size_t n_units)
{
	return sizeof(struct qs_header) + n_units * sizeof(struct qs_unit) +
	       QS_PARTITIONS_MAX * sizeof(struct qs_partition);
}

static void qs_fresh(struct qs *s, uint64_t digest)
{
	struct qs_header *h = s->map;

	memset(s->map, 0, s->map_len);
	memcpy(h->magic, QS_MAGIC, sizeof(h->magic));
	h->version = QS_VERSION;
	h->n_units = (uint32_t)s->n_units;
	h->n_partitions = QS_PARTITIONS_MAX;
	h->digest = digest;
	for (size_t i = 0; i < s->n_units; i++) {
		qs_unit_unwire(&s->units[i]);
		s->units[i].guest_cpu = -1;
	}
}

int qs_open(struct qs *s, const char *path, size_t n_units, uint64_t digest,
	    struct dhp_error *err)
{
	size_t len = qs_size(n_units);
	const struct qs_header *h;
	struct stat st;
	int fd, e;

	memset(s, 0, sizeof(*s));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return dhp_error_set(err, -errno, "cannot open the QEMU backend's state \"%s\": %s",
				     path, strerror(errno));
	if (fstat(fd, &st) < 0 || (st.st_size == 0 && ftruncate(fd, (off_t)len) < 0))
		goto fail_errno;
	if (st.st_size != 0 && (size_t)st.st_size != len) {
		close(fd);
		return dhp_error_set(err, -ESTALE, "the QEMU backend's state \"%s\" was made for "
				     "another topology", path);
	}
	s->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		goto fail_errno;
	}
	close(fd);
	s->map_len = len;
	s->n_units = n_units;
	s->units = (struct qs_unit *)((char *)s->map + sizeof(struct qs_header));
	s->n_partitions = QS_PARTITIONS_MAX;
	s->partitions = (struct qs_partition *)(s->units + n_units);
	h = s->map;
	if (st.st_size == 0) {
		qs_fresh(s, digest);
		return 0;
	}
	if (memcmp(h->magic, QS_MAGIC, sizeof(h->magic)) || h->version != QS_VERSION ||
	    h->digest != digest || h->n_units != n_units) {
		qs_close(s);
		return dhp_error_set(err, -ESTALE, "the QEMU backend's state \"%s\" was made for "
				     "another topology", path);
	}
	return 0;

fail_errno:
	e = errno;
	close(fd);
	return dhp_error_set(err, -e, "cannot map the QEMU backend's state \"%s\": %s", path,
			     strerror(e));
}

void qs_close(struct qs *s)
{
	if (s->map)
		munmap(s->map, s->map_len);
	memset(s, 0, sizeof(*s));
}

static void partition_init(struct qs_partition *p, uint32_t id)
{
	memset(p, 0, sizeof(*p));
	p->id = id;
	p->pid = -1;
	for (size_t i = 0; i <= QS_SLOTS_MAX; i++) {
		p->guest_cpu[i] = -1;
		p->slot_unit[i] = -1;
	}
}

struct qs_partition *qs_partition(struct qs *s, uint32_t id, bool create)
{
	struct qs_partition *free_rec = NULL;

	if (!id)
		return NULL;
	for (size_t i = 0; i < s->n_partitions; i++) {
		if (s->partitions[i].id == id)
			return &s->partitions[i];
		if (!s->partitions[i].id && !free_rec)
			free_rec = &s->partitions[i];
	}
	if (!create || !free_rec)
		return NULL;
	partition_init(free_rec, id);
	return free_rec;
}

void qs_partition_clear(struct qs *s, uint32_t id)
{
	struct qs_partition *p = qs_partition(s, id, false);

	for (size_t i = 0; i < s->n_units; i++)
		if (s->units[i].partition == id)
			qs_unit_unwire(&s->units[i]);
	if (p)
		memset(p, 0, sizeof(*p));
}

void qs_unit_unwire(struct qs_unit *u)
{
	u->partition = 0;
	u->online = 0;
	u->boot = 0;
	u->slot = -1;
	u->port = -1;
	/* guest_cpu and phys_addr stay: see struct qs_unit. */
}

unsigned qs_slots_in(const struct qs_partition *p, enum qs_slot_state st)
{
	unsigned n = 0;

	for (size_t i = 0; i < p->maxcpus && i <= QS_SLOTS_MAX; i++)
		n += p->slot_state[i] == st;
	return n;
}
