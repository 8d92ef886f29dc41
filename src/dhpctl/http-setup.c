/* SPDX-License-Identifier: MIT */
/*
 * Setting up the HTTP layer: check the server's URL, choose how TLS is
 * verified and how we authenticate, and put the same options on every
 * request. Mistakes here are the user's (exit 2) and are caught before
 * anything is sent.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "http-internal.h"

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		       curl_off_t ulnow)
{
	const struct http *http = ctx;

	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return ctl_interrupted() && !http->closing;	/* nonzero aborts the transfer */
}

static bool is_loopback(const char *host)
{
	return !strcasecmp(host, "localhost") || !strncmp(host, "127.", 4) ||
	       !strcmp(host, "[::1]");
}

/* Split the URL into its parts; refuse anything but scheme://host[:port][/]. */
static int parse_url(struct http *http, const char *url, struct ctl_error *err)
{
	const char *hint = "give it as https://HOST[:PORT]";
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL, *extra = NULL;
	CURLU *u = curl_url();
	int r = 0;

	if (!u)
		return ctl_error_set(err, CTL_EXIT_FAILED, NULL, "out of memory");
	if (curl_url_set(u, CURLUPART_URL, url, 0) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ||
	    curl_url_get(u, CURLUPART_PATH, &path, 0)) {
		r = ctl_error_set(err, CTL_EXIT_USAGE, hint, "bad server URL \"%s\"", url);
		goto out;
	}
	if (strcmp(scheme, "https") && strcmp(scheme, "http")) {
		r = ctl_error_set(err, CTL_EXIT_USAGE, hint,
				  "the server URL \"%s\" is not http or https", url);
		goto out;
	}
	if (!curl_url_get(u, CURLUPART_USER, &extra, 0)) {
		r = ctl_error_set(err, CTL_EXIT_USAGE,
				  "give them with --user and --password-file",
				  "the server URL \"%s\" carries credentials", url);
		goto out;
	}
	if (strcmp(path, "/") || !curl_url_get(u, CURLUPART_QUERY, &extra, 0) ||
	    !curl_url_get(u, CURLUPART_FRAGMENT, &extra, 0)) {
		r = ctl_error_set(err, CTL_EXIT_USAGE, hint,
				  "the server URL \"%s\" has a path or a query", url);
		goto out;
	}
	if (strlen(host) >= sizeof(http->host)) {
		r = ctl_error_set(err, CTL_EXIT_USAGE, hint, "the server's host name is too long");
		goto out;
	}
	snprintf(http->scheme, sizeof(http->scheme), "%s", scheme);
	snprintf(http->host, sizeof(http->host), "%s", host);
	http->port = strtol(port, NULL, 10);
	http->https = !strcmp(scheme, "https");
	snprintf(http->base, sizeof(http->base), "%s://%s:%ld", scheme, host, http->port);
out:
	curl_free(extra);
	curl_free(path);
	curl_free(port);
	curl_free(host);
	curl_free(scheme);
	curl_url_cleanup(u);
	return r;
}

static int check_auth(struct http *http, const struct ctl_config *cfg, struct ctl_error *err)
{
	if (!http->https && (cfg->user || cfg->token) && !is_loopback(http->host) &&
	    !cfg->insecure)
		return ctl_error_set(err, CTL_EXIT_USAGE,
				     "use https, or --insecure if the network is trusted",
				     "refusing to send credentials in clear text to %s", http->base);
	if (cfg->token) {
		for (const char *c = cfg->token; *c; c++)
			if (*c <= ' ' || *c > '~')
				return ctl_error_set(err, CTL_EXIT_USAGE,
						     "give the token dhpctl login printed",
						     "the session token has characters a header cannot carry");
		if (strlen(cfg->token) >= HTTP_MAX_HEADER)
			return ctl_error_set(err, CTL_EXIT_USAGE, NULL,
					     "the session token is too long");
		snprintf(http->token_header, sizeof(http->token_header), "X-Auth-Token: %s",
			 cfg->token);
	}
	return 0;
}

