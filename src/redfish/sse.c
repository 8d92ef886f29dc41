/* SPDX-License-Identifier: MIT */
/*
 * The SSE hub: every open event stream, the replay of stored events to a
 * client that is behind, and the live fan-out (docs/dhpd.md, "Event
 * stream"). The EventService resource that opens streams is
 * resources/events.c; an event's Redfish text is event-format.c's.
 *
 * Each client has a cursor: the number of the last event it was
 * considered for. The hub knows the last event the engine published, and
 * the engine publishes only committed events, in order. A client whose
 * cursor is one behind a published event is sent it at once; one further
 * behind (it resumed with Last-Event-ID, or missed something) reads the
 * store, a page each time its queue has drained, up to the last published
 * event and no further: so a resumed stream has no gap and no duplicate,
 * and never shows an event a crash could take back (the store's open
 * transaction may hold events not committed yet). Events that retention
 * pruned before the client got them are one notice (skip_pruned).
 *
 * Each open stream is also an EventDestination (subs.c), listed under
 * the EventService's Subscriptions until it ends; its DELETE ends it
 * (rf_sse_close).
 *
 * A live event is formatted once and the same bytes are queued on every
 * stream that wants it; the HTTP server then serves every stream woken in
 * this turn of the loop in one pass.
 */
#include "redfish/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PAGE 256			/* events read from the store at once */
#define PAGES_PER_TURN 8		/* then let the loop breathe */
#define LOW_WATER (256 * 1024)		/* queue bytes below which to read more */
#define KEEPALIVE_MS 15000u

struct sse_client {
	struct rf_sse *hub;
	struct http_stream *stream;
	uint64_t cursor;
	char *filter;			/* OriginResource URI, or NULL */
	char source[AUTH_SOURCE_MAX];	/* the client's address */
	struct rf_sub *sub;		/* its EventDestination (subs.c), or NULL */
	bool dead;			/* its stream is closing */
	struct dhp_timer *again;	/* more to read in the next turn */
	struct sse_client *prev, *next;
};

struct rf_sse {
	struct redfish *rf;
	uint64_t published;
	struct sse_client *clients;
	unsigned n_clients;
	struct dhp_timer *keepalive;
};

int rf_sse_new(struct redfish *rf, struct rf_sse **ret_events)
{
	struct rf_sse *hub = calloc(1, sizeof(*hub));

	if (!hub)
		return -ENOMEM;
	hub->rf = rf;
	*ret_events = hub;
	return 0;
}

static void client_free(struct sse_client *c)
{
	struct rf_sse *hub = c->hub;

	if (c->prev)
		c->prev->next = c->next;
	else if (hub->clients == c)
		hub->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->stream)
		hub->n_clients--;
	rf_subs_remove_sse(rf_get_subs(hub->rf), c->sub);
	dhp_timer_cancel(rf_loop(hub->rf), c->again);
	free(c->filter);
	free(c);
}

void rf_sse_free(struct rf_sse *hub)
{
	if (!hub)
		return;
	/* Streams are the HTTP layer's and end first (http_free). */
	while (hub->clients)
		client_free(hub->clients);
	dhp_timer_cancel(rf_loop(hub->rf), hub->keepalive);
	free(hub);
}

void rf_sse_set_published(struct rf_sse *hub, uint64_t seq)
{
	hub->published = seq;
}

uint64_t rf_sse_published(const struct rf_sse *hub)
{
	return hub->published;
}

unsigned rf_sse_clients(const struct rf_sse *hub)
{
	return hub->n_clients;
}

static void client_write(struct sse_client *c, const char *text, size_t len)
{
	if (!c->dead && http_stream_write(c->stream, text, len) < 0)
		c->dead = true;	/* too slow or gone: its close call frees it */
}

/* Matches c's filter: the event's origin or any resource it names. */
static bool wanted(const struct sse_client *c, const struct rf_event_origin *o)
{
	return !c->filter || !strcmp(c->filter, o->system) || !strcmp(c->filter, o->block) ||
	       !strcmp(c->filter, o->task) || !strcmp(c->filter, o->origin);
}

/* c is sent ev, formatted into text unless it already is (text->len). */
static void send_event(struct sse_client *c, const struct dhp_event *ev,
		       const struct rf_event_origin *o, struct http_buf *text)
{
	if (!wanted(c, o))
		return;
	if (!text->len && rf_event_format(ev, o, text) < 0)
		text->len = 0;
	if (text->len)
		client_write(c, text->data, text->len);
}

/* ---- reading the store for a client that is behind ---- */

static void pump_again(void *arg);

/*
 * Retention prunes the oldest events (docs/store.md): a client behind the
 * oldest kept one is told which it missed, whatever its filter, and its
 * cursor moves past them.
 */
static void skip_pruned(struct sse_client *c, struct dhp_store *store)
{
	struct http_buf text = { 0 };
	struct timespec now;
	uint64_t first = 0, last;

	if (dhp_store_first_event(store, &first, NULL) < 0 || first <= c->cursor + 1)
		return;
	last = first - 1 < c->hub->published ? first - 1 : c->hub->published;
	if (last <= c->cursor)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	if (rf_event_format_pruned(c->cursor + 1, last, (uint64_t)now.tv_sec * 1000 +
				   (uint64_t)now.tv_nsec / 1000000, &text) == 0)
		client_write(c, text.data, text.len);
	free(text.data);
	c->cursor = last;
}

