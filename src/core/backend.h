/* SPDX-License-Identifier: MIT */
/*
 * The backend seam: what really happens to partitions and units.
 *
 * A backend is an ops table chosen at run time (sim, later qemu). Every call
 * is asynchronous: it returns 0 once the work is under way (or a negative
 * errno if it could not even begin, and then done is never called) and
 * later calls done(ctx, token, rc, err) exactly once from the event loop,
 * never from inside the call itself. The engine arms a deadline for each
 * call and ignores a done that arrives after it (the token no longer
 * matches) and calls cancel, so a backend may answer late or never but
 * must not act after its deadline.
 *
 * Every call is idempotent: attaching an attached unit, powering off an
 * unpowered one, stopping a stopped partition succeed. Rollback and
 * start-up recovery rely on this to undo a phase whose outcome is unknown.
 */
#ifndef DHP_CORE_BACKEND_H
#define DHP_CORE_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/error.h"
#include "model/partition.h"
#include "model/unit.h"

/* What the partition's OS is told, at the points Windows tells drivers. */
enum dhp_notification {
	DHP_NOTIFY_ADD_START,		/* may be vetoed */
	DHP_NOTIFY_ADD_COMPLETE,
	DHP_NOTIFY_ADD_FAILURE,
	DHP_NOTIFY_REMOVE_QUERY,	/* may be vetoed */
	DHP_NOTIFY_REMOVE_COMPLETE,
	DHP_NOTIFY_REMOVE_FAILURE,
	DHP_NOTIFY_REPLACE_START,
	DHP_NOTIFY_REPLACE_COMPLETE,
	DHP_NOTIFY_REPLACE_FAILURE,
	DHP_NOTIFY_MAX
};

const char *dhp_notification_name(enum dhp_notification note);
bool dhp_notification_vetoable(enum dhp_notification note);

typedef void (*dhp_backend_done_fn)(void *ctx, uint64_t token, int rc,
				    const struct dhp_error *err);

/* Who to call back; passed by value to every call. */
struct dhp_backend_cb {
	dhp_backend_done_fn done;
	void *ctx;
	uint64_t token;
};

/* What the backend really has, for reconciliation. */
struct dhp_unit_view {
	uint32_t partition;	/* attached to, DHP_NO_PARTITION if none */
	bool powered;
	bool online;		/* the partition's OS uses it */
};

struct dhp_partition_view {
	uint32_t id;		/* filled by the caller */
	bool running;		/* its OS is up */
	bool os_ready;		/* its OS takes part in online operations */
};

struct dhp_backend_view {
	struct dhp_unit_view *units;		/* indexed like server->units */
	size_t n_units;
	struct dhp_partition_view *partitions;	/* ids chosen by the caller */
	size_t n_partitions;
};

/* Things the backend reports on its own, outside any call. */
struct dhp_backend_listener {
	/* The partition's OS went down (crash, power loss of its units). */
	void (*partition_failed)(void *ctx, uint32_t partition, const struct dhp_error *why);
	/* The partition's OS started or stopped taking part in online
	 * operations (its agent connected, said hello, or went away). A
	 * partition is taken as ready once its start has completed. */
	void (*os_ready)(void *ctx, uint32_t partition, bool ready);
	void *ctx;
};

/*
 * What a backend says about itself, for people and the API (the Redfish
 * Chassis's Oem.Dhp, docs/redfish.md): what it decided at start-up. The
 * strings belong to the backend and live as long as it.
 */
struct dhp_backend_info {
	const char *accelerator;	/* how partitions run: "tcg", "kvm"; NULL: simulated */
	const char *version;		/* the hypervisor's ("7.2.22"), or NULL */
	const char *cpu_remove;		/* how a processor leaves a running partition:
					 * "unplug", "park" (QEMU), "simulated" */
	const char *cpu_remove_reason;	/* why, for people; may be NULL */
};

struct dhp_backend;

struct dhp_backend_ops {
	const char *name;
	int (*power)(struct dhp_backend *be, const struct dhp_unit *unit, bool on,
		     struct dhp_backend_cb cb);
	/* Boot the partition's OS with exactly these (powered) units. */
	int (*partition_start)(struct dhp_backend *be, const struct dhp_partition *p,
			       const struct dhp_unit *const *units, size_t n_units,
			       struct dhp_backend_cb cb);
	/* Shut the OS down; its units stay powered and become detached. */
	int (*partition_stop)(struct dhp_backend *be, const struct dhp_partition *p,
			      struct dhp_backend_cb cb);
	/* A vetoable notification that is refused completes with -EPERM. */
	int (*notify)(struct dhp_backend *be, const struct dhp_partition *p,
		      enum dhp_notification note, const struct dhp_unit *unit,
		      struct dhp_backend_cb cb);
	int (*attach)(struct dhp_backend *be, const struct dhp_partition *p,
		      const struct dhp_unit *unit, struct dhp_backend_cb cb);
	int (*detach)(struct dhp_backend *be, const struct dhp_partition *p,
		      const struct dhp_unit *unit, struct dhp_backend_cb cb);
	/* The OS brings an attached unit into use, or stops using it. */
	int (*online)(struct dhp_backend *be, const struct dhp_partition *p,
		      const struct dhp_unit *unit, struct dhp_backend_cb cb);
	int (*offline)(struct dhp_backend *be, const struct dhp_partition *p,
		       const struct dhp_unit *unit, struct dhp_backend_cb cb);
	/* Move a running unit's state to an identical powered one. */
	int (*move)(struct dhp_backend *be, const struct dhp_partition *p,
		    const struct dhp_unit *from, const struct dhp_unit *to,
		    struct dhp_backend_cb cb);
	/*
	 * The engine gave up on the call with this token (its deadline
	 * passed): done must not be called for it, and its work must not
	 * land later (or must be undone when it does). The engine then runs
	 * the phase's undo.
	 */
	void (*cancel)(struct dhp_backend *be, uint64_t token);
	/* Fill view (arrays allocated by the caller). */
	int (*reconcile)(struct dhp_backend *be, struct dhp_backend_view *view,
			 struct dhp_backend_cb cb);
	/*
	 * Queries, not calls on the hardware: they answer at once, without
	 * a callback or a deadline, from memory or a local file.
	 *
	 * info fills ret_info (every field; NULL where it has nothing to say).
	 */
	void (*info)(struct dhp_backend *be, struct dhp_backend_info *ret_info);
	/*
	 * Optional (NULL: the backend keeps no consoles). The console log of
	 * a partition (by id), open for reading in *ret_fd; the caller closes
	 * it. The log grows while the partition runs and may start again
	 * (shorter) when it restarts. -ENOENT with err set when the partition
	 * has none (never started).
	 */
	int (*console_open)(struct dhp_backend *be, uint32_t partition, int *ret_fd,
			    struct dhp_error *err);
	void (*free)(struct dhp_backend *be);
};

struct dhp_backend {
	const struct dhp_backend_ops *ops;
	struct dhp_backend_listener listener;	/* set by the engine */
};

static inline void dhp_backend_free(struct dhp_backend *be)
{
	if (be)
		be->ops->free(be);
}

/* be's info (struct dhp_backend_info); every field NULL when it gives none. */
static inline void dhp_backend_describe(struct dhp_backend *be, struct dhp_backend_info *ret_info)
{
	*ret_info = (struct dhp_backend_info){ 0 };
	if (be && be->ops->info)
		be->ops->info(be, ret_info);
}

#endif
