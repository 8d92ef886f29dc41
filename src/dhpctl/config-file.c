/* SPDX-License-Identifier: MIT */
/* Reading dhpctl.conf (see config-file.h and docs/dhpctl.md). */
#include "config-file.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CONFIG_MAX (64u << 10)	/* a configuration file is a few lines */
#define PATH_MAX_LEN 4096

static int default_path(char *buf, size_t len)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(buf, len, "%s/dhp/dhpctl.conf", xdg);
	else if (home && home[0])
		n = snprintf(buf, len, "%s/.config/dhp/dhpctl.conf", home);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* A path from the file: "~/x" is under $HOME, "x" next to the file. */
static char *file_path(const char *conf, const char *value)
{
	const char *home = getenv("HOME"), *slash = strrchr(conf, '/');
	char buf[PATH_MAX_LEN];
	int n;

	if (value[0] == '/')
		return strdup(value);
	if (!strncmp(value, "~/", 2) && home)
		n = snprintf(buf, sizeof(buf), "%s/%s", home, value + 2);
	else if (slash)
		n = snprintf(buf, sizeof(buf), "%.*s/%s", (int)(slash - conf), conf, value);
	else
		return strdup(value);
	return n < 0 || (size_t)n >= sizeof(buf) ? NULL : strdup(buf);
}

static char *trim(char *s)
{
	size_t len;

	while (isspace((unsigned char)*s))
		s++;
	len = strlen(s);
	while (len && isspace((unsigned char)s[len - 1]))
		s[--len] = '\0';
	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s[len - 1] = '\0';
		s++;
	}
	return s;
}

static int set_key(struct config_file *file, const char *conf, unsigned line, const char *key,
		   const char *value, struct ctl_error *err)
{
	char **dst;
	bool is_path = false;

	if (!strcmp(key, "url"))
		dst = &file->url;
	else if (!strcmp(key, "user"))
		dst = &file->user;
	else if (!strcmp(key, "password-file"))
		dst = &file->password_file, is_path = true;
	else if (!strcmp(key, "cacert"))
		dst = &file->cacert, is_path = true;
	else
		return ctl_error_set(err, CTL_EXIT_USAGE,
				     "the keys are url, user, password-file and cacert",
				     "%s:%u: unknown key \"%s\"", conf, line, key);
	free(*dst);
	*dst = is_path ? file_path(conf, value) : strdup(value);
	return *dst ? 0 : ctl_error_set(err, CTL_EXIT_USAGE, NULL, "%s:%u: bad value", conf, line);
}

static int parse(struct config_file *file, const char *conf, char *text, struct ctl_error *err)
{
	unsigned line = 0;
	char *next;

	for (char *l = text; l; l = next) {
		char *eq, *key;
		int r;

		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		line++;
		key = trim(l);
		if (!key[0] || key[0] == '#')
			continue;
		eq = strchr(key, '=');
		if (!eq)
			return ctl_error_set(err, CTL_EXIT_USAGE, "write each setting as key = value",
					     "%s:%u: no \"=\"", conf, line);
		*eq = '\0';
		r = set_key(file, conf, line, trim(key), trim(eq + 1), err);
		if (r < 0)
			return r;
	}
	return 0;
}

int config_file_load(const char *path, struct config_file *ret_file, struct ctl_error *err)
{
	char def[PATH_MAX_LEN], *text = NULL;
	struct config_file file = { 0 };
	struct stat st = { 0 };
	ssize_t n = 0;
	int fd, r;

	if (!path && default_path(def, sizeof(def)) < 0)
		return 0;
	fd = open(path ? path : def, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && !path && errno == ENOENT)
		return 0;
	if (!path)
		path = def;
	if (fd < 0 || fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > CONFIG_MAX ||
	    !(text = malloc((size_t)st.st_size + 1)) ||
	    (n = read(fd, text, (size_t)st.st_size)) < 0) {
		r = ctl_error_set(err, CTL_EXIT_USAGE, NULL,
				  "cannot read the configuration file \"%s\": %s", path,
				  fd >= 0 && st.st_size > CONFIG_MAX ? "larger than 64 KiB" :
				  fd >= 0 && !S_ISREG(st.st_mode) ? "not a file" : strerror(errno));
		goto out;
	}
	text[n] = '\0';
	r = parse(&file, path, text, err);
	if (!r) {
		*ret_file = file;
		memset(&file, 0, sizeof(file));
	}
out:
	config_file_release(&file);
	free(text);
	if (fd >= 0)
		close(fd);
	return r;
}

void config_file_release(struct config_file *file)
{
	free(file->url);
	free(file->user);
	free(file->password_file);
	free(file->cacert);
	memset(file, 0, sizeof(*file));
}
