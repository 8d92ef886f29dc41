/* SPDX-License-Identifier: MIT */
/*
 * The web console's files (docs/console.md), served under /console/ in
 * front of the Redfish service.
 *
 * Every file is read once, at start-up, from one flat folder: regular
 * files only (a symbolic link is never followed), names of
 * [A-Za-z0-9._-] not starting with a dot, a known extension each. The
 * table made then is all there is to serve: a request names a file of
 * the table or gets 404, so no path a client sends ever reaches the file
 * system (no "..", no %2e%2e, no link out of the folder), and no request
 * does I/O on the loop. The price: a changed file is seen at dhpd's next
 * start.
 *
 * The files are the console's whole code, so their headers are strict: a
 * Content-Security-Policy that allows only the console's own scripts and
 * styles (no inline script, no eval), nosniff, no referrer, and an ETag
 * for each file with Cache-Control: no-cache (a browser asks again each
 * time and gets 304 while the file has not changed: no stale console
 * after an upgrade, no build step to name files by their hash).
 */
#include "dhpd/dhpd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONSOLE_PREFIX "/console"
#define MAX_FILES 128
#define MAX_FILE_BYTES (512u << 10)
#define MAX_TOTAL_BYTES (4u << 20)

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".svg", "image/svg+xml" },
	{ ".json", "application/json; charset=utf-8" },
	{ ".txt", "text/plain; charset=utf-8" },
};

static const char csp[] =
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
	"frame-ancestors 'none'";

struct console_file {
	char name[64];
	const char *type;
	char *data;		/* NUL-terminated: served as raw_body */
	char etag[24];		/* "<16 hex digits>": a strong tag of the bytes */
};

struct dhpd_console {
	struct console_file files[MAX_FILES];
	unsigned n_files;
	struct http_handler next;	/* the Redfish service */
};

static const char *type_of(const char *name)
{
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t e = strlen(types[i].ext);

		if (n > e && !strcmp(name + n - e, types[i].ext))
			return types[i].type;
	}
	return NULL;
}

static bool name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= sizeof(((struct console_file *)0)->name) || name[0] == '.')
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			    "0123456789._-") == n;
}

/* FNV-1a, 64 bits: a cache validator, not a defence against anyone. */
static void make_etag(struct console_file *f, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)f->data[i];
		h *= 0x100000001b3ull;
	}
	snprintf(f->etag, sizeof(f->etag), "\"%016llx\"", (unsigned long long)h);
}

/* One file of the folder: 1 loaded, 0 not a console file (skipped). */
static int load_file(struct dhpd_console *c, int dfd, const char *dir, const char *name,
		     size_t *total, struct dhp_error *err)
{
	struct console_file *f = &c->files[c->n_files];
	const char *type = type_of(name);
	struct stat st;
	ssize_t got;
	int fd, r = 0;

	if (!name_ok(name) || !type)
		return 0;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? 0 : dhp_error_set(err, -errno, "%s/%s: %s", dir, name,
							   strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		goto close_fd;		/* a folder or a device: not ours */
	if (c->n_files >= MAX_FILES || (size_t)st.st_size > MAX_FILE_BYTES ||
	    *total + (size_t)st.st_size > MAX_TOTAL_BYTES) {
		r = dhp_error_set(err, -EFBIG, "%s: more than %u files or %u bytes", dir,
				  MAX_FILES, MAX_TOTAL_BYTES);
		goto close_fd;
	}
	f->data = malloc((size_t)st.st_size + 1);
	if (!f->data) {
		r = dhp_error_set(err, -ENOMEM, "out of memory");
		goto close_fd;
	}
	got = read(fd, f->data, (size_t)st.st_size);
	if (got != st.st_size || memchr(f->data, '\0', (size_t)got)) {
		r = dhp_error_set(err, -EIO, "%s/%s: %s", dir, name,
				  got < 0 ? strerror(errno) : "changed while read, or holds a NUL byte");
		goto free_data;
	}
	f->data[got] = '\0';
	snprintf(f->name, sizeof(f->name), "%s", name);
	f->type = type;
	make_etag(f, (size_t)got);
	*total += (size_t)got;
	c->n_files++;
	close(fd);
	return 1;
free_data:
	free(f->data);
	f->data = NULL;
close_fd:
	close(fd);
	return r;
}

static int load_dir(struct dhpd_console *c, const char *dir, struct dhp_error *err)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct dirent *de;
	size_t total = 0;
	DIR *d;
	int r = 0;

	if (dfd < 0)
		return dhp_error_set(err, -errno, "console folder %s: %s", dir, strerror(errno));
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return dhp_error_set(err, -errno, "console folder %s: %s", dir, strerror(errno));
	}
	while (r >= 0 && (de = readdir(d)))
		r = load_file(c, dirfd(d), dir, de->d_name, &total, err);
	closedir(d);
	if (r >= 0 && !dhpd_console_find(c, "index.html"))
		r = dhp_error_set(err, -ENOENT, "console folder %s has no index.html", dir);
	return r < 0 ? r : 0;
}