/* One page; false when there is nothing more to read now. */
static bool pump_page(struct sse_client *c)
{
	struct dhp_store *store = dhp_core_store(rf_core(c->hub->rf));
	struct http_buf text = { 0 };
	struct rf_event_origin o;
	struct dhp_event *evs = NULL;
	size_t n = 0;

	skip_pruned(c, store);
	if (dhp_store_events(store, c->cursor, PAGE, &evs, &n, NULL) < 0) {
		http_stream_close(c->stream);
		c->dead = true;
		return false;
	}
	for (size_t i = 0; i < n && evs[i].seq <= c->hub->published; i++) {
		rf_event_origin(c->hub->rf, &evs[i], &o);
		text.len = 0;
		text.failed = false;
		send_event(c, &evs[i], &o, &text);
		c->cursor = evs[i].seq;
	}
	free(text.data);
	free(evs);
	if (!n)		/* the store lost some: skip them rather than spin */
		c->cursor = c->hub->published;
	return c->cursor < c->hub->published;
}

static void pump(struct sse_client *c)
{
	for (unsigned i = 0; i < PAGES_PER_TURN; i++)
		if (c->dead || http_stream_queued(c->stream) >= LOW_WATER || !pump_page(c))
			return;
	/* Still behind and nothing queued (a filter skipped it all): the
	 * drain call will not come, so come back in the next turn. */
	if (!http_stream_queued(c->stream) && !c->again)
		c->again = dhp_timer_add(rf_loop(c->hub->rf), 0, pump_again, c);
}

static void pump_again(void *arg)
{
	struct sse_client *c = arg;

	c->again = NULL;
	pump(c);
}

static void on_drain(void *ctx)
{
	struct sse_client *c = ctx;

	if (c->cursor < c->hub->published)
		pump(c);
}

/* ---- live events ---- */

void rf_sse_publish(struct rf_sse *hub, const struct dhp_event *ev)
{
	struct http_buf text = { 0 };
	struct rf_event_origin o;
	bool have_origin = false;

	if (ev->seq > hub->published)
		hub->published = ev->seq;
	for (struct sse_client *c = hub->clients; c; c = c->next) {
		if (c->dead || c->cursor >= ev->seq)
			continue;
		if (c->cursor + 1 < ev->seq) {		/* behind: the store has it */
			if (!http_stream_queued(c->stream))
				pump(c);
			continue;
		}
		if (!have_origin)
			rf_event_origin(hub->rf, ev, &o);
		have_origin = true;
		send_event(c, ev, &o, &text);	/* formatted once for everyone */
		c->cursor = ev->seq;
	}
	free(text.data);
}

static void keepalive_fire(void *arg)
{
	static const char comment[] = ": keep-alive\n\n";
	struct rf_sse *hub = arg;

	hub->keepalive = NULL;
	for (struct sse_client *c = hub->clients; c; c = c->next)
		client_write(c, comment, sizeof(comment) - 1);
	if (hub->clients)
		hub->keepalive = dhp_timer_add(rf_loop(hub->rf), KEEPALIVE_MS, keepalive_fire,
					       hub);
}

/* ---- the stream's life ---- */

static void on_close(void *ctx)
{
	client_free(ctx);
}

static void on_open(void *ctx, struct http_stream *stream)
{
	struct sse_client *c = ctx;
	struct rf_sse *hub = c->hub;

	c->stream = stream;
	hub->n_clients++;
	c->next = hub->clients;
	if (hub->clients)
		hub->clients->prev = c;
	hub->clients = c;
	http_stream_on_close(stream, on_close, c);
	http_stream_on_drain(stream, on_drain, c);
	/* Listed while open (DSP0266: an SSE stream is an EventDestination);
	 * without memory for it the stream still runs, unlisted. */
	c->sub = rf_subs_add_sse(rf_get_subs(hub->rf), c, c->source, c->filter);
	if (!hub->keepalive)
		hub->keepalive = dhp_timer_add(rf_loop(hub->rf), KEEPALIVE_MS, keepalive_fire,
					       hub);
	pump(c);
}

int rf_sse_stream(struct rf_sse *hub, char *filter, uint64_t after, const char *source,
		  struct http_response *res)
{
	struct sse_client *c = calloc(1, sizeof(*c));

	if (!c) {
		free(filter);
		rf_error(res, 500, "InternalError", NULL, "out of memory");
		return -ENOMEM;
	}
	c->hub = hub;
	c->cursor = after;
	c->filter = filter;
	snprintf(c->source, sizeof(c->source), "%s", source ? source : "");
	res->status = 200;
	res->stream_open = on_open;
	res->stream_ctx = c;
	return 0;
}

void rf_sse_close(struct rf_sse *hub, void *client)
{
	struct sse_client *c = client;

	(void)hub;
	c->sub = NULL;		/* the caller frees it */
	if (!c->dead)
		http_stream_close(c->stream);
	c->dead = true;
}