int http_new(const struct ctl_config *cfg, struct http **ret_http, struct ctl_error *err)
{
	struct http *http;
	int r;

	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return ctl_error_set(err, CTL_EXIT_FAILED, NULL, "libcurl failed to start");
	http = calloc(1, sizeof(*http));
	if (!http)
		return ctl_error_set(err, CTL_EXIT_FAILED, NULL, "out of memory");
	http->cfg = cfg;
	http->basic = cfg->user && !cfg->token;
	http->insecure = cfg->insecure;
	http->cacert = cfg->cacert && !cfg->insecure;	/* --insecure wins: it is explicit */
	r = parse_url(http, cfg->url, err);
	if (r < 0)
		goto fail;
	r = check_auth(http, cfg, err);
	if (r < 0)
		goto fail;
	if (http->https && http->cacert && access(cfg->cacert, R_OK)) {
		r = ctl_error_set(err, CTL_EXIT_USAGE, "--cacert names the server's certificate",
				  "cannot read the CA certificate \"%s\": %s", cfg->cacert,
				  strerror(errno));
		goto fail;
	}
	http->easy = curl_easy_init();
	if (!http->easy) {
		r = ctl_error_set(err, CTL_EXIT_FAILED, NULL, "libcurl failed to start");
		goto fail;
	}
	*ret_http = http;
	return 0;
fail:
	http_free(http);
	return r;
}

void http_free(struct http *http)
{
	if (!http)
		return;
	if (http->easy) {
		http_session_close(http);
		curl_easy_cleanup(http->easy);
	}
	free(http);
	curl_global_cleanup();
}

const char *http_base(const struct http *http)
{
	return http->base;
}

bool http_tls_explicit(const struct http *http)
{
	return http->insecure || http->cacert;
}

const char *http_local_path(const struct http *http, const char *value)
{
	const char *p;
	CURLU *u;
	char *scheme = NULL, *host = NULL, *port = NULL;
	bool same;

	if (value[0] == '/')
		return value[1] == '/' ? NULL : value;	/* "//host/...": another host */
	p = strstr(value, "://");
	u = curl_url();
	if (!p || !u || curl_url_set(u, CURLUPART_URL, value, 0) ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT))
		same = false;
	else
		same = !strcmp(scheme, http->scheme) && !strcasecmp(host, http->host) &&
		       strtol(port, NULL, 10) == http->port;
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	if (!same)
		return NULL;
	p = strchr(p + 3, '/');
	return p ? p : "/";
}

static int add_header(struct curl_slist **headers, const char *line)
{
	struct curl_slist *l = curl_slist_append(*headers, line);

	if (!l)
		return -ENOMEM;
	*headers = l;
	return 0;
}

int http_prepare(struct http *http, CURL *easy, const char *path, bool stream,
		 struct curl_slist **headers, struct ctl_error *err)
{
	const struct ctl_config *cfg = http->cfg;
	char url[4096];
	int n = snprintf(url, sizeof(url), "%s%s", http->base, path);

	if (n < 0 || (size_t)n >= sizeof(url))
		return ctl_error_set(err, CTL_EXIT_UNREACHABLE, NULL, "a URI is too long: %.80s...",
				     path);
	curl_easy_reset(easy);
	curl_easy_setopt(easy, CURLOPT_URL, url);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);	/* never: see http-error.c */
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT, (long)HTTP_CONNECT_TIMEOUT_S);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT, stream ? 0L : http->closing ? 5L : cfg->timeout_s);
	curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, http->insecure ? 0L : 1L);
	curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, http->insecure ? 0L : 2L);
	if (http->cacert)
		curl_easy_setopt(easy, CURLOPT_CAINFO, cfg->cacert);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, PROG "/" DHPCTL_VERSION);
	curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, http->errbuf);
	http->errbuf[0] = '\0';
	curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(easy, CURLOPT_XFERINFODATA, http);
	if (http->basic && !http->in_session && !http->anonymous) {
		curl_easy_setopt(easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(easy, CURLOPT_USERNAME, cfg->user);
		curl_easy_setopt(easy, CURLOPT_PASSWORD, cfg->password ? cfg->password : "");
	}
	if (add_header(headers, stream ? "Accept: text/event-stream" : "Accept: application/json") ||
	    add_header(headers, "OData-Version: 4.0") ||
	    add_header(headers, "Expect:") ||	/* no 100-continue round trip */
	    (http->token_header[0] && !http->anonymous && add_header(headers, http->token_header)))
		return ctl_error_set(err, CTL_EXIT_FAILED, NULL, "out of memory");
	return 0;
}