int dhpd_console_new(const char *dir, struct dhpd_console **ret_console, struct dhp_error *err)
{
	struct dhpd_console *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return dhp_error_set(err, -ENOMEM, "out of memory");
	r = dir && dir[0] ? load_dir(c, dir, err) : 0;
	if (r < 0) {
		dhpd_console_free(c);
		return r;
	}
	*ret_console = c;
	return 0;
}

void dhpd_console_free(struct dhpd_console *c)
{
	if (!c)
		return;
	for (unsigned i = 0; i < c->n_files; i++)
		free(c->files[i].data);
	free(c);
}

unsigned dhpd_console_files(const struct dhpd_console *c) { return c->n_files; }

const char *dhpd_console_find(const struct dhpd_console *c, const char *name)
{
	for (unsigned i = 0; i < c->n_files; i++)
		if (!strcmp(c->files[i].name, name))
			return c->files[i].data;
	return NULL;
}

/* ---- serving ---- */

/* If-None-Match: "*" or a list of tags, weak ones compared weakly (RFC 9110 13.1.2). */
static bool etag_matches(const char *header, const char *etag)
{
	size_t n = strlen(etag);

	if (!header)
		return false;
	for (const char *p = header; *p; ) {
		p += strspn(p, " \t,");
		if (*p == '*')
			return true;
		if (!strncmp(p, "W/", 2))
			p += 2;
		if (!strncmp(p, etag, n) && (p[n] == '\0' || p[n] == ',' || p[n] == ' ' || p[n] == '\t'))
			return true;
		p += strcspn(p, ",");
	}
	return false;
}

static void text(struct http_response *res, unsigned status, const char *body)
{
	res->status = status;
	res->raw_body = body;
	res->raw_type = "text/plain; charset=utf-8";
}

static void serve(struct dhpd_console *c, const struct http_request *req,
		  struct http_response *res)
{
	const struct console_file *f = NULL;
	const char *name;

	http_header(res, "Content-Security-Policy", "%s", csp);
	http_header(res, "X-Content-Type-Options", "nosniff");
	http_header(res, "Referrer-Policy", "no-referrer");
	if (!strcmp(req->path, CONSOLE_PREFIX)) {
		http_header(res, "Location", CONSOLE_PREFIX "/");
		text(res, 301, "moved to /console/\n");
		return;
	}
	if (req->method != HTTP_GET && req->method != HTTP_HEAD) {
		http_header(res, "Allow", "GET, HEAD");
		text(res, 405, "the console's files are read-only\n");
		return;
	}
	name = req->path + sizeof(CONSOLE_PREFIX);	/* after "/console/" */
	if (!name[0])
		name = "index.html";
	for (unsigned i = 0; i < c->n_files && !f; i++)
		if (!strcmp(c->files[i].name, name))
			f = &c->files[i];
	if (!f) {
		text(res, 404, c->n_files ? "no such file\n" : "the console is not installed\n");
		return;
	}
	http_header(res, "Cache-Control", "no-cache");
	http_header(res, "ETag", "%s", f->etag);
	if (etag_matches(req->if_none_match, f->etag)) {
		res->status = 304;
		return;
	}
	res->status = 200;
	res->raw_body = f->data;
	res->raw_type = f->type;
}

static bool is_console(const char *path)
{
	size_t n = sizeof(CONSOLE_PREFIX) - 1;

	return !strncmp(path, CONSOLE_PREFIX, n) && (path[n] == '\0' || path[n] == '/');
}

static void handle(void *ctx, const struct http_request *req, struct http_response *res)
{
	struct dhpd_console *c = ctx;

	if (is_console(req->path))
		serve(c, req, res);
	else
		c->next.handle(c->next.ctx, req, res);
}

static void refuse(void *ctx, const struct http_refusal *why, struct http_response *res)
{
	struct dhpd_console *c = ctx;

	c->next.refuse(c->next.ctx, why, res);
}

struct http_handler dhpd_console_handler(struct dhpd_console *c, struct http_handler next)
{
	c->next = next;
	return (struct http_handler){
		.handle = handle, .refuse = refuse, .ctx = c,
		.headers = next.headers, .n_headers = next.n_headers,
	};
}
