/* SPDX-License-Identifier: MIT */
/*
 * libdhp: follow hardware changes from inside a dhp partition.
 *
 * dhp hot adds, hot removes and hot replaces processors, memory and I/O
 * host bridges of a running partition. A program (a driver, a database, a
 * worker pool) opens a handle, registers callbacks for the kinds of units it
 * cares about, and is told of each change in phases: a start it may veto, a
 * complete, or a failure that undoes the start. It can also ask at any time
 * how many processors and how much memory the partition has.
 *
 *     struct dhp *dhp;
 *     struct dhp_registration *reg;
 *
 *     dhp_open(&dhp, NULL, 0);
 *     dhp_register(dhp, DHP_KIND_PROCESSOR, DHP_REGISTER_ADD_EXISTING,
 *                  on_change, &pool, &reg);
 *     // put dhp_get_fd(dhp) in your poll/epoll/libuv loop; when it is
 *     // readable, call dhp_dispatch(dhp). Or call dhp_start_thread(dhp).
 *     ...
 *     dhp_close(dhp);
 *
 * Transports. Notifications come from dhp-agent, the program that carries
 * out dhp's changes inside the partition, over a local socket: then every
 * phase is delivered and a veto reaches dhp (DHP_TRANSPORT_AGENT). Where no
 * agent runs (any Linux, or before the agent starts), the library listens
 * to the kernel's uevents instead (DHP_TRANSPORT_UEVENT): the kernel only
 * says what already happened, so only the complete phases arrive
 * (add-complete, remove-complete) and nothing can be vetoed. dhp_transport()
 * says which one is in use; it may change while the handle lives (the agent
 * starts, stops or restarts), and dhp_set_transport_callback() is told.
 *
 * Conventions. Every function that can fail returns 0 (or a count) on
 * success and a negative errno on failure; nothing is ever printed. Output
 * parameters are named ret_* and written only on success. All types have
 * a fixed width. Handles are opaque. Strings are NUL-terminated UTF-8.
 *
 * Threads. A handle may be used from several threads: every call takes the
 * handle's lock, and callbacks run with it held, on the thread that called
 * dhp_dispatch() (or on the helper thread of dhp_start_thread()). A
 * callback may call any function of the library on its own handle except
 * dhp_close() and dhp_stop_thread() (and dhp_dispatch() is -EBUSY there).
 * Another thread's call waits until the callback returns: never make a
 * callback wait for a thread that is itself calling into the library. The
 * queries (dhp_cpus_online(), ...) take no lock and never wait for a
 * callback. Not safe across fork(): a child opens its own handle.
 *
 * Environment: DHP_AGENT_SOCKET, the agent's socket (default
 * /run/dhp-agent.sock); DHP_SYSFS_ROOT, where sysfs is (default /sys: for
 * tests only). Both are ignored in set-user-ID programs.
 *
 * The manual page is libdhp(3); the design, docs/libdhp.md.
 */
#ifndef DHP_DHP_H
#define DHP_DHP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library is built with hidden symbols; these are its interface. */
#if defined(__GNUC__)
#define DHP_PUBLIC __attribute__((visibility("default")))
#else
#define DHP_PUBLIC
#endif

/* The library's version: 0.1 (symbol version DHP_0.1). */
#define DHP_VERSION_MAJOR 0
#define DHP_VERSION_MINOR 1

/* A connection to the partition's notifications. Opaque. */
struct dhp;
/* One registered callback. Opaque; belongs to its handle. */
struct dhp_registration;

/* ---- kinds of units -------------------------------------------------- */

/* Flags: dhp_register() takes an OR of them, a change holds exactly one. */
enum dhp_kind {
	DHP_KIND_PROCESSOR = 1u << 0,	/* a logical processor */
	DHP_KIND_MEMORY = 1u << 1,	/* a range of physical memory */
	DHP_KIND_IO = 1u << 2,		/* an I/O host bridge: a PCI root port and
					 * the functions behind it */
};
#define DHP_KIND_ALL (DHP_KIND_PROCESSOR | DHP_KIND_MEMORY | DHP_KIND_IO)

/* ---- phases -------------------------------------------------------------
 *
 * A hot add is add-start (vetoable), then add-complete or add-failure; a
 * hot remove is remove-query (vetoable), then remove-complete or
 * remove-failure; a hot replace is replace-start, then replace-complete or
 * replace-failure. A failure is told to the callbacks that saw the start
 * (and approved it), in reverse registration order; the one that vetoed is
 * not told. A replace swaps the hardware under a unit the programs keep
 * seeing: the same processor number, the same memory range.
 */
