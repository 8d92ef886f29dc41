/* SPDX-License-Identifier: MIT */
/*
 * Which accelerator partitions run under. TCG always works. KVM is used
 * when it is asked for (--accel kvm) or allowed (auto) and it works here:
 * /dev/kvm answers, and a guest really boots under it. The second test
 * matters: on the machines dhp is developed on /dev/kvm opens, but QEMU
 * either aborts (-cpu host: "failed to set MSR 0x10a") or the guest hangs.
 * So a probe boots the guest image under KVM once, until its init writes
 * to the console (or 15 s pass), and the verdict is cached with the QEMU
 * version in STATE_DIR/qemu/kvm-probe.json. Blocking: start-up only.
 */
#include "backend/qemu/object.h"
#include "backend/qemu/process.h"

#include <fcntl.h>
#include <jansson.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROBE_MS 15000
#define POLL_MS 100

static bool kvm_device(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC), version;

	if (fd < 0)
		return false;
	version = ioctl(fd, KVM_GET_API_VERSION, 0);
	close(fd);
	return version == KVM_API_VERSION;
}

static bool cache_read(const char *path, const char *version, char *why, size_t size, bool *ret)
{
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, NULL);
	const char *v = json_string_value(json_object_get(root, "qemu"));
	json_t *ok = json_object_get(root, "kvm");
	bool hit = v && !strcmp(v, version) && json_is_boolean(ok);

	if (hit) {
		*ret = json_is_true(ok);
		snprintf(why, size, "%s", json_string_value(json_object_get(root, "reason")) ?: "");
	}
	json_decref(root);
	return hit;
}

static void cache_write(const char *path, const char *version, bool ok, const char *why)
{
	json_t *root = json_pack("{s:s, s:b, s:s}", "qemu", version, "kvm", ok, "reason", why);

	if (root)
		json_dump_file(root, path, JSON_INDENT(2));
	json_decref(root);
}

static off_t file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? 0 : st.st_size;
}

/* Boot the guest under KVM in dir; true when its init spoke. */
static bool boot_probe(struct qemu *q, const char *dir, char *why, size_t size)
{
	struct dhp_unit cpu = { .id = "probe-cpu", .type = DHP_UNIT_PROCESSOR, .host_cpu = -1 };
	struct dhp_unit mem = { .id = "probe-mem", .type = DHP_UNIT_MEMORY,
				.size_bytes = 512ull << 20, .host_cpu = -1 };
	const struct dhp_unit *units[] = { &cpu, &mem };
	int slots[] = { 0, -1 }, ports[] = { -1, -1 }, status = 0, r;
	struct qemu_sizing z = { .maxcpus = QEMU_MAXCPUS_MIN };
	struct qemu_launch l = {
		.binary = q->binary, .kernel = q->kernel, .initrd = q->initrd, .dir = dir,
		.name = "kvm-probe", .accel = DHP_QEMU_ACCEL_KVM, .sizing = &z,
		.units = units, .n_units = 2, .slots = slots, .ports = ports,
	};
	char log[QEMU_PATH_MAX], console[QEMU_PATH_MAX], pidfile[QEMU_PATH_MAX], tail[160];
	struct qemu_argv argv = { 0 };
	bool spoke = false;
	uint64_t start = 0;
	pid_t child, pid = -1;

	snprintf(log, sizeof(log), "%s/qemu.log", dir);
	snprintf(console, sizeof(console), "%s/console.log", dir);
	snprintf(pidfile, sizeof(pidfile), "%s/qemu.pid", dir);
	r = qemu_cmdline(&l, &argv, NULL);
	if (!r)
		r = qemu_spawn(argv.argv, log, &child, NULL);
	qemu_argv_release(&argv);
	if (r < 0) {
		snprintf(why, size, "QEMU could not be run");
		return false;
	}
	for (int t = 0; t < PROBE_MS && (r = qemu_child_done(child, &status)) == 0; t += POLL_MS)
		poll(NULL, 0, POLL_MS);
	if (r == 0) {
		kill(child, SIGKILL);
		waitpid(child, &status, 0);
	}
	if (r != 1 || !WIFEXITED(status) || WEXITSTATUS(status) ||
	    qemu_pid_read(pidfile, &pid, &start) < 0) {
		qemu_log_tail(log, tail, sizeof(tail));
		snprintf(why, size, "QEMU does not start under KVM here: %s",
			 tail[0] ? tail : "no message");
		return false;
	}
	for (int t = 0; t < PROBE_MS && !spoke && qemu_pid_alive(pid, start); t += POLL_MS) {
		poll(NULL, 0, POLL_MS);
		spoke = file_size(console) > 0;
	}
	qemu_pid_kill(pid, start, SIGKILL);
	if (spoke)
		snprintf(why, size, "a guest booted under KVM");
	else
		snprintf(why, size, "a guest under KVM did not reach its init in %d s here",
			 PROBE_MS / 1000);
	return spoke;
}

static bool kvm_works(struct qemu *q, char *why, size_t size)
{
	char path[QEMU_PATH_MAX], dir[QEMU_DIR_MAX + 16];
	static const char *const files[] = { "qemu.log", "console.log", "qemu.pid", "qmp.sock",
					     "agent.sock" };
	bool ok;

	snprintf(path, sizeof(path), "%s/kvm-probe.json", q->dir);
	if (cache_read(path, q->version_text, why, size, &ok))
		return ok;
	snprintf(dir, sizeof(dir), "%s/kvm-probe", q->dir);
	mkdir(dir, 0700);
	ok = boot_probe(q, dir, why, size);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char f[QEMU_PATH_MAX + 16];

		snprintf(f, sizeof(f), "%s/%s", dir, files[i]);
		unlink(f);
	}
	rmdir(dir);
	cache_write(path, q->version_text, ok, why);
	return ok;
}

int qemu_pick_accel(struct qemu *q, enum dhp_qemu_accel asked, struct dhp_error *err)
{
	char why[DHP_ERROR_TEXT_MAX] = "";

	q->accel = DHP_QEMU_ACCEL_TCG;
	if (asked == DHP_QEMU_ACCEL_TCG)
		return 0;
	if (!kvm_device()) {
		if (asked == DHP_QEMU_ACCEL_AUTO)
			return 0;
		dhp_error_set(err, -ENODEV, "KVM was asked for, but /dev/kvm is not usable");
		return dhp_error_resolve(err, "use --accel tcg");
	}
	if (!kvm_works(q, why, sizeof(why))) {
		if (asked == DHP_QEMU_ACCEL_AUTO) {
			qemu_notice(q, "TCG, not KVM: %s", why);
			return 0;
		}
		dhp_error_set(err, -ENODEV, "KVM was asked for, but %s", why);
		return dhp_error_resolve(err, "use --accel tcg (remove %s/kvm-probe.json to "
					 "probe again)", q->dir);
	}
	q->accel = DHP_QEMU_ACCEL_KVM;
	return 0;
}
