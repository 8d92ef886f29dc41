/* SPDX-License-Identifier: MIT */
/* Small helpers: paths into JSON, names, server text, time, sleeping. */
#include "dhpctl.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

json_t *jget(const json_t *json, const char *path)
{
	const char *p = path;

	while (json && *p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (!json_is_object(json))
			return NULL;
		json = json_object_getn(json, p, len);
		p += len + (slash != NULL);
	}
	return (json_t *)json;
}

const char *jstr(const json_t *json, const char *path, const char *dflt)
{
	const char *s = json_string_value(jget(json, path));

	return s ? s : dflt;
}

bool jint(const json_t *json, const char *path, long long *ret_value)
{
	const json_t *v = jget(json, path);
	const char *s;
	char *end;
	long long n;

	if (json_is_integer(v)) {
		*ret_value = json_integer_value(v);
		return true;
	}
	s = json_string_value(v);
	if (!s || !isdigit((unsigned char)s[0]))
		return false;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*ret_value = n;
	return true;
}

const char *ref_id(const json_t *ref)
{
	const char *s = json_is_string(ref) ? json_string_value(ref) : jstr(ref, "@odata.id", NULL);
	const char *slash;

	if (!s)
		return NULL;
	slash = strrchr(s, '/');
	return slash ? slash + 1 : s;
}

json_t *ref_new(const char *prefix, const char *id)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", prefix, id);
	return json_pack("{ss}", "@odata.id", path);
}

bool ctl_valid_name(const char *name)
{
	size_t len = strlen(name);

	if (!len || len > 63 || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") ==
	       len;
}

void ctl_tidy(char *text)
{
	size_t len;

	/* "The resource..." reads "the resource...", but "URI ..." stays. */
	if (isupper((unsigned char)text[0]) && !isupper((unsigned char)text[1]))
		text[0] = (char)tolower((unsigned char)text[0]);
	len = strlen(text);
	while (len && (isspace((unsigned char)text[len - 1]) || text[len - 1] == '.'))
		text[--len] = '\0';
}

int parse_time_ms(const char *text, int64_t *ret_ms, bool *ret_precise)
{
	struct tm tm = { 0 };
	int consumed = 0, ms = 0, digits = 0, tz_h = 0, tz_m = 0, sign = 0;
	const char *p;
	time_t secs;

	if (!text || sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon,
			    &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 6)
		return -EINVAL;
	p = text + consumed;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++, digits++)
			if (digits < 3)
				ms = ms * 10 + (*p - '0');
	for (int d = digits; d < 3; d++)
		ms *= 10;
	if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (sscanf(p + 1, "%2d:%2d", &tz_h, &tz_m) != 2)
			return -EINVAL;
	} else if (*p != 'Z' && *p) {
		return -EINVAL;
	}
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	secs = timegm(&tm);
	if (secs == (time_t)-1)
		return -EINVAL;
	secs -= (time_t)sign * (tz_h * 3600 + tz_m * 60);
	*ret_ms = (int64_t)secs * 1000 + ms;
	*ret_precise = digits > 0;
	return 0;
}

void format_time_ms(int64_t ms, char *buf, size_t len)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char day[32];

	if (!localtime_r(&secs, &tm) || !strftime(day, sizeof(day), "%Y-%m-%d %H:%M:%S", &tm))
		snprintf(day, sizeof(day), "?");
	snprintf(buf, len, "%s.%03u", day, (unsigned)(ms % 1000));
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	/* A signal ends nanosleep early: that is how Ctrl-C stops a wait. */
	while (nanosleep(&ts, &ts) && errno == EINTR)
		if (ctl_interrupted())
			return -EINTR;
	return ctl_interrupted() ? -EINTR : 0;
}

void buf_add(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= len)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	*pos = n < 0 || (size_t)n >= len - *pos ? len : *pos + (size_t)n;
}
