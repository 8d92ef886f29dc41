/* SPDX-License-Identifier: MIT */
/*
 * dhpctl, the command-line client of dhpd. It speaks only the public
 * Redfish API (docs/redfish.md) and includes nothing of dhp's own layers,
 * so everything it does, any Redfish client can do. docs/dhpctl.md is its
 * manual.
 *
 * One program, one file per job:
 *   main.c          options, start-up, exit codes
 *   commands.c      the command table; help.c: --help from it
 *   config.c        where the endpoint and the credentials come from;
 *                   config-file.c: reading dhpctl.conf
 *   http.c          requests with libcurl; http-setup.c: URL, TLS, auth;
 *                   http-error.c: failures as messages and exit codes;
 *                   http-session.c: one login for a run of many requests
 *   sse.c           the event stream, resumable; sse-parse.c: its parser
 *   task.c          sending a change and following it to its outcome
 *   collection.c    reading a collection's members
 *   output.c        tables, JSON, error lines; util.c: JSON paths, names, time
 *   cmd-*.c         the verbs: units.c (server, units, power-on/off),
 *                   partitions.c (partitions, create, delete, start, stop,
 *                   restart), compose.c (add, remove, replace), ops.c,
 *                   events.c, login.c, console.c (a partition's console log)
 */
#ifndef DHPCTL_DHPCTL_H
#define DHPCTL_DHPCTL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROG "dhpctl"
#define DHPCTL_VERSION "0.1"

/* Exit codes: one meaning each, listed in --help and docs/dhpctl.md. */
enum ctl_exit {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAILED = 1,		/* the operation failed or was rolled back */
	CTL_EXIT_USAGE = 2,		/* bad command line or configuration */
	CTL_EXIT_REFUSED = 3,		/* the server refused: 4xx but 401/403, or 501 */
	CTL_EXIT_AUTH = 4,		/* 401 or 403 */
	CTL_EXIT_UNREACHABLE = 5,	/* connection, TLS, protocol, other 5xx */
	CTL_EXIT_INTERRUPTED = 130,	/* Ctrl-C while waiting */
};

/*
 * What went wrong, as it will be printed: "dhpctl: <message>" and
 * "  hint: <hint>". Functions return 0 or a negative errno and fill a
 * struct ctl_error; only main and the verbs print it. The first error set
 * is kept, as in docs/errors.md.
 */
struct ctl_error {
	int exit_code;			/* enum ctl_exit; 0 while unset */
	char message[1024];
	char hint[1024];
};

/*
 * Record an error; hint may be NULL. Returns the negative errno of the
 * exit class (usage -EINVAL, refused -EPERM, auth -EACCES, unreachable
 * -EIO, failed -ECANCELED, interrupted -EINTR) so callers can
 * "return ctl_error_set(...)".
 */
__attribute__((format(printf, 4, 5)))
int ctl_error_set(struct ctl_error *err, int exit_code, const char *hint, const char *fmt, ...);
/* Print err once on stderr (after flushing stdout); returns its exit code. */
int ctl_error_print(const struct ctl_error *err);
/* Print a usage error and return CTL_EXIT_USAGE. */
__attribute__((format(printf, 1, 2)))
int ctl_usage(const char *fmt, ...);

/* ---- the resolved configuration (config.c) ---- */

struct ctl_config {
	char *url;			/* never NULL once resolved */
	char *user, *password;		/* Basic auth, when token is NULL */
	char *token;			/* X-Auth-Token */
	char *cacert;			/* NULL: the system's CA store */
	bool insecure;			/* --insecure: no TLS verification */
	long timeout_s;			/* per request */
};

/* What the command line said; NULL or false where it said nothing. */
struct ctl_flags {
	const char *url, *user, *password, *password_file, *token, *cacert, *config;
	bool insecure;
	long timeout_s;			/* 0: default */
	bool need_password;		/* login: a token is no use */
};

#define CTL_DEFAULT_URL "https://127.0.0.1:8443"
#define CTL_DEFAULT_TIMEOUT_S 30

/* Flags beat the environment, which beats the configuration file.
 * Release with ctl_config_release(). */
int ctl_config_resolve(const struct ctl_flags *flags, struct ctl_config *ret_cfg,
		       struct ctl_error *err);
