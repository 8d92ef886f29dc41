/* SPDX-License-Identifier: MIT */
/*
 * dhpd: the daemon. Shared by its files: options.c (command line and
 * config file), state-dir.c (state directory, lock, admin account), tls.c
 * (the certificate), log-limit.c (libmicrohttpd's lines at a bounded
 * rate), main.c (start-up, loop, shutdown). docs/dhpd.md is
 * its manual.
 */
#ifndef DHP_DHPD_DHPD_H
#define DHP_DHPD_DHPD_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"
#include "common/loop.h"
#include "http/http.h"

#define DHPD_VERSION "0.1.0"
#define DHPD_PATH_MAX 4096
#define DHPD_DEFAULT_LISTEN "127.0.0.1:8443"
#define DHPD_DEFAULT_STATE_DIR "/var/lib/dhp"
#define DHPD_DEFAULT_SERVER "sim:topologies/demo"
/* The console's files: the build tree's (the Makefile's CONSOLE_DIR). */
#ifndef DHPD_CONSOLE_DIR
#define DHPD_CONSOLE_DIR "console"
#endif
#define DHPD_DEFAULT_LATENCY_MS 40u
#define DHPD_DEFAULT_MAX_SESSIONS 64u
#define DHPD_DEFAULT_MAX_SESSIONS_PER_USER 16u
#define DHPD_DEFAULT_MAX_SSE_CLIENTS 1024u
#define DHPD_DEFAULT_EVENT_RETRY_ATTEMPTS 3
#define DHPD_DEFAULT_EVENT_RETRY_INTERVAL_S 30
/* A partition's boot under TCG may take the QEMU backend's 60 s. */
#define DHPD_QEMU_PHASE_DEADLINE_MS 90000u

struct dhpd_options {
	char listen[128];
	char state_dir[DHPD_PATH_MAX];
	char server[DHPD_PATH_MAX];		/* "sim:TOPOLOGY" or "qemu:TOPOLOGY" */
	char accel[16];				/* qemu: "tcg", "kvm" or "auto" */
	char guest_append[1024];		/* qemu: more kernel parameters */
	char config[DHPD_PATH_MAX];
	char admin_password_file[DHPD_PATH_MAX];
	char sim_faults[1024];
	char console_dir[DHPD_PATH_MAX];	/* "": DHPD_CONSOLE_DIR, if it is there */
	bool no_tls;
	uint32_t phase_deadline_ms;		/* 0: the engine's default */
	uint32_t sim_latency_ms;
	uint32_t session_timeout_s;		/* 0: auth's default */
	uint32_t hash_iterations;		/* 0: auth's default */
	struct http_limits limits;		/* the HTTP server's */
	uint32_t max_sessions;			/* auth's */
	uint32_t max_sessions_per_user;		/* auth's */
	uint32_t max_sse_clients;		/* redfish's */
	uint32_t task_retention;		/* the store's: finished operations kept */
	uint32_t event_retention;		/* the store's: events kept */
	uint32_t event_retry_attempts;		/* redfish's: push retries */
	uint32_t event_retry_interval_s;	/* redfish's: between them */
	uint32_t reservation_lifetime_s;	/* redfish's: 0 is its default, 300 */
	char event_ca_file[DHPD_PATH_MAX];	/* push: CAs for https receivers ("": the system's) */
	/* Parsed from listen. */
	char address[64];
	uint16_t port;
};

enum dhpd_parse {
	DHPD_RUN,		/* options ready */
	DHPD_EXIT_OK,		/* --help or --version printed */
};

/*
 * The command line, then the config file (--config) for what the command
 * line did not say. Returns enum dhpd_parse, or -EINVAL with err set.
 */
int dhpd_options_parse(int argc, char **argv, struct dhpd_options *opt, struct dhp_error *err);

/*
 * console.c: the web console's files under /console/ (docs/console.md),
 * read from dir at start-up (NULL or "": none, every /console/ path is
 * 404). Errors: -ENOENT (no folder, or no index.html in it), -EFBIG,
 * -EIO, -ENOMEM. Free with dhpd_console_free() (accepts NULL), after the
 * HTTP server.
 */
struct dhpd_console;
int dhpd_console_new(const char *dir, struct dhpd_console **ret_console, struct dhp_error *err);
void dhpd_console_free(struct dhpd_console *console);
/* How many files it serves; the text of one (NULL if it has none). */
unsigned dhpd_console_files(const struct dhpd_console *console);
const char *dhpd_console_find(const struct dhpd_console *console, const char *name);
/* The HTTP server's handler: /console and /console/... served here,
 * everything else (and every refusal) passed to next. */
struct http_handler dhpd_console_handler(struct dhpd_console *console, struct http_handler next);

/* Logging: "dhpd: ..." on stderr, once, lowercase (STYLE.md 7). */
__attribute__((format(printf, 1, 2)))
void dhpd_log(const char *fmt, ...);
/* An error and its resolution, as STYLE.md says programs print them. */
void dhpd_log_error(const struct dhp_error *err);

/* log-limit.c: lines from one source (libmicrohttpd) at a bounded rate,
 * per call site (key: its format string). */
#define DHPD_LOG_SITES 32
struct dhpd_log_site {
	const void *key;
	unsigned written, dropped;	/* in this window */
	char first[160];		/* its first line in this window */
};
struct dhpd_log_limit {
	struct dhp_loop *loop;		/* borrowed; NULL: no limit */
	struct dhp_timer *timer;	/* the window's end */
	struct dhpd_log_site sites[DHPD_LOG_SITES];
	unsigned n_sites;
};
void dhpd_log_limit_init(struct dhpd_log_limit *l, struct dhp_loop *loop);
/* Log "http: LINE", or count it when its site has written its share. */
void dhpd_log_limited(struct dhpd_log_limit *l, const void *key, const char *line);
/* Say what was counted and not written; no limit after. */
void dhpd_log_limit_release(struct dhpd_log_limit *l);

/* "DIR/NAME" into buf; -ENAMETOOLONG. */
int dhpd_path(char *buf, size_t len, const char *dir, const char *name, struct dhp_error *err);

/* state-dir.c */
/* mkdir -p DIR (0700), and an exclusive lock on DIR/dhpd.lock: *ret_fd. */
int dhpd_state_open(const char *dir, int *ret_fd, struct dhp_error *err);
struct auth;
/* An accounts file without accounts gets "admin" (Administrator), with the
 * password of password_file or a generated one in DIR/admin-password. */
int dhpd_state_admin(struct auth *auth, const char *dir, const char *password_file,
		     struct dhp_error *err);

/* tls.c */
/* DIR/tls/cert.pem and key.pem, made (self-signed) if missing. Caller
 * frees both strings. */
int dhpd_tls_material(const char *dir, char **ret_cert, char **ret_key, struct dhp_error *err);

#endif
