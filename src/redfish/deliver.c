/* SPDX-License-Identifier: MIT */
/*
 * Delivery to one push subscription (docs/redfish.md, "Event
 * subscriptions"): a bounded queue of Events, one POST in flight at a
 * time (so the receiver gets them in order), retries, and what
 * DeliveryRetryPolicy says once they run out.
 *
 * The POST itself is the sender's (redfish_config.sender: src/push on
 * libcurl in dhpd), which calls back on the loop; nothing here blocks.
 *
 * States: idle (queue empty) → posting (one POST out) → idle, or, when it
 * failed, waiting (a retry timer) → posting again. After 1 +
 * DeliveryRetryAttempts failures of the same event: SuspendRetries
 * suspends the subscription (Status.State Disabled, stored, queue
 * dropped); TerminateAfterRetries deletes it; RetryForever keeps trying
 * at the interval, WithBackoff at a doubling one (up to 16 times it).
 */
#include "redfish/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_MAX 128u		/* events per destination; beyond, the oldest go */
#define BACKOFF_MAX 16u		/* RetryForeverWithBackoff: at most 16 intervals */
#define DROP_LOG_EVERY 100u

struct rf_delivery {
	struct redfish *rf;
	struct rf_sub *sub;
	char *queue[QUEUE_MAX];		/* Event JSON texts, a ring */
	unsigned head, n;
	void *post;			/* the POST out, or NULL */
	struct dhp_timer *retry;
	unsigned failures;		/* of the event at the head */
	uint64_t dropped;
};

static void post_head(struct rf_delivery *d);

int rf_delivery_new(struct redfish *rf, struct rf_sub *sub, struct rf_delivery **ret)
{
	struct rf_delivery *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->rf = rf;
	d->sub = sub;
	*ret = d;
	return 0;
}

static void drop_head(struct rf_delivery *d)
{
	free(d->queue[d->head]);
	d->queue[d->head] = NULL;
	d->head = (d->head + 1) % QUEUE_MAX;
	d->n--;
	d->failures = 0;
}

static void drop_all(struct rf_delivery *d)
{
	while (d->n)
		drop_head(d);
}

void rf_delivery_free(struct rf_delivery *d)
{
	const struct redfish_sender *s;

	if (!d)
		return;
	s = &rf_config(d->rf)->sender;
	if (d->post && s->cancel)
		s->cancel(s->ctx, d->post);
	dhp_timer_cancel(rf_loop(d->rf), d->retry);
	drop_all(d);
	free(d);
}

/* The Event as the receiver gets it: the stream's, with the Context. */
static char *event_text(const struct rf_sub *sub, const struct dhp_event *ev,
			const struct rf_event_origin *o)
{
	json_t *doc = rf_event_json(ev, o);
	char *text;

	if (!doc)
		return NULL;
	json_object_set_new(doc, "Context", json_string(sub->context));
	text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	return text;
}

/* The queue is full: the oldest event not in flight goes, and the log
 * says so (the first time, then every DROP_LOG_EVERY). */
static void drop_oldest(struct rf_delivery *d)
{
	unsigned skip = d->post ? 1 : 0, at = (d->head + skip) % QUEUE_MAX;

	free(d->queue[at]);
	for (unsigned i = skip; i + 1 < d->n; i++)
		d->queue[(d->head + i) % QUEUE_MAX] = d->queue[(d->head + i + 1) % QUEUE_MAX];
	d->queue[(d->head + d->n - 1) % QUEUE_MAX] = NULL;
	d->n--;
	if (!skip)
		d->failures = 0;
	if (d->dropped++ % DROP_LOG_EVERY == 0)
		rf_log(d->rf, "event subscription %s: %u events queued for \"%s\": dropped the "
		       "oldest (%llu dropped so far)", d->sub->id, QUEUE_MAX, d->sub->destination,
		       (unsigned long long)d->dropped);
}

void rf_delivery_push(struct rf_delivery *d, const struct dhp_event *ev,
		      const struct rf_event_origin *o)
{
	char *text = event_text(d->sub, ev, o);

	if (!text)
		return;
	if (d->n == QUEUE_MAX)
		drop_oldest(d);
	d->queue[(d->head + d->n) % QUEUE_MAX] = text;
	d->n++;
	if (!d->post && !d->retry)
		post_head(d);
}

