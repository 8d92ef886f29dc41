/* SPDX-License-Identifier: MIT */
/*
 * Failures of a request as one message and a hint. The server's own words
 * come first (Redfish's @Message.ExtendedInfo has both: Message and
 * Resolution); where it has none, or never answered, we say what we know
 * and what to check. Each failure also picks the exit code (dhpctl.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http-internal.h"

static const char *curl_detail(CURLcode code, const char *detail, char *buf, size_t len)
{
	snprintf(buf, len, "%s", detail && detail[0] ? detail : curl_easy_strerror(code));
	ctl_tidy(buf);
	return buf;
}

static int tls_error(const struct http *http, CURLcode code, const char *what,
		     struct ctl_error *err)
{
	const char *hint;

	if (http->cacert)
		hint = "is the file given with --cacert (or DHP_CACERT) this server's certificate?";
	else if (!http->insecure)
		hint = "give the server's certificate with --cacert FILE (dhpd writes it to "
		       "STATE_DIR/tls/cert.pem), or skip verification with --insecure";
	else
		hint = "is the URL that of dhpd, and its port the HTTPS one?";
	return ctl_error_set(err, CTL_EXIT_UNREACHABLE, hint, "%s %s: %s",
			     code == CURLE_SSL_CONNECT_ERROR ? "TLS handshake failed with" :
			     "cannot verify the TLS certificate of", http->base, what);
}

int http_error_curl(const struct http *http, CURLcode code, const char *detail,
		    bool too_large, struct ctl_error *err)
{
	const char *check = "is dhpd running there? check --url (or DHP_URL, or url = in the "
			    "configuration file)";
	char what[CURL_ERROR_SIZE + 64];

	curl_detail(code, detail, what, sizeof(what));
	switch (code) {
	case CURLE_ABORTED_BY_CALLBACK:
		return ctl_error_set(err, CTL_EXIT_INTERRUPTED, NULL, "interrupted");
	case CURLE_FILESIZE_EXCEEDED:
	case CURLE_WRITE_ERROR:
		if (too_large || code == CURLE_FILESIZE_EXCEEDED) {
			ctl_error_set(err, CTL_EXIT_UNREACHABLE, "is the URL that of dhpd?",
				      "the answer from %s is larger than %u MiB", http->base,
				      HTTP_MAX_BODY >> 20);
			return -EFBIG;	/* collection.c reads member by member then */
		}
		return ctl_error_set(err, CTL_EXIT_FAILED, NULL, "out of memory");
	case CURLE_COULDNT_RESOLVE_HOST:
		return ctl_error_set(err, CTL_EXIT_UNREACHABLE, check, "cannot resolve \"%s\"",
				     http->host);
	case CURLE_COULDNT_CONNECT:
		return ctl_error_set(err, CTL_EXIT_UNREACHABLE, check, "cannot reach %s (%s)",
				     http->base, what);
	case CURLE_OPERATION_TIMEDOUT:
		return ctl_error_set(err, CTL_EXIT_UNREACHABLE,
				     "the server may be busy: raise --timeout, or check --url",
				     "%s did not answer in time (%s)", http->base, what);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
		return tls_error(http, code, what, err);
	case CURLE_SSL_CACERT_BADFILE:
		return ctl_error_set(err, CTL_EXIT_USAGE,
				     "--cacert wants a PEM file with the server's certificate",
				     "cannot use the CA certificate \"%s\": %s",
				     http->cfg->cacert ? http->cfg->cacert : "", what);
	case CURLE_GOT_NOTHING:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return ctl_error_set(err, CTL_EXIT_UNREACHABLE,
				     http->https ? "is the URL that of dhpd?" :
				     "is the URL that of dhpd? it speaks https",
				     "no valid answer from %s: %s", http->base, what);
	default:
		return ctl_error_set(err, CTL_EXIT_UNREACHABLE, NULL, "request to %s failed: %s",
				     http->base, what);
	}
}

/* The first message of a Redfish error body, and its resolution. */
static void redfish_text(const json_t *body, char *msg, size_t msg_len, char *res,
			 size_t res_len)
{
	const json_t *info = json_array_get(jget(body, "error/@Message.ExtendedInfo"), 0);
	const char *m = jstr(info, "Message", NULL);

	msg[0] = res[0] = '\0';
	if (!m)
		m = jstr(body, "error/message", NULL);
	if (m)
		snprintf(msg, msg_len, "%s", m);
	snprintf(res, res_len, "%s", jstr(info, "Resolution", ""));
	ctl_tidy(msg);
	ctl_tidy(res);
}

static int exit_of(long status)
{
	if (status == 401 || status == 403)
		return CTL_EXIT_AUTH;
	if ((status >= 400 && status <= 499) || status == 501)
		return CTL_EXIT_REFUSED;
	return CTL_EXIT_UNREACHABLE;
}

static const char *default_hint(const struct http *http, long status)
{
	switch (status) {
	case 401:
		return http->cfg->token ? "log in again (dhpctl login): the session may have expired"
		       : "check --user and the password (--password-file, DHP_PASSWORD), "
			 "or give a session token with --token";
	case 403:
		return "this needs a role with more privileges: Operator or Administrator";
	case 503:
		return "the server is busy or still recovering: try again shortly";
	default:
		return NULL;
	}
}

static const char *default_message(long status)
{
	switch (status) {
	case 400: return "the server found the request malformed";
	case 401: return "authentication failed";
	case 403: return "permission denied";
	case 404: return "no such resource";
	case 405: return "the server does not allow this here";
	case 409: return "conflict: the resource is busy or in the wrong state";
	case 412: return "the resource changed meanwhile";
	case 413: return "the request is too large";
	case 501: return "the server does not implement this";
	case 503: return "the server cannot answer now";
	default: return NULL;
	}
}

int http_error_status(const struct http *http, long status, const json_t *body,
		      const char *location, struct ctl_error *err)
{
	char msg[sizeof(err->message)], res[sizeof(err->hint)];
	const char *fallback;

	if (status >= 300 && status <= 399)
		return ctl_error_set(err, CTL_EXIT_UNREACHABLE,
				     "dhpctl follows no redirects, so credentials go only where you "
				     "send them: give the right URL with --url",
				     "%s answered with a redirect (HTTP %ld) to \"%s\"", http->base,
				     status, location && location[0] ? location : "?");
	redfish_text(body, msg, sizeof(msg), res, sizeof(res));
	if (!msg[0]) {
		fallback = default_message(status);
		if (fallback)
			snprintf(msg, sizeof(msg), "%s", fallback);
		else
			snprintf(msg, sizeof(msg), "%s answered HTTP %ld", http->base, status);
	}
	if (!res[0] && default_hint(http, status))
		snprintf(res, sizeof(res), "%s", default_hint(http, status));
	return ctl_error_set(err, exit_of(status), res[0] ? res : NULL, "%s", msg);
}
