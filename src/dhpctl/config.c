/* SPDX-License-Identifier: MIT */
/*
 * Where the endpoint and the credentials come from. Each setting is taken
 * from the first of: the command line, the environment (DHP_URL,
 * DHP_USER, DHP_PASSWORD, DHP_TOKEN, DHP_CACERT), the configuration file
 * (--config FILE, or $XDG_CONFIG_HOME/dhp/dhpctl.conf, by default
 * ~/.config/dhp/dhpctl.conf). A token and a user compete as one setting:
 * the one from the stronger source is used, the token on a tie.
 *
 * The file never holds a password, only the name of a file that does, so
 * that the configuration itself can be shared or kept in version control.
 */
#include "dhpctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "config-file.h"

enum level { LEVEL_NONE, LEVEL_FILE, LEVEL_ENV, LEVEL_FLAG };

#define SECRET_MAX 1024

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && v[0] ? v : NULL;
}

/* The first set of flag, env, file; *ret_level says which. */
static const char *pick(const char *flag, const char *envv, const char *file,
			enum level *ret_level)
{
	enum level l = flag ? LEVEL_FLAG : envv ? LEVEL_ENV : file ? LEVEL_FILE : LEVEL_NONE;

	if (ret_level)
		*ret_level = l;
	return flag ? flag : envv ? envv : file;
}

/* The first line of a small file: passwords are kept one per file. */
static int read_secret(const char *path, char **ret, struct ctl_error *err)
{
	char buf[SECRET_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ctl_error_set(err, CTL_EXIT_USAGE, NULL, "cannot read the password file \"%s\": %s",
				     path, strerror(errno));
	if (!fstat(fd, &st) && (st.st_mode & 077))
		fprintf(stderr, PROG ": warning: the password file \"%s\" can be read by others\n",
			path);
	n = read(fd, buf, SECRET_MAX + 1);
	close(fd);
	if (n < 0 || n > SECRET_MAX)
		return ctl_error_set(err, CTL_EXIT_USAGE, NULL, "cannot read the password file \"%s\": %s",
				     path, n < 0 ? strerror(errno) : "longer than 1 KiB");
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	if (!buf[0])
		return ctl_error_set(err, CTL_EXIT_USAGE, NULL, "the password file \"%s\" is empty",
				     path);
	*ret = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return *ret ? 0 : ctl_error_set(err, CTL_EXIT_FAILED, NULL, "out of memory");
}

/* Ask on the terminal, without echo; only when one is there. */
static int prompt_password(const struct ctl_config *cfg, char **ret)
{
	char buf[SECRET_MAX];
	struct termios old, quiet;
	FILE *tty;
	bool ok;

	if (!isatty(STDIN_FILENO) || !(tty = fopen("/dev/tty", "r+e")))
		return -ENOTTY;
	fprintf(tty, "password for %s at %s: ", cfg->user, cfg->url);
	fflush(tty);
	ok = !tcgetattr(fileno(tty), &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	if (ok)
		tcsetattr(fileno(tty), TCSAFLUSH, &quiet);
	ok = fgets(buf, sizeof(buf), tty) != NULL;
	tcsetattr(fileno(tty), TCSAFLUSH, &old);
	fputc('\n', tty);
	fclose(tty);
	if (!ok)
		return -EIO;
	buf[strcspn(buf, "\r\n")] = '\0';
	*ret = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return *ret ? 0 : -ENOMEM;
}

static int resolve_password(const struct ctl_flags *flags, const struct config_file *file,
			    struct ctl_config *cfg, struct ctl_error *err)
{
	if (flags->password)
		return (cfg->password = strdup(flags->password)) ? 0 : -ENOMEM;
	if (flags->password_file)
		return read_secret(flags->password_file, &cfg->password, err);
	if (env("DHP_PASSWORD"))
		return (cfg->password = strdup(env("DHP_PASSWORD"))) ? 0 : -ENOMEM;
	if (file->password_file)
		return read_secret(file->password_file, &cfg->password, err);
	if (!prompt_password(cfg, &cfg->password))
		return 0;
	return ctl_error_set(err, CTL_EXIT_USAGE,
			     "give --password-file FILE, DHP_PASSWORD, or password-file = in the "
			     "configuration file",
			     "no password for user \"%s\"", cfg->user);
}

static int dup_or_null(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

int ctl_config_resolve(const struct ctl_flags *flags, struct ctl_config *ret_cfg,
		       struct ctl_error *err)
{
	struct config_file file = { 0 };
	struct ctl_config cfg = { 0 };
	enum level user_level, token_level;
	const char *user, *token;
	int r = config_file_load(flags->config, &file, err);

	if (r < 0)
		return r;
	user = pick(flags->user, env("DHP_USER"), file.user, &user_level);
	token = pick(flags->token, env("DHP_TOKEN"), NULL, &token_level);
	if (flags->need_password || (user && user_level > token_level))
		token = NULL;
	else if (token)
		user = NULL;
	cfg.insecure = flags->insecure;
	cfg.timeout_s = flags->timeout_s > 0 ? flags->timeout_s : CTL_DEFAULT_TIMEOUT_S;
	if (dup_or_null(&cfg.url, pick(flags->url, env("DHP_URL"), file.url, NULL)) ||
	    dup_or_null(&cfg.cacert, pick(flags->cacert, env("DHP_CACERT"), file.cacert, NULL)) ||
	    dup_or_null(&cfg.user, user) || dup_or_null(&cfg.token, token) ||
	    (!cfg.url && !(cfg.url = strdup(CTL_DEFAULT_URL)))) {
		r = ctl_error_set(err, CTL_EXIT_FAILED, NULL, "out of memory");
		goto fail;
	}
	if (flags->need_password && !cfg.user) {
		r = ctl_error_set(err, CTL_EXIT_USAGE,
				  "give --user (or DHP_USER, or user = in the configuration file)",
				  "logging in needs a user name");
		goto fail;
	}
	if (cfg.user) {
		r = resolve_password(flags, &file, &cfg, err);
		if (r == -ENOMEM)
			r = ctl_error_set(err, CTL_EXIT_FAILED, NULL, "out of memory");
		if (r < 0)
			goto fail;
	}
	config_file_release(&file);
	*ret_cfg = cfg;
	return 0;
fail:
	config_file_release(&file);
	ctl_config_release(&cfg);
	return r;
}

void ctl_config_release(struct ctl_config *cfg)
{
	if (cfg->password)
		explicit_bzero(cfg->password, strlen(cfg->password));
	if (cfg->token)
		explicit_bzero(cfg->token, strlen(cfg->token));
	free(cfg->url);
	free(cfg->user);
	free(cfg->password);
	free(cfg->token);
	free(cfg->cacert);
	memset(cfg, 0, sizeof(*cfg));
}