/* ---- retries and what follows them ---- */

static void retry_fire(void *arg)
{
	struct rf_delivery *d = arg;

	d->retry = NULL;
	post_head(d);
}

static uint64_t retry_delay_ms(const struct rf_delivery *d)
{
	uint64_t ms = (uint64_t)rf_config(d->rf)->retry_interval_s * 1000;
	unsigned over = d->failures > 1 ? d->failures - 1 : 0;

	if (!ms)		/* RetryForever must not spin */
		ms = 1000;
	if (d->sub->policy == RF_RETRY_BACKOFF)
		ms *= over >= 4 ? BACKOFF_MAX : 1u << over;
	return ms;
}

/* Retries ran out: the policy decides. May free d (terminate). */
static void give_up(struct rf_delivery *d, int status, const char *detail)
{
	struct rf_sub *sub = d->sub;
	struct rf_subs *subs = rf_get_subs(d->rf);
	struct dhp_error err = { 0 };
	char why[160];

	if (status > 0)
		snprintf(why, sizeof(why), "HTTP status %d", status);
	else
		snprintf(why, sizeof(why), "%.150s", detail);
	if (sub->policy == RF_RETRY_TERMINATE) {
		rf_log(d->rf, "event subscription %s to \"%s\": %u attempts failed (%s): "
		       "deleted (TerminateAfterRetries)", sub->id, sub->destination,
		       d->failures, why);
		if (rf_subs_delete(subs, sub, &err) == 0)
			return;
	} else {
		rf_log(d->rf, "event subscription %s to \"%s\": %u attempts failed (%s): "
		       "suspended; resume it with its ResumeSubscription action", sub->id,
		       sub->destination, d->failures, why);
	}
	/* Suspend (or a delete that failed: then at least stop sending). */
	drop_all(d);
	sub->suspended = true;
	if (rf_subs_save(subs, sub, &err) < 0)
		rf_log(d->rf, "event subscription %s: could not store its suspension: %s",
		       sub->id, err.message);
}

static void failed(struct rf_delivery *d, int status, const char *detail)
{
	unsigned attempts = 1 + rf_config(d->rf)->retry_attempts;
	bool forever = d->sub->policy == RF_RETRY_FOREVER || d->sub->policy == RF_RETRY_BACKOFF;

	d->failures++;
	if (d->failures >= attempts && !forever) {
		give_up(d, status, detail);
		return;
	}
	if (d->failures == attempts)	/* forever: said once per event */
		rf_log(d->rf, "event subscription %s to \"%s\": %u attempts failed; "
		       "retrying (%s)", d->sub->id, d->sub->destination, d->failures,
		       rf_retry_policy_name(d->sub->policy));
	d->retry = dhp_timer_add(rf_loop(d->rf), retry_delay_ms(d), retry_fire, d);
}

/* The sender's answer. The POST is the sender's to free after this. */
static void sent(void *arg, int status, const char *detail)
{
	struct rf_delivery *d = arg;

	d->post = NULL;
	if (status >= 200 && status < 300) {
		drop_head(d);
		if (d->n)
			post_head(d);
		return;
	}
	failed(d, status, detail ? detail : "");
}

static void start_failed(void *arg)
{
	struct rf_delivery *d = arg;

	d->retry = NULL;
	failed(d, -EIO, "the POST could not be started");
}

static void post_head(struct rf_delivery *d)
{
	const struct redfish_sender *s = &rf_config(d->rf)->sender;
	const char *text;

	if (!d->n || d->post || d->sub->suspended || !s->post)
		return;
	text = d->queue[d->head];
	d->post = s->post(s->ctx, d->sub->destination, text, strlen(text), sent, d);
	/* Could not even start: a failed attempt, told from the loop, as
	 * the sender's answers are (the caller may be walking the list of
	 * subscriptions that a TerminateAfterRetries would change). */
	if (!d->post)
		d->retry = dhp_timer_add(rf_loop(d->rf), 0, start_failed, d);
}
