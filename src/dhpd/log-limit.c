/* SPDX-License-Identifier: MIT */
/*
 * libmicrohttpd's diagnostics, at a bounded rate.
 *
 * Many of MHD's lines are about one connection and are caused by its
 * client: a TLS handshake that failed ("received handshake message out
 * of context", one per scanner's or health check's connect-and-close),
 * a client gone mid-request, an error answer. One line each lets any
 * client write as much as it likes to dhpd's log (74,000 lines in one
 * test). So each call site of MHD's (its format string) may write
 * LIMIT_BURST lines per LIMIT_WINDOW_MS; beyond that its lines are
 * counted, and one line says how many there were when the window ends
 * (or dhpd stops). A rare line, a real error, is always written: the
 * limit is per call site, not shared.
 */
#include "dhpd/dhpd.h"

#include <stdio.h>
#include <string.h>

#define LIMIT_WINDOW_MS 60000u
#define LIMIT_BURST 5u

static void summarise(struct dhpd_log_limit *l)
{
	for (unsigned i = 0; i < l->n_sites; i++) {
		struct dhpd_log_site *site = &l->sites[i];

		if (site->dropped)
			dhpd_log("http: %u more like \"%s\" in the last %u s", site->dropped,
				 site->first, (unsigned)(LIMIT_WINDOW_MS / 1000));
	}
	l->n_sites = 0;		/* a new window */
}

static void on_window_end(void *arg)
{
	struct dhpd_log_limit *l = arg;

	l->timer = NULL;
	summarise(l);
}

static struct dhpd_log_site *site_of(struct dhpd_log_limit *l, const void *key,
				     const char *line)
{
	struct dhpd_log_site *site;

	for (unsigned i = 0; i < l->n_sites; i++)
		if (l->sites[i].key == key)
			return &l->sites[i];
	/* Sites beyond the table share its last entry. */
	site = &l->sites[l->n_sites < DHPD_LOG_SITES ? l->n_sites++ : DHPD_LOG_SITES - 1];
	if (site->key != key || !site->first[0]) {
		*site = (struct dhpd_log_site){ .key = key };
		snprintf(site->first, sizeof(site->first), "%s", line);
	}
	return site;
}

void dhpd_log_limit_init(struct dhpd_log_limit *l, struct dhp_loop *loop)
{
	memset(l, 0, sizeof(*l));
	l->loop = loop;
}

void dhpd_log_limited(struct dhpd_log_limit *l, const void *key, const char *line)
{
	struct dhpd_log_site *site;

	if (!l->loop) {		/* not started, or stopped: no window to keep */
		dhpd_log("http: %s", line);
		return;
	}
	if (!l->timer) {
		l->timer = dhp_timer_add(l->loop, LIMIT_WINDOW_MS, on_window_end, l);
		l->n_sites = 0;
	}
	site = site_of(l, key, line);
	if (site->written < LIMIT_BURST) {
		site->written++;
		dhpd_log("http: %s", line);
	} else {
		site->dropped++;
	}
}

void dhpd_log_limit_release(struct dhpd_log_limit *l)
{
	if (!l->loop)
		return;
	dhp_timer_cancel(l->loop, l->timer);
	l->timer = NULL;
	summarise(l);
	l->loop = NULL;
}