void ctl_config_release(struct ctl_config *cfg);

/* ---- the program's state, shared by the verbs ---- */

struct http;

struct ctl {
	struct ctl_config cfg;
	struct http *http;
	bool json;			/* -o json */
	bool no_wait;			/* --no-wait */
	int expand;			/* $expand support: -1 unknown, 0 no, 1 yes */
	char expand_query[48];		/* "$expand=.($levels=1)" when supported */
	bool select;			/* $select supported (with expand known) */
};

/* Set by SIGINT/SIGTERM; long waits and transfers stop when it is. */
bool ctl_interrupted(void);

/* ---- verbs (main.c holds the table) ---- */

#define CTL_MAX_OPTIONS 8

struct ctl_option {
	const char *name;		/* long name without "--" */
	const char *arg;		/* its argument's name, or NULL for a flag */
	const char *help;
};

/* A verb's parsed command line: positionals and its own options. */
struct ctl_args {
	int n;
	char **v;
	const char *opt[CTL_MAX_OPTIONS];	/* NULL unset; "" a flag that is set */
};

struct ctl_cmd {
	const char *name;
	const char *synopsis;		/* after the verb: "NAME UNIT... [--on-restart]" */
	const char *summary;		/* one line for the verb list */
	const char *help;		/* a paragraph for VERB --help */
	const char *example;
	struct ctl_option options[CTL_MAX_OPTIONS];
	int min_args, max_args;		/* positionals; max -1: no limit */
	int (*run)(struct ctl *ctl, const struct ctl_args *args);	/* an exit code */
};

int cmd_server(struct ctl *ctl, const struct ctl_args *args);	/* cmd-units.c */
int cmd_units(struct ctl *ctl, const struct ctl_args *args);
int cmd_power(struct ctl *ctl, const struct ctl_args *args);	/* power-on, power-off */
int cmd_partitions(struct ctl *ctl, const struct ctl_args *args);	/* cmd-partitions.c */
int cmd_create(struct ctl *ctl, const struct ctl_args *args);
int cmd_create_sized(struct ctl *ctl, const struct ctl_args *args);	/* cmd-plan.c */
int cmd_resize_sized(struct ctl *ctl, const struct ctl_args *args);	/* cmd-plan.c */
int cmd_delete(struct ctl *ctl, const struct ctl_args *args);
int cmd_reset(struct ctl *ctl, const struct ctl_args *args);	/* start, stop, restart */
int cmd_add(struct ctl *ctl, const struct ctl_args *args);	/* cmd-compose.c */
int cmd_remove(struct ctl *ctl, const struct ctl_args *args);
int cmd_replace(struct ctl *ctl, const struct ctl_args *args);
int cmd_resize(struct ctl *ctl, const struct ctl_args *args);	/* cmd-plans.c */
int cmd_move(struct ctl *ctl, const struct ctl_args *args);
int cmd_spare(struct ctl *ctl, const struct ctl_args *args);
int cmd_ops(struct ctl *ctl, const struct ctl_args *args);	/* cmd-ops.c */
int cmd_events(struct ctl *ctl, const struct ctl_args *args);	/* cmd-events.c */
int cmd_login(struct ctl *ctl, const struct ctl_args *args);	/* cmd-login.c */
int cmd_console(struct ctl *ctl, const struct ctl_args *args);	/* cmd-console.c */

/* The verb being run (power-on/off and start/stop/restart share a
 * function). Set by main before run(). */
extern const struct ctl_cmd *ctl_current_cmd;

/* The value of the running verb's option called name: NULL when not
 * given, "" for a flag that is. */
const char *ctl_arg_opt(const struct ctl_args *args, const char *name);

/* ---- reading collections (collection.c) ---- */

/* Every member of the collection at path, each a whole resource (with
 * $expand when the service has it, else one GET per member), following
 * Members@odata.nextLink. select ("Id,Status/Health", NULL: everything)
 * names the properties the caller reads, for a service that takes
 * $select: a listing of thousands of units is then a third of the bytes.
 * Caller frees *ret_members (a JSON array). */
int collection_get(struct ctl *ctl, const char *path, const char *select,
		   json_t **ret_members, struct ctl_error *err);

