/* SPDX-License-Identifier: MIT */
/*
 * Which query parameters a request carries, and whether dhp can answer
 * them (DSP0266, "Query parameters"; docs/redfish.md). Everything is
 * checked here, before any handler runs, so that a bad query changes
 * nothing; query-apply.c and expand.c then shape the GET's answer.
 */
#include "redfish/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LEVELS_OPTION "($levels="

static int bad_format(struct http_response *res, const char *name, const char *value)
{
	rf_error(res, 400, "QueryParameterValueFormatError", NULL,
		 "The value '%.100s' for the parameter %s is not a format that the parameter "
		 "can accept.", value ? value : "", name);
	return -EINVAL;
}

/* A count: decimal digits only (no sign, no spaces). */
static int parse_count(const char *name, const char *value, uint64_t *ret,
		       struct http_response *res)
{
	char *end;
	unsigned long long v;

	if (!value || !*value || strspn(value, "0123456789") != strlen(value))
		return bad_format(res, name, value);
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno == ERANGE) {
		rf_error(res, 400, "QueryParameterOutOfRange", NULL,
			 "The value '%.100s' for the query parameter %s is out of range 0 to %llu.",
			 value, name, (unsigned long long)UINT64_MAX);
		return -EINVAL;
	}
	*ret = v;
	return 0;
}

static int parse_top(struct rf_query *q, const char *value, struct http_response *res)
{
	q->has_top = true;
	return parse_count("$top", value, &q->top, res);
}

static int parse_skip(struct rf_query *q, const char *value, struct http_response *res)
{
	q->has_skip = true;
	return parse_count("$skip", value, &q->skip, res);
}

/* "." "~" "*", then optionally "($levels=N)". */
static int parse_expand(struct rf_query *q, const char *value, struct http_response *res)
{
	static const char modes[] = ".~*";
	static const enum rf_expand mode_of[] = {
		RF_EXPAND_SUBORDINATE, RF_EXPAND_LINKS, RF_EXPAND_ALL,
	};
	const char *opt, *p;
	uint64_t levels = 1;
	char digits[24];
	size_t n;

	if (!value || !*value || !strchr(modes, value[0]))
		return bad_format(res, "$expand", value);
	q->expand = mode_of[strchr(modes, value[0]) - modes];
	opt = value + 1;
	if (*opt) {
		if (strncmp(opt, LEVELS_OPTION, strlen(LEVELS_OPTION)))
			return bad_format(res, "$expand", value);
		p = opt + strlen(LEVELS_OPTION);
		n = strcspn(p, ")");
		if (p[n] != ')' || p[n + 1] || n >= sizeof(digits))
			return bad_format(res, "$expand", value);
		snprintf(digits, sizeof(digits), "%.*s", (int)n, p);
		if (parse_count("$levels", digits, &levels, res) < 0)
			return -EINVAL;
	}
	if (levels < 1 || levels > RF_EXPAND_MAX_LEVELS) {
		rf_error(res, 400, "QueryParameterOutOfRange", NULL,
			 "The value '%llu' for the query parameter $levels is out of range 1 to %d.",
			 (unsigned long long)levels, RF_EXPAND_MAX_LEVELS);
		return -EINVAL;
	}
	q->levels = (unsigned)levels;
	return 0;
}

/* One property path "A/B/C" into the tree: a whole property is true, one
 * of whose parts are selected an object. */
static int select_path(json_t *tree, const char *path, size_t len)
{
	json_t *node = tree;

	while (len) {
		size_t n = strcspn(path, "/");
		char name[128];
		json_t *child;

		n = n < len ? n : len;
		if (!n || n >= sizeof(name) || strspn(path, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			  "abcdefghijklmnopqrstuvwxyz0123456789_@.#-") < n || n == len - 1)
			return -EINVAL;
		memcpy(name, path, n);
		name[n] = '\0';
		child = json_object_get(node, name);
		if (n == len)
			return json_object_set_new(node, name, json_true()) ? -ENOMEM : 0;
		if (json_is_true(child))
			return 0;	/* the whole property is selected already */
		if (!child && json_object_set_new(node, name, child = json_object()))
			return -ENOMEM;
		node = child;
		path += n + 1;
		len -= n + 1;
	}
	return -EINVAL;
}

