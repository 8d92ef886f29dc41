/* SPDX-License-Identifier: MIT */
/*
 * HTTP POSTs on libcurl's multi interface, driven by dhp_loop (push.h).
 *
 * Why libcurl's multi socket API and not a delivery thread: dhpd has one
 * event loop (STYLE.md 11), and curl_multi_socket_action() is made for
 * exactly that: curl says which sockets to watch (sock_cb) and when it
 * wants to be woken (timer_cb); the loop's io watches and timers call it
 * back. Name resolution runs in curl's own resolver thread, not on the
 * loop. Nothing here blocks, there is no queue to lock, and a receiver
 * that hangs costs one socket until its timeout.
 *
 * A finished transfer is reported after curl_multi_socket_action()
 * returns (finish_done), never from inside a curl callback, so a done
 * callback may start or cancel POSTs.
 */
#include "push/push.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 10000u
#define DEFAULT_CONNECT_TIMEOUT_MS 5000u

struct push_post {
	struct push *push;
	CURL *easy;
	char *body;
	struct curl_slist *headers;
	push_done_fn done;
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
	struct push_post *prev, *next;
};

/* A socket curl asked us to watch. */
struct push_sock {
	struct push *push;
	curl_socket_t fd;
	struct dhp_io *io;
};

struct push {
	struct dhp_loop *loop;
	struct push_config cfg;
	CURLM *multi;
	struct dhp_timer *timer;
	struct push_post *posts;
	unsigned n_posts;
};

static void finish_done(struct push *push);

/* ---- the loop's side: sockets and the timer ---- */

static void on_io(void *arg, unsigned events)
{
	struct push_sock *s = arg;
	struct push *push = s->push;	/* s may be freed inside the action */
	int flags = (events & DHP_IO_READ ? CURL_CSELECT_IN : 0) |
		    (events & DHP_IO_WRITE ? CURL_CSELECT_OUT : 0) |
		    (events & DHP_IO_ERROR ? CURL_CSELECT_ERR : 0);
	int running;

	curl_multi_socket_action(push->multi, s->fd, flags, &running);
	finish_done(push);
}

static int sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct push *push = userp;
	struct push_sock *s = socketp;
	unsigned events = (what == CURL_POLL_IN || what == CURL_POLL_INOUT ? DHP_IO_READ : 0) |
			  (what == CURL_POLL_OUT || what == CURL_POLL_INOUT ? DHP_IO_WRITE : 0);

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			dhp_io_cancel(push->loop, s->io);
			free(s);
		}
		return 0;
	}
	if (s) {
		dhp_io_modify(push->loop, s->io, events);
		return 0;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	s->push = push;
	s->fd = fd;
	s->io = dhp_io_add(push->loop, fd, events, on_io, s);
	if (!s->io) {
		free(s);
		return -1;
	}
	curl_multi_assign(push->multi, fd, s);
	return 0;
}

static void on_timeout(void *arg)
{
	struct push *push = arg;
	int running;

	push->timer = NULL;
	curl_multi_socket_action(push->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	finish_done(push);
}

/* curl wants to be woken in timeout_ms (-1: never). Runs inside curl:
 * only arm a timer here (a zero delay is the next turn). */
static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct push *push = userp;

	(void)multi;
	dhp_timer_cancel(push->loop, push->timer);
	push->timer = NULL;
	if (timeout_ms < 0)
		return 0;
	push->timer = dhp_timer_add(push->loop, (uint64_t)timeout_ms, on_timeout, push);
	return push->timer ? 0 : -1;
}

/* ---- posts ---- */

static void post_free(struct push_post *post)
{
	struct push *push = post->push;

	if (post->prev)
		post->prev->next = post->next;
	else
		push->posts = post->next;
	if (post->next)
		post->next->prev = post->prev;
	push->n_posts--;
	curl_multi_remove_handle(push->multi, post->easy);
	curl_easy_cleanup(post->easy);
	curl_slist_free_all(post->headers);
	free(post->body);
	free(post);
}

static int status_of(struct push_post *post, CURLcode rc)
{
	long code = 0;

	switch (rc) {
	case CURLE_OK:
		curl_easy_getinfo(post->easy, CURLINFO_RESPONSE_CODE, &code);
		return (int)code;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return -EPROTO;
	default:
		return -EIO;
	}
}

