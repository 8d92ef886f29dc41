/* SPDX-License-Identifier: MIT */
/*
 * dhp-agent: the program inside a partition's OS that speaks the agent
 * protocol (docs/agent-protocol.md) with dhpd over the second serial port
 * and does what it asks through sysfs. Internal interfaces between its
 * files; it depends on common/ and proto/ only, so it links statically
 * into a guest that has nothing but busybox.
 */
#ifndef DHP_AGENT_AGENT_H
#define DHP_AGENT_AGENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "proto/line.h"
#include "proto/proto.h"

#define AGENT_NAME "dhp-agent 0.1"

struct agent_config {
	const char *device;	/* serial port, default /dev/ttyS1 */
	const char *socket;	/* a unix socket to connect to instead (tests) */
	const char *sysfs;	/* sysfs root, default /sys (tests: a fake tree) */
	unsigned settle_ms;	/* how long a unit's sysfs node may take to appear */
	bool uevents;		/* relay kernel uevents as events */
	bool verbose;
};

struct agent {
	struct agent_config cfg;
	int sysfs_fd;		/* the sysfs root, O_PATH */
	int chan_fd;		/* the channel to dhpd, -1 while closed */
	bool chan_broken;	/* a write failed: reopen */
	int uevent_fd;		/* kernel uevents, -1 when not relayed */
	struct dhp_proto_reader reader;
};

/* main.c: logging, lowercase, to stderr (the guest's console). */
__attribute__((format(printf, 1, 2)))
void agent_log(const char *fmt, ...);
__attribute__((format(printf, 2, 3)))
void agent_debug(const struct agent *a, const char *fmt, ...);

/* channel.c: the line to dhpd. */
int channel_open(struct agent *a, struct dhp_error *err);
void channel_close(struct agent *a);
/* Encode and write one message; a failed write marks the channel broken. */
int channel_send(struct agent *a, const struct dhp_proto_msg *msg);

/* sysfs.c: files under the sysfs root; path is relative to it. All return
 * 0 or the negative errno the kernel gave. */
int sysfs_read(const struct agent *a, const char *path, char *buf, size_t size);
int sysfs_write(const struct agent *a, const char *path, const char *value);
bool sysfs_exists(const struct agent *a, const char *path);
/* Wait up to cfg.settle_ms for path to appear (a hot-added unit's node
 * comes a little after the hardware event); -ENOENT if it never does. */
int sysfs_settle(const struct agent *a, const char *path);
/* The numbers N of the entries "<prefix>N" of directory path, sorted;
 * caller frees *ret_list with free(). */
int sysfs_numbered(const struct agent *a, const char *path, const char *prefix,
		   uint64_t **ret_list, size_t *ret_n);
/* The memory block size, 0 when the kernel has no memory hotplug. */
uint64_t sysfs_block_size(const struct agent *a);

/* report.c: what the guest has, filled in place (also, partly, on
 * failure). filter (may be NULL) restricts the memory blocks to those of
 * one memory unit. */
int agent_state(const struct agent *a, const struct dhp_proto_unit *filter,
		struct dhp_proto_state *state);
/* The hello, state included; it is large: pass a heap object. */
int agent_hello(const struct agent *a, struct dhp_proto_hello *hello);

/* units.c: online and offline; the reply's result, code and reason are
 * set (ok, or error with the kernel's errno). */
void agent_online(const struct agent *a, const struct dhp_proto_unit *unit,
		  struct dhp_proto_reply *reply);
void agent_offline(const struct agent *a, const struct dhp_proto_unit *unit,
		   struct dhp_proto_reply *reply);

/* apps.c: the hook where notifications reach applications (libdhp). */
void agent_apps_notify(const struct agent *a, const struct dhp_proto_request *req,
		       struct dhp_proto_reply *reply);

/* serve.c: answer one line from dhpd (rc -EMSGSIZE: a line over the cap). */
int agent_serve_line(void *ctx, const char *line, size_t len, int rc);
/* Send the hello line. */
int agent_send_hello(struct agent *a);

/* uevents.c: the kernel's uevents, relayed as events. */
int uevents_open(struct agent *a);
void uevents_relay(struct agent *a);
void uevents_close(struct agent *a);

#endif
