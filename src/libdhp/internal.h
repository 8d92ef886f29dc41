/* SPDX-License-Identifier: MIT */
/*
 * Inside libdhp: the handle, the registrations and the interfaces between
 * the library's files. include/dhp/dhp.h is the public face; this file is
 * never installed. libdhp depends on common/ (errors) and proto/ (the
 * agent protocol, the line reader, the uevent parser, the records of who
 * saw a start note) only.
 *
 *   handle.c      open, close, the descriptor, dispatch, the transport
 *   agent-conn.c  the connection to dhp-agent: hello, requests, replies
 *   uevent.c      the fallback: kernel uevents over netlink
 *   chain.c       registrations and the callback chains (order, veto, undo),
 *                 with the records of who saw a start (proto/records.h)
 *   change.c      a protocol unit -> struct dhp_change, with sysfs details
 *   sysfs.c       reading files under the sysfs root
 *   query.c       online processors, possible processors, memory size
 *   replay.c      DHP_REGISTER_ADD_EXISTING
 *   thread.c      the helper thread
 *   names.c       the public enums' names
 */
#ifndef DHP_LIBDHP_INTERNAL_H
#define DHP_LIBDHP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dhp/dhp.h"
#include "proto/line.h"
#include "proto/proto.h"
#include "proto/records.h"

#define LIBDHP_AGENT_SOCKET "/run/dhp-agent.sock"
/* How long dhp_open() waits for the agent's hello. */
#define LIBDHP_HELLO_WAIT_MS 1000
/* Reconnection to the agent: back-off from MIN doubling to MAX. */
#define LIBDHP_BACKOFF_MIN_MS 100
#define LIBDHP_BACKOFF_MAX_MS 5000
/* Replies not yet taken by the agent's socket; more means it stopped
 * reading, and the connection is dropped. */
#define LIBDHP_OUT_MAX (64 * 1024)
/* Work done by one dispatch before it returns (the descriptor stays
 * readable if there is more): bytes from the agent, uevent datagrams. */
#define LIBDHP_READ_MAX (64 * 1024)
#define LIBDHP_UEVENTS_MAX 64
/* Start records kept at most (the oldest is forgotten). */
#define LIBDHP_RECORDS_MAX 256

/* Tags of the epoll set. */
enum {
	LIBDHP_TAG_AGENT = 1,
	LIBDHP_TAG_UEVENT,
	LIBDHP_TAG_TIMER,
};

struct dhp_registration {
	struct dhp *dhp;
	struct dhp_registration *prev, *next;	/* registration order */
	uint64_t serial;		/* increasing: the order, and records */
	uint32_t kinds;
	dhp_change_fn fn;
	void *userdata;
	bool dead;			/* unregistered, freed after the chain */
};

struct dhp {
	pthread_mutex_t lock;		/* recursive: callbacks call us */
	uint32_t flags;			/* DHP_OPEN_* */
	char name[DHP_PROTO_NAME_MAX];	/* "NAME[PID]" */
	char socket_path[108];		/* sizeof(sun_path) */
	int sysfs_fd;			/* the sysfs root; -1: sysfs_error */
	int sysfs_error;
	int32_t node_hint;		/* the NUMA node found last (sysfs.c) */
	uint64_t block_size;		/* memory block bytes, 0: no hotplug */
	int epoll_fd;
	int timer_fd;			/* reconnection back-off */
	uint32_t transport;		/* enum dhp_transport */

	/* dhp-agent */
	int agent_fd;			/* -1 when not connected */
	bool agent_ready;		/* its hello came: transport agent */
	bool agent_broken;		/* a write failed or it refused us */
	int agent_error;		/* why it went: -ECONNRESET, -ENFILE... */
	uint32_t agent_caps;		/* DHP_PROTO_CAP_* of its hello */
	char agent_name[DHP_PROTO_NAME_MAX];
	unsigned backoff_ms;
	struct dhp_proto_reader reader;
	char *out;			/* bytes the socket did not take yet */
	size_t out_len;
	bool out_watched;		/* EPOLLOUT in the set */
	struct dhp_proto_msg *msg_in, *msg_out;	/* scratch, ~10 KiB each */

	/* kernel uevents */
	int uevent_fd;			/* -1 unless falling back */

	/* registrations */
	struct dhp_registration *first, *last;
	uint64_t next_serial;
	unsigned depth;			/* > 0 while callbacks may run */
	bool have_dead;			/* a registration waits to be freed */
	/* Which registrations saw a start note, per unit, by serial
	 * (ascending: registration order); proto/records.h. */
	struct dhp_proto_records records;