enum dhp_phase {
	DHP_PHASE_ADD_START = 0,	/* vetoable: the unit is about to arrive */
	DHP_PHASE_ADD_COMPLETE = 1,	/* the unit is online and usable */
	DHP_PHASE_ADD_FAILURE = 2,	/* the add was undone: forget the unit */
	DHP_PHASE_REMOVE_QUERY = 3,	/* vetoable: the unit is about to go;
					 * stop using it before approving */
	DHP_PHASE_REMOVE_COMPLETE = 4,	/* the unit is gone */
	DHP_PHASE_REMOVE_FAILURE = 5,	/* the remove was undone: the unit
					 * stays, use it again */
	DHP_PHASE_REPLACE_START = 6,	/* the unit's hardware is being swapped */
	DHP_PHASE_REPLACE_COMPLETE = 7,	/* ... and was swapped */
	DHP_PHASE_REPLACE_FAILURE = 8,	/* ... and stays as it was */
	DHP_PHASE_MAX
};

/* ---- what a callback learns -------------------------------------------- */

/* Flags of struct dhp_change. */
enum dhp_change_flags {
	/* Not a change: a unit that was there when the callback registered
	 * with DHP_REGISTER_ADD_EXISTING (phase add-complete). */
	DHP_CHANGE_EXISTING = 1u << 0,
	/* Seen in a kernel uevent (DHP_TRANSPORT_UEVENT), not told by dhp. */
	DHP_CHANGE_UEVENT = 1u << 1,
	/* io.functions was cut at DHP_IO_FUNCTIONS_MAX. */
	DHP_CHANGE_TRUNCATED = 1u << 2,
	/* A failure whose start this process has no record of (the agent or
	 * the program restarted in between): it goes to every registration
	 * of the kind, in reverse order. */
	DHP_CHANGE_UNMATCHED = 1u << 3,
};

/* A PCI address "DDDD:BB:DD.F" and its NUL. */
#define DHP_PCI_SLOT_MAX 16
/* At most this many functions are listed in a change (flag TRUNCATED). */
#define DHP_IO_FUNCTIONS_MAX 32
/* The size of the reason buffer a callback is given. */
#define DHP_REASON_MAX 256

struct dhp_change_processor {
	uint32_t cpu;		/* the logical processor number (cpuN in sysfs) */
	int32_t node;		/* its NUMA node, -1 when unknown */
};

struct dhp_change_memory {
	uint64_t phys_addr;	/* first byte of the range */
	uint64_t size;		/* bytes, whole memory blocks */
	int32_t node;		/* NUMA node of its first block, -1 unknown */
	uint32_t reserved;	/* 0 */
};

struct dhp_pci_function {
	char slot[DHP_PCI_SLOT_MAX];	/* "0000:01:00.0" */
	uint16_t vendor_id;		/* 0 when unknown (already gone) */
	uint16_t device_id;
	uint32_t class_code;		/* 0xCCSSPP: class, subclass, prog-if */
};

struct dhp_change_io {
	/* The PCI address the change is about: the root port of an I/O host
	 * bridge (from dhp-agent), or one function (from a uevent). "" when
	 * dhp did not name one: then look at the whole PCI tree. */
	char slot[DHP_PCI_SLOT_MAX];
	int32_t segment;	/* PCI segment (domain) of slot, -1 when "" */
	int32_t bus;		/* its bus number, -1 when slot is "" */
	int32_t node;		/* NUMA node of slot's device, -1 unknown */
	uint32_t n_functions;	/* entries used in functions[] */
	/* The functions directly behind slot (for a uevent about one
	 * function: that function), read from sysfs when the change is told;
	 * empty when slot is "" or already gone from sysfs. */
	struct dhp_pci_function functions[DHP_IO_FUNCTIONS_MAX];
};

/*
 * One change, as a callback sees it. Valid during the call only: copy what
 * you keep. The struct only ever grows at its end, so a program built with
 * an older header reads the fields it knows; size says how much of it the
 * library filled (compare with offsetof before reading a newer field).
 * Only the member of kind is meaningful; the others are zero.
 */
struct dhp_change {
	uint32_t size;		/* sizeof(struct dhp_change) of the library */
	uint32_t phase;		/* enum dhp_phase */
	uint32_t kind;		/* one enum dhp_kind */
	uint32_t flags;		/* enum dhp_change_flags */
	struct dhp_change_processor processor;
	struct dhp_change_memory memory;
	struct dhp_change_io io;
};

/*
 * A callback. For a vetoable phase (add-start, remove-query) return 0 to
 * approve, or a negative errno to veto (-EBUSY: "in use" is the usual one)
 * and write why into reason (reason_size bytes, NUL-terminated; it starts
 * empty). dhp-agent tells dhp "vetoed by NAME[PID]: REASON". For the other
 * phases the return value is ignored. Positive values read as 0.
 *
 * A callback must be quick: the agent waits for every program of the
 * partition at most 2 s (its --app-timeout-ms) in all; a program that has
 * not answered by then counts as approving.
 */