/* ---- output (output.c) ---- */

enum col_format {
	COL_TEXT,			/* string, number, or "-" for null */
	COL_GIB,			/* a number of GiB: "4 GiB" */
	COL_MIB,			/* a number of MiB: "512 MiB", "2 GiB" */
	COL_MS,				/* a number of ms: "523 ms" */
	COL_LIST,			/* an array of strings, space-separated */
};

struct col {
	const char *key;		/* in each row object (and in -o json) */
	const char *header;
	enum col_format format;
	bool right;			/* right-aligned */
};

struct table {
	const struct col *cols;
	unsigned n_cols;
	const char *note_key;		/* printed under its row when set, or NULL */
	const char *empty;		/* printed instead of an empty table */
	json_t *rows;			/* array of objects; the caller owns it */
};

/* The table as text, or its rows as a JSON array with -o json. */
void table_print(const struct ctl *ctl, const struct table *t);
/* JSON on stdout, indented, keys in the server's order. */
void json_print(const json_t *json);

/* ---- helpers (util.c) ---- */

/* The value at a '/'-separated path of object keys ("Oem/Dhp/Type"), or NULL. */
json_t *jget(const json_t *json, const char *path);
/* A string at path, or dflt. */
const char *jstr(const json_t *json, const char *path, const char *dflt);
/* An integer at path (a JSON integer, or a string of digits such as "Id"). */
bool jint(const json_t *json, const char *path, long long *ret_value);
/* The last segment of a reference's "@odata.id" (or of a string), or NULL. */
const char *ref_id(const json_t *ref);
/* {"@odata.id": prefix + "/" + id}, or NULL when out of memory. */
json_t *ref_new(const char *prefix, const char *id);

/* A partition name or unit id: [A-Za-z0-9._-]{1,63}, not "." or "..",
 * as they go into URIs unescaped. */
bool ctl_valid_name(const char *name);
/* Server text made to read like ours: lowercase first letter (unless an
 * acronym), no final period. In place. */
void ctl_tidy(char *text);

/* A Redfish DateTime ("2024-05-01T12:00:00.123+00:00") in ms since the
 * epoch; *ret_precise says whether it had a fraction of a second. */
int parse_time_ms(const char *text, int64_t *ret_ms, bool *ret_precise);
/* Local time "YYYY-MM-DD HH:MM:SS.mmm". */
void format_time_ms(int64_t ms, char *buf, size_t len);
/* A monotonic clock in ms. */
uint64_t now_ms(void);
/* Sleep; -EINTR as soon as the user interrupts. */
int sleep_ms(unsigned ms);
/* snprintf at *pos of buf, never past len; *pos saturates at len. */
__attribute__((format(printf, 4, 5)))
void buf_add(char *buf, size_t len, size_t *pos, const char *fmt, ...);

/* ---- following operations (task.c) ---- */

/*
 * Send a change (method, path, body, If-Match: each as for http_call) and
 * see it through: 202 follows the task (each phase as it comes, then the
 * outcome line; with --no-wait only its id); 200/201/204 print done_text.
 * Errors are printed. Returns the exit code: 0, 1 when the operation
 * failed or was rolled back, or the error's (task.c).
 */
int ctl_change(struct ctl *ctl, const char *method, const char *path, const json_t *body,
	       const char *if_match, const char *done_text);
/* Follow a task to its end from its monitor (or the task's own URI). */
int task_follow(struct ctl *ctl, const char *monitor, json_t *task, uint64_t t0_ms);
/* "hot-add s0-cpu1 -> web", from the task's Oem.Dhp. */
void task_describe(const json_t *task, char *buf, size_t len);
/* dhp's state word of a task: queued, running, completed, failed, rolled-back. */
const char *task_state(const json_t *task);
bool task_state_final(const char *state);
/* Duration in ms from StartTime/EndTime, or -1 when unknown or imprecise. */
long long task_took_ms(const json_t *task);
/* "operation 12 hot-add s0-cpu1 -> web: completed (523 ms)" and, when it
 * did not complete, its reason and hint. The time is the task's own
 * (StartTime to EndTime) when precise to the ms, else took_ms (-1: none). */
void task_print_outcome(const json_t *task, long long took_ms);

#endif
