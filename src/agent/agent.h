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

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "proto/line.h"
#include "proto/proto.h"
#include "proto/records.h"

#define AGENT_NAME "dhp-agent 0.1"

#define AGENT_APP_SOCKET "/run/dhp-agent.sock"
#define AGENT_APPS_MAX 1024		/* applications connected at once */
#define AGENT_APP_BAD_MAX 64		/* bad lines in a row before a drop */
/* Start records kept at most: dhpd may die between a start and its end;
 * past this the oldest is forgotten, and a failure for it then goes to
 * every application, which is the safe side. */
#define AGENT_RECORDS_MAX 256

struct agent_config {
	const char *device;	/* serial port, default /dev/ttyS1 */
	const char *socket;	/* a unix socket to connect to instead (tests) */
	const char *sysfs;	/* sysfs root, default /sys (tests: a fake tree) */
	unsigned settle_ms;	/* how long a unit's sysfs node may take to appear */
	unsigned offline_ms;	/* how long a memory block may take to go offline */
	bool uevents;		/* relay kernel uevents as events */
	bool verbose;
	const char *app_socket;	/* where applications connect, NULL: --no-apps */
	unsigned app_timeout_ms;	/* how long a notification waits for them */
	unsigned app_max;	/* AGENT_APPS_MAX, lower in tests (--app-max) */
};

/* One application connected to the local socket (libdhp). Freed only by
 * apps_sweep() in the main loop, never while a notification is relayed, so
 * pointers held across a wait stay valid; a dropped one has fd -1. */
struct agent_app {
	int fd;			/* non-blocking; -1 once dropped */
	uint64_t serial;	/* unique for the agent's life: records name it */
	uint64_t reg_seq;	/* when its hello arrived (registration order);
				 * 0: not yet, it gets no notifications */
	char name[DHP_PROTO_NAME_MAX];	/* from its hello ("[PID]" before),
					 * for logs and vetoes */
	uint64_t next_id;	/* our requests' ids, increasing per connection */
	unsigned bad_lines;	/* in a row */
	struct dhp_proto_reader *reader;
	/* The notification being relayed (apps.c). */
	uint64_t await_id;	/* the id whose reply is awaited, 0: none */
	bool answered;
	enum dhp_proto_result result;
	char reason[DHP_PROTO_TEXT_MAX];
};

struct agent_apps {
	int listen_fd;		/* -1: no relay (--no-apps, or it could not listen) */
	bool listen_paused;	/* accept failed for want of fds: until a drop */
	struct agent_app **list;	/* every connection, in accept order */
	size_t n, cap;
	uint64_t next_serial;	/* serials and reg_seq numbers */
	/* Which applications saw a start note, per unit, by serial in
	 * registration order (proto/records.h); set up by apps_open. */
	struct dhp_proto_records records;
};

struct agent {
	struct agent_config cfg;
	int sysfs_fd;		/* the sysfs root, O_PATH */
	int chan_fd;		/* the channel to dhpd, -1 while closed */
	bool chan_broken;	/* a write failed: reopen */
	int uevent_fd;		/* kernel uevents, -1 when not relayed */
	struct dhp_proto_reader reader;
	struct agent_apps apps;
};

/* main.c: logging, lowercase, to stderr (the guest's console). */
__attribute__((format(printf, 1, 2)))
void agent_log(const char *fmt, ...);
__attribute__((format(printf, 2, 3)))
void agent_debug(const struct agent *a, const char *fmt, ...);
/* SIGTERM or SIGINT arrived: every wait ends and the agent exits. */
bool agent_stopping(void);
/* Waits use ppoll with this mask: the stop signals are blocked except
 * while waiting, so that one arriving just before a wait is not missed. */
const sigset_t *agent_wait_mask(void);
/* Milliseconds of CLOCK_MONOTONIC. */
int64_t agent_now_ms(void);

/* options.c: parse the command line into cfg (which holds the defaults).
 * Returns -1 to go on, or the exit status (--help, --version, an error). */