	dhp_transport_fn transport_fn;
	void *transport_userdata;

	/* helper thread */
	bool thread_running;
	bool thread_stopping;		/* dhp_stop_thread is joining it */
	pthread_t thread;
	int stop_fd;			/* eventfd: stop the thread */

	int handled;			/* notifications in this dispatch */
	bool closing;			/* dhp_close: no callbacks, no fallback */
};

/* ---- handle.c ---- */
void libdhp_lock(struct dhp *dhp);
void libdhp_unlock(struct dhp *dhp);
/* The transport may have changed: recompute it, tell the callback. */
void libdhp_transport_update(struct dhp *dhp, int error);
/* Arm the reconnection timer (0 disarms). */
void libdhp_timer_arm(struct dhp *dhp, unsigned ms);
/* The dispatch proper; the lock is held. */
int libdhp_dispatch_locked(struct dhp *dhp);

/* ---- agent-conn.c ---- */
/* Connect and send our hello (no wait). 0, or the error of connect. */
int libdhp_agent_connect(struct dhp *dhp);
/* Wait up to ms for the agent's hello (dhp_open). */
void libdhp_agent_wait_hello(struct dhp *dhp, int ms);
/* Read what the agent sent and act on it (EPOLLIN, EPOLLHUP). */
void libdhp_agent_read(struct dhp *dhp);
/* Send what is queued (EPOLLOUT). */
void libdhp_agent_flush(struct dhp *dhp);
/* Close the connection; error says why (for the transport callback). */
void libdhp_agent_close(struct dhp *dhp, int error);

/* ---- uevent.c ---- */
int libdhp_uevent_open(struct dhp *dhp);
void libdhp_uevent_close(struct dhp *dhp);
void libdhp_uevent_read(struct dhp *dhp);
/* The change a uevent datagram means, for the fallback: 0, or -ENOENT
 * when it means none (another device, an action without a phase). */
int libdhp_uevent_change(struct dhp *dhp, const char *buf, size_t len,
			 struct dhp_change *ret_change);

/* ---- chain.c ---- */
/* Tell a notification to the registrations, fill the reply for the agent
 * (approve, deny with the reason, or ok). */
void libdhp_chain_notify(struct dhp *dhp, enum dhp_proto_note note,
			 const struct dhp_proto_unit *unit, struct dhp_proto_reply *reply);
/* Tell a change that needs no answer (uevents) to every registration of
 * its kind, in order. */
void libdhp_chain_tell(struct dhp *dhp, const struct dhp_change *change);
/* Call one registration, unless it is dead or not of the kind. Returns
 * what the callback returned, 0 when not called. */
int libdhp_call(struct dhp_registration *reg, const struct dhp_change *change,
		char *reason, size_t reason_size);
/* Free the dead registrations, once no chain runs. */
void libdhp_sweep(struct dhp *dhp);
void libdhp_free_registrations(struct dhp *dhp);

/* ---- change.c ---- */
/* Fill *ret with the unit and what sysfs says about it now. */
void libdhp_change_init(struct dhp *dhp, uint32_t phase, const struct dhp_proto_unit *unit,
			uint32_t flags, struct dhp_change *ret);

/* ---- sysfs.c ---- */
/* Read a file under the root into buf (NUL-terminated, a trailing newline
 * dropped). -EFBIG when it does not fit. */
int libdhp_sysfs_read(struct dhp *dhp, const char *path, char *buf, size_t size);
/* Read a file of any length up to max bytes into a malloc'ed string. */
int libdhp_sysfs_read_alloc(struct dhp *dhp, const char *path, size_t max, char **ret);
/* The N of an entry "nodeN" in directory path, -1 when none. */
int32_t libdhp_sysfs_node(struct dhp *dhp, const char *path);
/* Sorted numbers N of the entries PREFIXN in directory path; caller frees. */
int libdhp_sysfs_numbered(struct dhp *dhp, const char *path, const char *prefix,
			  uint64_t **ret_list, size_t *ret_n);
/* devices/system/memory/block_size_bytes, 0 when absent. */
uint64_t libdhp_sysfs_block_size(struct dhp *dhp);

/* ---- query.c ---- */
/* Call fn for each range first..last of a kernel cpulist. */
int libdhp_cpulist_ranges(const char *list, int (*fn)(void *ctx, uint32_t first, uint32_t last),
			  void *ctx);

/* ---- replay.c ---- */
void libdhp_replay(struct dhp *dhp, struct dhp_registration *reg);

/* ---- thread.c ---- */
void libdhp_thread_release(struct dhp *dhp);

#endif
