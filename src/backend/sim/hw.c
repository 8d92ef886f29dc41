/* SPDX-License-Identifier: MIT */
#include "backend/sim/hw.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define HW_MAGIC "DHPSIMHW"
#define HW_VERSION 1u

struct sim_hw_header {
	char magic[8];
	uint32_t version;
	uint32_t n_units;
	uint32_t n_slots;
	uint32_t pad;
	uint64_t digest;
};

static size_t hw_size(size_t n_units, size_t n_slots)
{
	return sizeof(struct sim_hw_header) + n_units * sizeof(struct sim_hw_unit) +
	       n_slots * sizeof(struct sim_hw_partition);
}

static void hw_layout(struct sim_hw *hw, size_t n_units, size_t n_slots)
{
	char *base = (char *)hw->map + sizeof(struct sim_hw_header);

	hw->units = (struct sim_hw_unit *)base;
	hw->n_units = n_units;
	hw->partitions = (struct sim_hw_partition *)(base + n_units * sizeof(struct sim_hw_unit));
	hw->n_slots = n_slots;
}

static int hw_map_file(struct sim_hw *hw, const char *path, size_t len, int *ret_fresh,
		       struct dhp_error *err)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return dhp_error_set(err, -errno, "cannot open simulated hardware \"%s\": %s",
				     path, strerror(errno));
	if (fstat(fd, &st) < 0 || (st.st_size == 0 && ftruncate(fd, (off_t)len) < 0))
		goto fail_errno;
	if (st.st_size != 0 && (size_t)st.st_size != len) {
		close(fd);
		return dhp_error_set(err, -ESTALE,
				     "simulated hardware \"%s\" was made for another topology",
				     path);
	}
	hw->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (hw->map == MAP_FAILED) {
		hw->map = NULL;
		goto fail_errno;
	}
	close(fd);
	*ret_fresh = st.st_size == 0;
	return 0;

fail_errno:
	dhp_error_set(err, -errno, "cannot map simulated hardware \"%s\": %s", path,
		      strerror(errno));
	close(fd);
	return err ? err->code : -EIO;
}

int sim_hw_open(struct sim_hw *hw, const char *path, size_t n_units, size_t n_slots,
		uint64_t digest, struct dhp_error *err)
{
	size_t len = hw_size(n_units, n_slots);
	struct sim_hw_header *h;
	int fresh = 1, r;

	memset(hw, 0, sizeof(*hw));
	if (path) {
		r = hw_map_file(hw, path, len, &fresh, err);
		if (r < 0)
			return r;
	} else {
		hw->map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		if (hw->map == MAP_FAILED) {
			hw->map = NULL;
			return dhp_error_set(err, -ENOMEM, "out of memory");
		}
	}
	hw->map_len = len;
	h = hw->map;
	if (fresh) {
		memcpy(h->magic, HW_MAGIC, sizeof(h->magic));
		h->version = HW_VERSION;
		h->n_units = (uint32_t)n_units;
		h->n_slots = (uint32_t)n_slots;
		h->digest = digest;
	} else if (memcmp(h->magic, HW_MAGIC, sizeof(h->magic)) || h->version != HW_VERSION ||
		   h->digest != digest) {
		sim_hw_close(hw);
		return dhp_error_set(err, -ESTALE,
				     "simulated hardware \"%s\" was made for another topology",
				     path);
	}
	hw_layout(hw, n_units, n_slots);
	return 0;
}

void sim_hw_close(struct sim_hw *hw)
{
	if (hw->map)
		munmap(hw->map, hw->map_len);
	memset(hw, 0, sizeof(*hw));
}

struct sim_hw_partition *sim_hw_partition(struct sim_hw *hw, uint32_t id, int create)
{
	struct sim_hw_partition *free_slot = NULL;

	for (size_t i = 0; i < hw->n_slots; i++) {
		if (hw->partitions[i].id == id)
			return &hw->partitions[i];
		if (!hw->partitions[i].id && !free_slot)
			free_slot = &hw->partitions[i];
	}
	if (!create || !free_slot)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->id = id;
	return free_slot;
}