typedef int (*dhp_change_fn)(const struct dhp_change *change, char *reason,
			     size_t reason_size, void *userdata);

/* ---- handles ------------------------------------------------------------ */

enum dhp_open_flags {
	/* Do not use dhp-agent: kernel uevents only. */
	DHP_OPEN_NO_AGENT = 1u << 0,
	/* Do not fall back to kernel uevents while the agent is away: then
	 * the transport is DHP_TRANSPORT_NONE until it comes. */
	DHP_OPEN_NO_UEVENTS = 1u << 1,
};

/*
 * Open a handle. It connects to dhp-agent's socket ($DHP_AGENT_SOCKET,
 * default /run/dhp-agent.sock) and introduces the program as
 * "APP_NAME[PID]", the name a veto is reported under; app_name NULL means
 * program_invocation_short_name (longer names are cut). It waits up to 1 s
 * for the agent's hello. Without an agent it listens to kernel uevents
 * (unless DHP_OPEN_NO_UEVENTS) and keeps trying the agent in the
 * background (unless DHP_OPEN_NO_AGENT), switching to it when it comes.
 *
 * flags: enum dhp_open_flags. On success *ret is a handle the caller frees
 * with dhp_close().
 * Errors: -EINVAL (ret NULL, unknown flags, both NO_ flags), -ENAMETOOLONG
 * (DHP_AGENT_SOCKET too long for a unix socket), -ENOMEM, -EMFILE and
 * other errors of the system calls; with DHP_OPEN_NO_AGENT, the error of
 * the netlink socket (-EPROTONOSUPPORT, -EPERM in some sandboxes).
 */
DHP_PUBLIC int dhp_open(struct dhp **ret, const char *app_name, uint32_t flags);

/*
 * Close a handle: stop its helper thread, free its registrations, close
 * its descriptors. NULL is a no-op. Never call it from a callback.
 */
DHP_PUBLIC void dhp_close(struct dhp *dhp);

/* ---- the event loop ----------------------------------------------------- */

/*
 * A file descriptor that becomes readable when dhp_dispatch() has work. It
 * is an epoll descriptor (it watches the agent's socket, the netlink
 * socket and a reconnection timer): put it in poll(), epoll or libuv's
 * uv_poll for POLLIN, level-triggered. It stays the same for the handle's
 * life, whatever the transport. Do not read it or close it.
 * Returns the descriptor, or -EINVAL.
 */
DHP_PUBLIC int dhp_get_fd(struct dhp *dhp);

/*
 * Do what is pending, without blocking: read the agent's requests and the
 * kernel's uevents, run the callbacks, answer the agent, reconnect. Call it
 * when the descriptor is readable (calling it at other times is harmless).
 * Returns the number of notifications handled (0 or more), or -EINVAL,
 * -EBUSY (the helper thread runs, or called from a callback), -ENOMEM.
 * Losing the agent is not an error: see dhp_set_transport_callback().
 */
DHP_PUBLIC int dhp_dispatch(struct dhp *dhp);

/*
 * For programs without an event loop: a thread that waits on the
 * descriptor and dispatches. Callbacks then run on it (see Threads above).
 * While it runs, dhp_dispatch() returns -EBUSY. The thread blocks every
 * signal. Returns 0, -EALREADY if it runs, or pthread_create's error.
 */
DHP_PUBLIC int dhp_start_thread(struct dhp *dhp);

/*
 * Stop the helper thread and wait for it (a callback running finishes
 * first). Returns 0 (also when none runs), -EINVAL, or -EDEADLK when
 * called from a callback. dhp_close() stops it too.
 */
DHP_PUBLIC int dhp_stop_thread(struct dhp *dhp);

/* ---- transports --------------------------------------------------------- */

enum dhp_transport {
	/* Nothing: the agent is away and DHP_OPEN_NO_UEVENTS was given. */
	DHP_TRANSPORT_NONE = 0,
	/* dhp-agent: every phase, and vetoes reach dhp. */
	DHP_TRANSPORT_AGENT = 1,
	/* Kernel uevents: add-complete and remove-complete only (a processor
	 * or memory block going online or offline, a PCI function appearing
	 * or going), no start or failure phases, no vetoes, no replace. */
	DHP_TRANSPORT_UEVENT = 2,
	DHP_TRANSPORT_MAX
};

/* The transport in use now (enum dhp_transport), or -EINVAL. */
DHP_PUBLIC int dhp_transport(struct dhp *dhp);