int agent_options(int argc, char **argv, struct agent_config *cfg);

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
/* sysfs_write, but interrupted after ms (SIGALRM): see sysfs.c. A write
 * that ran out of time is -ETIMEDOUT. */
int sysfs_write_limited(const struct agent *a, const char *path, const char *value,
			unsigned ms);
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
/* The hello without the state (version, names, capabilities): the one
 * applications get. */
void agent_hello_brief(const struct agent *a, struct dhp_proto_hello *hello);

/* units.c: online and offline; the reply's result, code and reason are
 * set (ok, or error with the kernel's errno). */
void agent_online(const struct agent *a, const struct dhp_proto_unit *unit,
		  struct dhp_proto_reply *reply);
void agent_offline(const struct agent *a, const struct dhp_proto_unit *unit,
		   struct dhp_proto_reply *reply);

/* apps.c: relay a notification from dhpd to the registered applications
 * and fill reply with what they said (docs/agent-protocol.md,
 * Applications): approve/deny for a vetoable note, ok otherwise. Returns
 * within cfg.app_timeout_ms, or at once when the agent is stopping. */
void agent_apps_notify(struct agent *a, const struct dhp_proto_request *req,
		       struct dhp_proto_reply *reply);

/* apps-listen.c: the local socket. */
/* Listen on cfg.app_socket (a stale socket file is replaced); on failure
 * the agent runs without the relay (listen_fd stays -1). */
int apps_open(struct agent *a, struct dhp_error *err);
/* Close every connection and the socket, and remove its file. */
void apps_close(struct agent *a);
/* Accept a connection waiting on the socket. */
void apps_accept(struct agent *a);

/* apps-conn.c: the connections on it. */
/* Add a connection (takes fd); it is sent the agent's hello. */
void apps_add(struct agent *a, int fd);
void apps_free_all(struct agent *a);
/* Poll entries: how many, then fill them (the listening socket, when
 * accepting, and every live application), then act on what they report. */
size_t apps_poll_count(const struct agent *a);
void apps_poll_fill(const struct agent *a, struct pollfd *p);
void apps_poll_handle(struct agent *a, const struct pollfd *p);
/* Encode and write one message without blocking; an application whose
 * socket would block or fails is dropped (-EPIPE). */
int apps_send(struct agent *a, struct agent_app *app, const struct dhp_proto_msg *msg);
/* Close its connection now; the struct is freed by apps_sweep(). */
void apps_drop(struct agent *a, struct agent_app *app, const char *why);
/* Free the dropped applications (main loop only, see struct agent_app). */
void apps_sweep(struct agent *a);
/* The application by serial, NULL if it is gone. */
struct agent_app *apps_find(const struct agent *a, uint64_t serial);

/* apps-line.c: answer one line of app (rc -EMSGSIZE: a line over the
 * cap). Nonzero once app was dropped: its reader stops. */
int apps_line(struct agent *a, struct agent_app *app, const char *line, size_t len, int rc);
/* Cut s (NUL terminated) after its last whole UTF-8 character: a string
 * cut at a byte count may end in half of one, which JSON cannot carry. */
void agent_utf8_trim(char *s);

/* serve.c: answer one line from dhpd (rc -EMSGSIZE: a line over the cap). */
int agent_serve_line(void *ctx, const char *line, size_t len, int rc);
/* Send the hello line. */
int agent_send_hello(struct agent *a);
/* The answer to a line that did not decode (why says how; rc -EMSGSIZE: a
 * line over the cap), into out: an error reply when it has an id, else an
 * error event. false when it gets none (a reply or an event). */
bool agent_refusal(const struct agent *a, const char *line, size_t len, int rc,
		   const struct dhp_error *why, struct dhp_proto_msg *out);
/* Cut s (NUL terminated) after its last whole UTF-8 character: a string
 * cut at a byte count may end in half of one, which JSON cannot carry. */
void agent_utf8_trim(char *s);

/* uevents.c: the kernel's uevents, relayed as events. */
int uevents_open(struct agent *a);
void uevents_relay(struct agent *a);
void uevents_close(struct agent *a);

#endif
