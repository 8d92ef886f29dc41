/* SPDX-License-Identifier: MIT */
/*
 * Requests to dhpd with libcurl (see http.h). One easy handle serves the
 * whole run: curl_easy_reset() between requests keeps its connection
 * cache, so a listing that reads a thousand resources opens one TLS
 * connection, not a thousand.
 */
#include "http.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http-internal.h"

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	struct http_recv *r = ctx;
	size_t len = size * n;

	/* The cap holds even without a Content-Length (chunked answers). */
	if (len > HTTP_MAX_BODY - r->len) {
		r->too_large = true;
		return 0;
	}
	if (r->len + len + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 16384;
		char *buf;

		while (cap < r->len + len + 1)
			cap *= 2;
		if (cap > HTTP_MAX_BODY + 1)
			cap = HTTP_MAX_BODY + 1;
		buf = realloc(r->reply->body, cap);
		if (!buf)
			return 0;
		r->reply->body = buf;
		r->cap = cap;
	}
	memcpy(r->reply->body + r->len, data, len);
	r->len += len;
	r->reply->body[r->len] = '\0';
	return len;
}

/* Keep a header's value if it is one we use. */
static void keep_header(char *dst, size_t cap, const char *value, size_t len, bool *overlong)
{
	if (len >= cap) {
		*overlong = true;
		return;
	}
	memcpy(dst, value, len);
	dst[len] = '\0';
}

size_t http_on_header(char *data, size_t size, size_t n, void *ctx)
{
	struct http_recv *r = ctx;
	struct http_reply *reply = r->reply;
	size_t len = size * n, name_len;
	const char *colon = memchr(data, ':', len), *value;

	if (len >= 5 && !memcmp(data, "HTTP/", 5)) {
		/* A new answer (after a 100 Continue): forget the last one's. */
		reply->location[0] = reply->etag[0] = reply->token[0] = '\0';
		reply->content_type[0] = reply->content_range[0] = '\0';
		return len;
	}
	if (!colon)
		return len;
	name_len = (size_t)(colon - data);
	value = colon + 1;
	while (value < data + len && (*value == ' ' || *value == '\t'))
		value++;
	size_t vlen = (size_t)(data + len - value);
	while (vlen && isspace((unsigned char)value[vlen - 1]))
		vlen--;
#define IS(h) (name_len == sizeof(h) - 1 && !strncasecmp(data, h, name_len))
	if (IS("Location"))
		keep_header(reply->location, sizeof(reply->location), value, vlen, &r->overlong);
	else if (IS("ETag"))
		keep_header(reply->etag, sizeof(reply->etag), value, vlen, &r->overlong);
	else if (IS("X-Auth-Token"))
		keep_header(reply->token, sizeof(reply->token), value, vlen, &r->overlong);
	else if (IS("Content-Type"))
		keep_header(reply->content_type, sizeof(reply->content_type), value, vlen,
			    &r->overlong);
	else if (IS("Content-Range"))
		keep_header(reply->content_range, sizeof(reply->content_range), value, vlen,
			    &r->overlong);
#undef IS
	return len;
}

void http_reply_release(struct http_reply *reply)
{
	if (!reply)
		return;
	free(reply->body);
	json_decref(reply->json);
	memset(reply, 0, sizeof(*reply));
}

static int set_method(CURL *easy, const char *method, const char *payload)
{
	if (!strcmp(method, "GET"))
		return curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L) ? -EINVAL : 0;
	if (strcmp(method, "POST"))
		curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method);
	if (payload || strcmp(method, "DELETE")) {
		curl_easy_setopt(easy, CURLOPT_POST, 1L);
		curl_easy_setopt(easy, CURLOPT_POSTFIELDS, payload ? payload : "");
	}
	return 0;
}

/* The answer's body as JSON, when it says it is (or, untyped, looks like)
 * JSON: a console log that starts with "{" is text. */
static int parse_body(const struct http *http, struct http_reply *reply, struct ctl_error *err)
{
	json_error_t jerr;

	if (!reply->len || (!strstr(reply->content_type, "json") &&
			    (reply->content_type[0] || (reply->body[0] != '{' &&
							reply->body[0] != '['))))
		return 0;
	reply->json = json_loadb(reply->body, reply->len, 0, &jerr);
	if (reply->json || reply->status < 200 || reply->status > 299)
		return 0;	/* a bad error body still gets its status said */
	return ctl_error_set(err, CTL_EXIT_UNREACHABLE, "is the URL that of dhpd?",
			     "bad JSON from %s (HTTP %ld): %s at byte %d", http_base(http),
			     reply->status, jerr.text, jerr.position);
}