/*
 * Told when the transport changes, and when notifications may have been
 * lost: transport is the new (or current) enum dhp_transport, error 0 or
 * a negative errno saying why:
 *   -ECONNRESET     the agent closed the connection (it stopped or
 *                   restarted); changes made until it is back may be missed
 *   -ENFILE         the agent refused the program (too many programs)
 *   -EPROTONOSUPPORT the agent speaks a newer protocol
 *   -ENOBUFS        the kernel dropped uevents (too many at once)
 *   0               the agent is (back) in use
 * When changes may have been missed, read the queries below again. Runs
 * like a callback (same thread, same lock). fn NULL removes it.
 * Returns 0 or -EINVAL.
 */
typedef void (*dhp_transport_fn)(struct dhp *dhp, uint32_t transport, int error,
				 void *userdata);
DHP_PUBLIC int dhp_set_transport_callback(struct dhp *dhp, dhp_transport_fn fn,
					  void *userdata);

/* ---- registrations ------------------------------------------------------ */

enum dhp_register_flags {
	/* Before dhp_register() returns, call fn with add-complete, flagged
	 * DHP_CHANGE_EXISTING, for each processor online now (kind
	 * processor) and each range of online memory (kind memory; consecutive
	 * blocks of one NUMA node are one range), as Windows'
	 * KE_PROCESSOR_CHANGE_ADD_EXISTING does. I/O is not replayed. */
	DHP_REGISTER_ADD_EXISTING = 1u << 0,
};

/*
 * Call fn(change, reason, reason_size, userdata) for every change of the
 * kinds given (an OR of enum dhp_kind). Callbacks run in registration
 * order; at a vetoable phase the first veto stops the chain, and those that
 * approved before it are told the failure phase, in reverse order. A
 * registration made inside a callback sees the next notification, not the
 * current one.
 * flags: enum dhp_register_flags. On success *ret is the registration,
 * which dhp_unregister() or dhp_close() frees. When a replayed callback
 * unregisters it (ADD_EXISTING), *ret is NULL.
 * Errors: -EINVAL (NULL dhp, fn or ret, no or unknown kinds or flags),
 * -ENOMEM.
 */
DHP_PUBLIC int dhp_register(struct dhp *dhp, uint32_t kinds, uint32_t flags,
			    dhp_change_fn fn, void *userdata,
			    struct dhp_registration **ret);

/*
 * Stop calling a registration's callback and free it. Safe inside any
 * callback, its own included (the free is deferred until the callback
 * returns). Outside a callback, once it returns the callback is not running
 * and will not run again, so userdata may be freed. NULL is a no-op.
 */
DHP_PUBLIC void dhp_unregister(struct dhp_registration *reg);

/* ---- queries: read from sysfs at each call, never stale ----------------- */

/*
 * The processors online now, as a bit mask: bit (i % 64) of mask[i / 64]
 * is processor i. Any number of processors (not capped at 1,024 as
 * cpu_set_t is): size mask with dhp_cpus_possible(). Words past the last
 * processor are cleared. *ret_count is the number of online processors.
 * mask may be NULL when n_words is 0.
 * Errors: -ENOBUFS when mask has too few words: then, as an exception,
 * *ret_count is set to the number of words needed; -EINVAL; -ENOENT or
 * another read error of devices/system/cpu/online; -EIO when its content
 * is not a cpulist.
 */
DHP_PUBLIC int dhp_cpus_online(struct dhp *dhp, uint64_t *mask, size_t n_words,
			       uint32_t *ret_count);

/*
 * The most processors the kernel can ever have online (its possible mask):
 * one more than the highest possible processor number, so the size in bits
 * of a mask that holds any set of online processors.
 * Errors: -EINVAL, read errors of devices/system/cpu/possible.
 */
DHP_PUBLIC int dhp_cpus_possible(struct dhp *dhp, uint32_t *ret_max);

/*
 * The physical memory online now, in bytes: online memory blocks times the
 * block size (every block counts, also what the kernel reserves for
 * itself), or, when the kernel has no memory hotplug, _SC_PHYS_PAGES times
 * the page size. Reads one file per memory block.
 * Errors: -EINVAL, read errors of devices/system/memory.
 */
DHP_PUBLIC int dhp_memory_size(struct dhp *dhp, uint64_t *ret_bytes);

/* ---- names, for messages ------------------------------------------------ */

/* "add-start", ..., as dhp spells them; "?" for an unknown value. */
DHP_PUBLIC const char *dhp_phase_name(uint32_t phase);
/* 1 for add-start and remove-query, else 0. */
DHP_PUBLIC int dhp_phase_vetoable(uint32_t phase);
/* "processor", "memory", "io" for one kind; "?" otherwise. */
DHP_PUBLIC const char *dhp_kind_name(uint32_t kind);
/* "none", "agent", "uevent"; "?" otherwise. */
DHP_PUBLIC const char *dhp_transport_name(uint32_t transport);

#ifdef __cplusplus
}
#endif

#endif