static void finish_done(struct push *push)
{
	struct push_post *post;
	CURLMsg *msg;
	int left, status;

	while ((msg = curl_multi_info_read(push->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&post);
		status = status_of(post, msg->data.result);
		if (!post->errbuf[0])
			snprintf(post->errbuf, sizeof(post->errbuf), "%s",
				 curl_easy_strerror(msg->data.result));
		/* Out of curl's lists before done runs: done may add others. */
		curl_multi_remove_handle(push->multi, post->easy);
		post->done(post->arg, status, post->errbuf);
		post_free(post);
	}
}

/* The answer's body is not wanted (without this curl writes it to stdout). */
static size_t discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data, (void)arg;
	return size * n;
}

static int post_setup(struct push *push, struct push_post *post, const char *url, size_t len)
{
	CURL *e = post->easy;

	post->headers = curl_slist_append(NULL, "Content-Type: application/json; charset=utf-8");
	if (post->headers)	/* no "Expect: 100-continue" wait for larger bodies */
		post->headers = curl_slist_append(post->headers, "Expect:");
	if (!post->headers)
		return -ENOMEM;
	if (curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK)
		return -EINVAL;
	curl_easy_setopt(e, CURLOPT_POST, 1L);
	curl_easy_setopt(e, CURLOPT_POSTFIELDS, post->body);
	curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, post->headers);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "dhpd");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)push->cfg.timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)push->cfg.connect_timeout_ms);
	/* curl's defaults, said out loud: a receiver's certificate and name
	 * are verified, and a redirect is not followed. */
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	if (push->cfg.ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, push->cfg.ca_file);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, post->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, post);
	return 0;
}

struct push_post *push_post(struct push *push, const char *url, const char *body, size_t len,
			    push_done_fn done, void *arg)
{
	struct push_post *post = calloc(1, sizeof(*post));

	if (!post)
		return NULL;
	post->push = push;
	post->done = done;
	post->arg = arg;
	post->body = malloc(len + 1);
	post->easy = curl_easy_init();
	if (post->body) {
		memcpy(post->body, body, len);
		post->body[len] = '\0';
	}
	if (!post->body || !post->easy || post_setup(push, post, url, len) < 0 ||
	    curl_multi_add_handle(push->multi, post->easy) != CURLM_OK) {
		curl_easy_cleanup(post->easy);
		curl_slist_free_all(post->headers);
		free(post->body);
		free(post);
		return NULL;
	}
	post->next = push->posts;
	if (push->posts)
		push->posts->prev = post;
	push->posts = post;
	push->n_posts++;
	return post;
}

void push_cancel(struct push *push, struct push_post *post)
{
	(void)push;
	if (post)
		post_free(post);
}

unsigned push_in_flight(const struct push *push)
{
	return push->n_posts;
}

/* ---- the client ---- */

int push_new(struct dhp_loop *loop, const struct push_config *config, struct push **ret_push,
	     struct dhp_error *err)
{
	struct push *push;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return dhp_error_set(err, -EIO, "libcurl failed to start");
	push = calloc(1, sizeof(*push));
	if (push)
		push->multi = curl_multi_init();
	if (!push || !push->multi) {
		free(push);
		curl_global_cleanup();
		return dhp_error_set(err, -ENOMEM, "out of memory");
	}
	push->loop = loop;
	push->cfg = *config;
	if (!push->cfg.timeout_ms)
		push->cfg.timeout_ms = DEFAULT_TIMEOUT_MS;
	if (!push->cfg.connect_timeout_ms)
		push->cfg.connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
	curl_multi_setopt(push->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(push->multi, CURLMOPT_SOCKETDATA, push);
	curl_multi_setopt(push->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(push->multi, CURLMOPT_TIMERDATA, push);
	*ret_push = push;
	return 0;
}

void push_free(struct push *push)
{
	if (!push)
		return;
	while (push->posts)
		post_free(push->posts);
	curl_multi_cleanup(push->multi);	/* its last sock_cb calls cancel the watches */
	dhp_timer_cancel(push->loop, push->timer);
	free(push);
	curl_global_cleanup();
}