static int parse_select(struct rf_query *q, const char *value, struct http_response *res)
{
	const char *p = value;

	if (!value || !*value)
		return bad_format(res, "$select", value);
	q->select_text = value;
	q->select = json_object();
	for (;;) {
		size_t n = strcspn(p, ",");
		int r = q->select ? select_path(q->select, p, n) : -ENOMEM;

		if (r == -ENOMEM) {
			rf_error(res, 500, "InternalError", NULL, "out of memory");
			return r;
		}
		if (r < 0)
			return bad_format(res, "$select", value);
		if (!p[n])
			return 0;
		p += n + 1;
	}
}

static int parse_only(struct rf_query *q, const char *value, struct http_response *res)
{
	if (value && *value)
		return bad_format(res, "only", value);
	q->only = true;
	return 0;
}

static int parse_filter(struct rf_query *q, const char *value, struct http_response *res)
{
	if (!value || !*value)
		return bad_format(res, "$filter", value);
	q->filter = value;
	return 0;
}

/* The parameters dhp takes; any other beginning with '$' is a 501, as
 * DSP0266 says, and so is excerpt (no dhp resource has excerpt
 * properties); other unknown ones are ignored. */
static const struct param {
	const char *name;
	int (*parse)(struct rf_query *q, const char *value, struct http_response *res);
} known[] = {
	{ "$expand", parse_expand }, { "$select", parse_select }, { "$top", parse_top },
	{ "$skip", parse_skip }, { "only", parse_only }, { "$filter", parse_filter },
};
#define N_KNOWN (sizeof(known) / sizeof(known[0]))

static const struct param *find_param(const char *name)
{
	for (size_t i = 0; i < N_KNOWN; i++)
		if (!strcmp(known[i].name, name))
			return &known[i];
	return NULL;
}

static int not_supported(struct http_response *res, const char *name)
{
	rf_error(res, 501, "QueryNotSupported", NULL, "Querying is not supported by the implementation: the query "
		 "parameter %.100s is not supported.", name);
	return -EINVAL;
}

/* Refused before a known parameter is looked at: 501 wins over 400. */
static int check_names(const struct http_query_param *params, unsigned n,
		       struct http_response *res)
{
	for (unsigned i = 0; i < n; i++)
		if ((params[i].name[0] == '$' || !strcmp(params[i].name, "excerpt")) &&
		    !find_param(params[i].name))
			return not_supported(res, params[i].name);
	return 0;
}

int rf_query_parse(struct rf_query *q, enum http_method method,
		   const struct http_query_param *params, unsigned n,
		   struct http_response *res)
{
	unsigned seen = 0, count = 0;

	*q = (struct rf_query){ .levels = 1 };
	if (check_names(params, n, res) < 0)
		return -EINVAL;
	for (unsigned i = 0; i < n; i++) {
		const struct param *p = find_param(params[i].name);
		unsigned bit = p ? 1u << (p - known) : 0;

		if (!p)
			continue;
		if (seen & bit) {
			rf_query_release(q);
			return bad_format(res, p->name, "given twice");
		}
		seen |= bit, count++;
		if (p->parse(q, params[i].value, res) < 0) {
			rf_query_release(q);
			return -EINVAL;
		}
	}
	if (count && method != HTTP_GET && method != HTTP_HEAD) {
		rf_error(res, 400, "QueryNotSupportedOnOperation", NULL,
			 "Querying is not supported with the requested operation: query parameters "
			 "apply to GET and HEAD only.");
	} else if (q->only && count > 1) {
		rf_error(res, 400, "QueryCombinationInvalid", NULL,
			 "Two or more query parameters in the request cannot be used together: "
			 "only takes no other query parameter.");
	} else {
		return 0;
	}
	rf_query_release(q);
	return -EINVAL;
}

void rf_query_release(struct rf_query *q)
{
	json_decref(q->select);
	q->select = NULL;
}

bool rf_query_shapes(const struct rf_query *q)
{
	return q->only || q->has_top || q->has_skip || q->expand != RF_EXPAND_NONE || q->select;
}