int http_call(struct http *http, const char *method, const char *path, const json_t *body,
	      const char *if_match, struct http_reply *ret_reply, struct ctl_error *err)
{
	return http_call_header(http, method, path, body, if_match, NULL, ret_reply, err);
}

int http_call_header(struct http *http, const char *method, const char *path,
		     const json_t *body, const char *if_match, const char *header,
		     struct http_reply *ret_reply, struct ctl_error *err)
{
	struct http_recv recv = { .reply = ret_reply };
	struct curl_slist *headers = NULL;
	const char *local = http_local_path(http, path);
	char *payload = NULL, line[HTTP_MAX_HEADER + 16];
	CURLcode code;
	int r;

	memset(ret_reply, 0, sizeof(*ret_reply));
	http_session_maybe_open(http);
	if (!local)
		return ctl_error_set(err, CTL_EXIT_UNREACHABLE, NULL,
				     "the server pointed to \"%s\", which is not itself", path);
	if (body && !(payload = json_dumps(body, JSON_COMPACT)))
		return ctl_error_set(err, CTL_EXIT_FAILED, NULL, "out of memory");
	r = http_prepare(http, http->easy, local, false, &headers, err);
	if (r < 0)
		goto out;
	if (payload)
		headers = curl_slist_append(headers, "Content-Type: application/json");
	if (if_match) {
		snprintf(line, sizeof(line), "If-Match: %s", if_match);
		headers = curl_slist_append(headers, line);
	}
	if (header)
		headers = curl_slist_append(headers, header);
	curl_easy_setopt(http->easy, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(http->easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_MAX_BODY);
	curl_easy_setopt(http->easy, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(http->easy, CURLOPT_WRITEDATA, &recv);
	curl_easy_setopt(http->easy, CURLOPT_HEADERFUNCTION, http_on_header);
	curl_easy_setopt(http->easy, CURLOPT_HEADERDATA, &recv);
	set_method(http->easy, method, payload);

	code = curl_easy_perform(http->easy);
	ret_reply->len = recv.len;
	if (code != CURLE_OK) {
		r = http_error_curl(http, code, http->errbuf, recv.too_large, err);
		goto out;
	}
	curl_easy_getinfo(http->easy, CURLINFO_RESPONSE_CODE, &ret_reply->status);
	if (recv.overlong) {
		r = ctl_error_set(err, CTL_EXIT_UNREACHABLE, NULL,
				  "a header from %s is longer than %u bytes", http_base(http),
				  HTTP_MAX_HEADER - 1);
		goto out;
	}
	r = parse_body(http, ret_reply, err);
	if (r < 0)
		goto out;
	if (http_session_lost(http, ret_reply->status)) {
		curl_slist_free_all(headers);
		free(payload);
		http_reply_release(ret_reply);
		return http_call_header(http, method, path, body, if_match, header, ret_reply,
					err);
	}
	if (ret_reply->status < 200 || ret_reply->status > 299)
		r = http_error_status(http, ret_reply->status, ret_reply->json,
				      ret_reply->location, err);
out:
	curl_slist_free_all(headers);
	free(payload);
	return r;
}

int http_get_json(struct http *http, const char *path, json_t **ret_json,
		  struct ctl_error *err)
{
	struct http_reply reply;
	int r = http_call(http, "GET", path, NULL, NULL, &reply, err);

	if (r < 0) {
		http_reply_release(&reply);
		return r;
	}
	if (!json_is_object(reply.json)) {
		http_reply_release(&reply);
		return ctl_error_set(err, CTL_EXIT_UNREACHABLE, "is the URL that of dhpd?",
				     "%s%s did not answer with a JSON object", http_base(http),
				     path);
	}
	*ret_json = json_incref(reply.json);
	http_reply_release(&reply);
	return 0;
}

int http_setup_stream(struct http *http, CURL *easy, const char *path,
		      struct curl_slist **headers, struct ctl_error *err)
{
	return http_prepare(http, easy, path, true, headers, err);
}
