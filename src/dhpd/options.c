/* SPDX-License-Identifier: MIT */
/*
 * dhpd's options: one table serves the command line (--KEY VALUE) and the
 * config file (KEY = VALUE lines), so the two cannot drift apart. The
 * command line wins: the file only fills in what the command line did not
 * say.
 */
#include "dhpd/dhpd.h"
#include "core/store.h"

#include <arpa/inet.h>
#include <getopt.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum opt_type { T_STR, T_BOOL, T_NUM };

struct opt_desc {
	const char *name;
	enum opt_type type;
	size_t offset, size;		/* the field in struct dhpd_options */
	const char *arg;
	const char *help;
};

#define FIELD(f) offsetof(struct dhpd_options, f), sizeof(((struct dhpd_options *)0)->f)

static const struct opt_desc descs[] = {
	{ "listen", T_STR, FIELD(listen), "ADDR:PORT",
	  "address to serve on (default " DHPD_DEFAULT_LISTEN "; [::1]:PORT for IPv6; port 0: any)" },
	{ "state-dir", T_STR, FIELD(state_dir), "DIR",
	  "state directory, created 0700 (default " DHPD_DEFAULT_STATE_DIR ")" },
	{ "server", T_STR, FIELD(server), "sim|qemu:TOPOLOGY",
	  "the server to manage (default " DHPD_DEFAULT_SERVER ")" },
	{ "accel", T_STR, FIELD(accel), "tcg|kvm|auto",
	  "QEMU's accelerator for qemu: servers (default auto: TCG; docs/qemu.md)" },
	{ "guest-append", T_STR, FIELD(guest_append), "ARGS",
	  "qemu: more kernel parameters for every guest started (dhp.apps=...)" },
	{ "no-tls", T_BOOL, FIELD(no_tls), NULL, "plain HTTP; only on a loopback address" },
	{ "admin-password-file", T_STR, FIELD(admin_password_file), "FILE",
	  "first start: the admin password (else one is made, in DIR/admin-password)" },
	{ "console-dir", T_STR, FIELD(console_dir), "DIR",
	  "the web console's files, served under /console/ (default " DHPD_CONSOLE_DIR ")" },
	{ "sim-faults", T_STR, FIELD(sim_faults), "SPEC", "inject faults (docs/sim.md)" },
	{ "sim-latency-ms", T_NUM, FIELD(sim_latency_ms), "MS",
	  "delay of every simulated hardware answer (default 40)" },
	{ "phase-deadline-ms", T_NUM, FIELD(phase_deadline_ms), "MS",
	  "time limit of each operation phase (default 30000)" },
	{ "session-timeout-s", T_NUM, FIELD(session_timeout_s), "S",
	  "idle sessions end after S seconds (default 1800)" },
	{ "hash-iterations", T_NUM, FIELD(hash_iterations), "N",
	  "PBKDF2 iterations for new passwords (default 100000; tests lower it)" },
	{ "max-body", T_NUM, FIELD(limits.max_body), "BYTES", "request body limit (65536)" },
	{ "max-header", T_NUM, FIELD(limits.max_header), "BYTES", "request headers limit (16384)" },
	{ "max-json-depth", T_NUM, FIELD(limits.max_json_depth), "N", "JSON nesting limit (32)" },
	{ "max-connections", T_NUM, FIELD(limits.max_connections), "N", "open connections (4096)" },
	{ "header-timeout-ms", T_NUM, FIELD(limits.header_timeout_ms), "MS",
	  "time for a request's headers, from connect or the last answer (10000; 0: none)" },
	{ "max-sessions", T_NUM, FIELD(max_sessions), "N", "sessions (64)" },
	{ "max-sessions-per-user", T_NUM, FIELD(max_sessions_per_user), "N",
	  "sessions of one account (16)" },
	{ "max-sse-clients", T_NUM, FIELD(max_sse_clients), "N", "event streams (1024)" },
	{ "task-retention", T_NUM, FIELD(task_retention), "N",
	  "finished operations (Tasks) kept; older ones are pruned (1000; 0: all)" },
	{ "event-retention", T_NUM, FIELD(event_retention), "N",
	  "events kept for the stream and Task messages (10000; 0: all)" },
	{ "event-retry-attempts", T_NUM, FIELD(event_retry_attempts), "N",
	  "push subscriptions: retries of a failed delivery (3)" },
	{ "event-retry-interval-s", T_NUM, FIELD(event_retry_interval_s), "S",
	  "push subscriptions: seconds between retries (30)" },
	{ "reservation-lifetime-s", T_NUM, FIELD(reservation_lifetime_s), "S",
	  "composition reservations: seconds a reservation holds its blocks (300)" },
	{ "event-ca-file", T_STR, FIELD(event_ca_file), "FILE",
	  "push subscriptions: CAs that https receivers are verified with (the system's)" },
};

