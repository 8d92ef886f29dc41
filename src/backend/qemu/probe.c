/* SPDX-License-Identifier: MIT */
/*
 * The processor removal method (probe.h).
 *
 * Why a rule and not only a live probe: the fault of DESIGN.md §9 is not
 * deterministic in when it strikes (the next CPU device_add, "or a later
 * allocation"), so a probe that boots a guest, unplugs a CPU and sees
 * QEMU survive proves little, while the rule is what was measured. A
 * version the rule does not know is parked, which is always safe, and
 * the reason says so; docs/qemu.md says how to decide otherwise.
 */
#include "backend/qemu/probe.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The newest QEMU known to corrupt its heap after a TCG CPU unplug. */
#define TCG_UNSAFE_MAJOR 7
#define TCG_UNSAFE_MINOR 2

int qemu_version_parse(const char *text, struct qemu_version *ret_version)
{
	const char *p = text ? strstr(text, "version ") : NULL;
	struct qemu_version v = { 0 };

	if (!p || sscanf(p, "version %d.%d.%d", &v.major, &v.minor, &v.micro) < 2 ||
	    v.major < 0 || v.minor < 0 || v.micro < 0)
		return -EINVAL;
	*ret_version = v;
	return 0;
}

__attribute__((format(printf, 3, 4)))
static void say(char *reason, size_t size, const char *fmt, ...)
{
	va_list ap;

	if (!reason || !size)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, size, fmt, ap);
	va_end(ap);
}

enum dhp_qemu_cpu_remove qemu_probe_rule(const struct qemu_version *v,
					 enum dhp_qemu_accel accel,
					 enum qemu_probe_source *ret_source,
					 char *reason, size_t size)
{
	*ret_source = QEMU_PROBE_RULE;
	if (accel == DHP_QEMU_ACCEL_KVM) {
		say(reason, size, "QEMU %d.%d.%d with KVM: processors are unplugged (device_del)",
		    v->major, v->minor, v->micro);
		return DHP_QEMU_CPU_REMOVE_UNPLUG;
	}
	if (v->major < TCG_UNSAFE_MAJOR ||
	    (v->major == TCG_UNSAFE_MAJOR && v->minor <= TCG_UNSAFE_MINOR)) {
		say(reason, size, "QEMU %d.%d.%d under TCG corrupts its heap after a CPU unplug: "
		    "removed processors are taken offline and their vCPUs parked",
		    v->major, v->minor, v->micro);
		return DHP_QEMU_CPU_REMOVE_PARK;
	}
	*ret_source = QEMU_PROBE_UNKNOWN;
	say(reason, size, "QEMU %d.%d.%d under TCG is not known to unplug CPUs safely: "
	    "removed processors are taken offline and their vCPUs parked",
	    v->major, v->minor, v->micro);
	return DHP_QEMU_CPU_REMOVE_PARK;
}

static bool cache_read(const char *path, const char *version_text, enum dhp_qemu_accel accel,
		       enum dhp_qemu_cpu_remove *ret_method, char *reason, size_t size)
{
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
	const char *ver = json_string_value(json_object_get(root, "qemu"));
	const char *acc = json_string_value(json_object_get(root, "accel"));
	const char *method = json_string_value(json_object_get(root, "method"));
	const char *why = json_string_value(json_object_get(root, "reason"));
	bool hit = false;

	if (ver && acc && method && !strcmp(ver, version_text) &&
	    !strcmp(acc, dhp_qemu_accel_name(accel))) {
		for (int m = 0; m < DHP_QEMU_CPU_REMOVE_MAX; m++)
			if (!strcmp(method, dhp_qemu_cpu_remove_name((enum dhp_qemu_cpu_remove)m))) {
				*ret_method = (enum dhp_qemu_cpu_remove)m;
				hit = true;
			}
		if (hit)
			say(reason, size, "%s", why ? why : "cached decision");
	}
	json_decref(root);
	return hit;
}

static void cache_write(const char *path, const char *version_text, enum dhp_qemu_accel accel,
			enum dhp_qemu_cpu_remove method, enum qemu_probe_source source,
			const char *reason)
{
	char tmp[4200];
	json_t *root = json_pack("{s:s, s:s, s:s, s:s, s:s}", "qemu", version_text,
				 "accel", dhp_qemu_accel_name(accel),
				 "method", dhp_qemu_cpu_remove_name(method),
				 "source", source == QEMU_PROBE_RULE ? "rule" : "unknown",
				 "reason", reason);

	if (!root || snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
		json_decref(root);
		return;
	}
	/* Whole or not at all: a torn file would only be decided again. */
	if (json_dump_file(root, tmp, JSON_INDENT(2)) == 0 && rename(tmp, path) < 0)
		unlink(tmp);
	json_decref(root);
}

enum dhp_qemu_cpu_remove qemu_probe_decide(const char *cache_path, const char *version_text,
					   const struct qemu_version *v,
					   enum dhp_qemu_accel accel, char *reason, size_t size)
{
	enum dhp_qemu_cpu_remove method;
	enum qemu_probe_source source;
	char why[DHP_ERROR_TEXT_MAX];

	if (cache_path && cache_read(cache_path, version_text, accel, &method, reason, size))
		return method;
	method = qemu_probe_rule(v, accel, &source, why, sizeof(why));
	if (cache_path)
		cache_write(cache_path, version_text, accel, method, source, why);
	say(reason, size, "%s", why);
	return method;
}
