/* SPDX-License-Identifier: MIT */
/*
 * How a processor leaves a running partition: a real CPU unplug
 * (device_del) where it is safe on the QEMU and accelerator at hand, or
 * the park path where it is not (DESIGN.md §9: QEMU 7.2 under TCG corrupts
 * its heap after a CPU unplug, and dhp must never crash a partition).
 *
 * The decision is a rule over the QEMU version and the accelerator; it is
 * cached in STATE_DIR/qemu/cpu-remove-probe.json with both, so that a QEMU
 * upgrade or another accelerator decides again. Pure but for the cache
 * file; tested in tests/t1300-qemu.c.
 */
#ifndef DHP_BACKEND_QEMU_PROBE_H
#define DHP_BACKEND_QEMU_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "backend/qemu/qemu.h"
#include "common/error.h"

struct qemu_version {
	int major, minor, micro;
};

/* From `qemu-system-x86_64 --version` ("QEMU emulator version 7.2.22
 * (Debian ...)"); -EINVAL when there is no version in text. */
int qemu_version_parse(const char *text, struct qemu_version *ret_version);

enum qemu_probe_source {
	QEMU_PROBE_RULE,	/* known from the version and accelerator */
	QEMU_PROBE_UNKNOWN,	/* not known: parked, to be safe */
	QEMU_PROBE_CACHE,	/* read back from the cache file */
};

/*
 * The rule. KVM: unplug (QEMU's CPU hot unplug is made for it). TCG up to
 * 7.2: park (the heap corruption of DESIGN.md §9). TCG after 7.2: not
 * known, so park, and say so. *ret_source says which; reason (may be
 * NULL) gets the why, for people.
 */
enum dhp_qemu_cpu_remove qemu_probe_rule(const struct qemu_version *v,
					 enum dhp_qemu_accel accel,
					 enum qemu_probe_source *ret_source,
					 char *reason, size_t size);

/*
 * The decision for this QEMU: the cache when it was made for the same
 * version and accelerator, else the rule, which is then cached. The
 * cache is advisory: one that cannot be read or written changes nothing
 * but the time taken.
 */
enum dhp_qemu_cpu_remove qemu_probe_decide(const char *cache_path, const char *version_text,
					   const struct qemu_version *v,
					   enum dhp_qemu_accel accel, char *reason, size_t size);

#endif