#define N_DESCS (sizeof(descs) / sizeof(descs[0]))
enum { OPT_CONFIG = 256, OPT_HELP, OPT_VERSION };

static int set_value(struct dhpd_options *opt, const struct opt_desc *d, const char *value,
		     const char *where, struct dhp_error *err)
{
	char *field = (char *)opt + d->offset, *end = NULL;
	unsigned long long v;

	if (d->type == T_STR) {
		if (strlen(value) >= d->size)
			return dhp_error_set(err, -EINVAL, "%s: %s is too long", where, d->name);
		memcpy(field, value, strlen(value) + 1);
		return 0;
	}
	if (d->type == T_BOOL) {
		bool b = !strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1");

		if (!b && strcmp(value, "false") && strcmp(value, "no") && strcmp(value, "0"))
			return dhp_error_set(err, -EINVAL, "%s: %s takes true or false", where,
					     d->name);
		*(bool *)field = b;
		return 0;
	}
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno || end == value || *end || value[0] == '-' ||
	    (d->size == 4 && v > UINT32_MAX))
		return dhp_error_set(err, -EINVAL, "%s: %s takes a whole number, not \"%s\"",
				     where, d->name, value);
	if (d->size == 4)
		*(uint32_t *)field = (uint32_t)v;
	else
		*(uint64_t *)field = v;
	return 0;
}

static char *trim(char *s)
{
	char *end = s + strlen(s);

	while (*s == ' ' || *s == '\t')
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n' || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static const struct opt_desc *find_desc(const char *name)
{
	for (size_t i = 0; i < N_DESCS; i++)
		if (!strcmp(descs[i].name, name))
			return &descs[i];
	return NULL;
}

/* KEY = VALUE lines, # comments; a key the command line gave is skipped. */
static int read_config(struct dhpd_options *opt, const bool *seen, struct dhp_error *err)
{
	char line[DHPD_PATH_MAX + 64], where[DHPD_PATH_MAX + 32];
	FILE *f = fopen(opt->config, "re");
	unsigned n = 0;
	int r = 0;

	if (!f)
		return dhp_error_set(err, -errno, "cannot read %s: %s", opt->config,
				     strerror(errno));
	while (!r && fgets(line, sizeof(line), f)) {
		char *key = trim(line), *eq = strchr(key, '=');
		const struct opt_desc *d;

		snprintf(where, sizeof(where), "%s:%u", opt->config, ++n);
		if (!*key || *key == '#')
			continue;
		if (!eq) {
			r = dhp_error_set(err, -EINVAL, "%s: expected KEY = VALUE", where);
			break;
		}
		*eq = '\0';
		d = find_desc(trim(key));
		if (!d)
			r = dhp_error_set(err, -EINVAL, "%s: unknown key \"%s\"", where, trim(key));
		else if (!seen[d - descs])
			r = set_value(opt, d, trim(eq + 1), where, err);
	}
	fclose(f);
	return r;
}

static bool is_loopback(const char *address)
{
	struct in_addr a4;
	struct in6_addr a6;

	if (inet_pton(AF_INET, address, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	return inet_pton(AF_INET6, address, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* "1.2.3.4:PORT" or "[::1]:PORT". */
static int parse_listen(struct dhpd_options *opt, struct dhp_error *err)
{
	const char *l = opt->listen, *colon = strrchr(l, ':'), *start = l;
	size_t n = colon ? (size_t)(colon - l) : 0;
	char *end = NULL;
	unsigned long port;

	if (l[0] == '[' && n >= 2 && l[n - 1] == ']')
		start = l + 1, n -= 2;
	if (!colon || !n || n >= sizeof(opt->address))
		return dhp_error_set(err, -EINVAL, "--listen %s: expected ADDR:PORT", l);
	memcpy(opt->address, start, n);
	opt->address[n] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || end == colon + 1 || *end || port > 65535)
		return dhp_error_set(err, -EINVAL, "--listen %s: bad port", l);
	opt->port = (uint16_t)port;
	return 0;
}

static void print_help(void)
{
	printf("usage: dhpd [OPTIONS]\n\n"
	       "dhp's daemon: the Redfish service over HTTPS for a partitionable server.\n"
	       "docs/dhpd.md is its manual.\n\noptions:\n");
	for (size_t i = 0; i < N_DESCS; i++)
		printf("  --%s%s%-*s %s\n", descs[i].name, descs[i].arg ? " " : "",
		       (int)(28 - strlen(descs[i].name)), descs[i].arg ? descs[i].arg : "",
		       descs[i].help);
	printf("  --config FILE%-17s KEY = VALUE lines with the keys above\n"
	       "  --help, --version\n", "");
}

static void set_defaults(struct dhpd_options *opt)
{
	memset(opt, 0, sizeof(*opt));
	snprintf(opt->listen, sizeof(opt->listen), "%s", DHPD_DEFAULT_LISTEN);
	snprintf(opt->state_dir, sizeof(opt->state_dir), "%s", DHPD_DEFAULT_STATE_DIR);
	snprintf(opt->server, sizeof(opt->server), "%s", DHPD_DEFAULT_SERVER);
	snprintf(opt->accel, sizeof(opt->accel), "auto");
	opt->sim_latency_ms = DHPD_DEFAULT_LATENCY_MS;
	http_limits_default(&opt->limits);
	opt->max_sessions = DHPD_DEFAULT_MAX_SESSIONS;
	opt->max_sessions_per_user = DHPD_DEFAULT_MAX_SESSIONS_PER_USER;
	opt->max_sse_clients = DHPD_DEFAULT_MAX_SSE_CLIENTS;
	opt->task_retention = DHP_STORE_DEFAULT_OPS_KEPT;
	opt->event_retention = DHP_STORE_DEFAULT_EVENTS_KEPT;
	opt->event_retry_attempts = DHPD_DEFAULT_EVENT_RETRY_ATTEMPTS;
	opt->event_retry_interval_s = DHPD_DEFAULT_EVENT_RETRY_INTERVAL_S;
}

/* getopt's table, made from descs. */
static void long_options(struct option *lo)
{
	size_t i;

	for (i = 0; i < N_DESCS; i++)
		lo[i] = (struct option){ descs[i].name,
					 descs[i].type == T_BOOL ? no_argument : required_argument,
					 NULL, (int)i };
	lo[i++] = (struct option){ "config", required_argument, NULL, OPT_CONFIG };
	lo[i++] = (struct option){ "help", no_argument, NULL, OPT_HELP };
	lo[i++] = (struct option){ "version", no_argument, NULL, OPT_VERSION };
	lo[i] = (struct option){ NULL, 0, NULL, 0 };
}

static int finish(struct dhpd_options *opt, struct dhp_error *err)
{
	int r = parse_listen(opt, err);

	if (r < 0)
		return r;
	if (opt->no_tls && !is_loopback(opt->address)) {
		dhp_error_set(err, -EINVAL, "--no-tls is refused on %s: it is not a loopback address",
			      opt->address);
		return dhp_error_resolve(err, "serve plain HTTP on 127.0.0.1 or [::1] only");
	}
	if (strcmp(opt->accel, "tcg") && strcmp(opt->accel, "kvm") && strcmp(opt->accel, "auto"))
		return dhp_error_set(err, -EINVAL, "--accel takes tcg, kvm or auto, not \"%s\"",
				     opt->accel);
	for (const char *c = opt->guest_append; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return dhp_error_set(err, -EINVAL, "--guest-append: kernel parameters are "
					     "one line of printable characters");
	if (!opt->limits.max_body || !opt->limits.max_json_depth || !opt->limits.max_connections)
		return dhp_error_set(err, -EINVAL, "max-body, max-json-depth and max-connections "
				     "must not be 0");
	return 0;
}

int dhpd_options_parse(int argc, char **argv, struct dhpd_options *opt, struct dhp_error *err)
{
	struct option lo[N_DESCS + 4];
	bool seen[N_DESCS] = { false };
	int c, r;

	set_defaults(opt);
	long_options(lo);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		if (c == OPT_HELP) {
			print_help();
			return DHPD_EXIT_OK;
		}
		if (c == OPT_VERSION) {
			printf("dhpd " DHPD_VERSION "\n");
			return DHPD_EXIT_OK;
		}
		if (c == OPT_CONFIG)
			r = set_value(opt, &(struct opt_desc){ "config", T_STR, FIELD(config), 0, 0 },
				      optarg, "--config", err);
		else if (c >= 0 && (size_t)c < N_DESCS) {
			seen[c] = true;
			r = set_value(opt, &descs[c], descs[c].type == T_BOOL ? "true" : optarg,
				      "command line", err);
		} else
			r = dhp_error_set(err, -EINVAL, "unknown or incomplete option %s",
					  argv[optind - 1]);
		if (r < 0)
			return dhp_error_resolve(err, "run dhpd --help for the usage");
	}
	if (optind < argc)
		return dhp_error_set(err, -EINVAL, "unexpected argument \"%s\"", argv[optind]);
	if (opt->config[0] && (r = read_config(opt, seen, err)) < 0)
		return r;
	return finish(opt, err);
}
