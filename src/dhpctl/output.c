/* SPDX-License-Identifier: MIT */
/*
 * What dhpctl prints: tables (or, with -o json, their rows as an array of
 * objects), JSON, and error lines. The verbs fill rows as JSON objects, so
 * the table and its JSON form cannot disagree.
 */
#include "dhpctl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define CELL_MAX 4096
#define TABLE_MAX_COLS 16	/* more would not fit a screen anyway */

int ctl_error_set(struct ctl_error *err, int exit_code, const char *hint, const char *fmt, ...)
{
	va_list ap;

	if (!err->exit_code) {
		err->exit_code = exit_code;
		va_start(ap, fmt);
		vsnprintf(err->message, sizeof(err->message), fmt, ap);
		va_end(ap);
		snprintf(err->hint, sizeof(err->hint), "%s", hint ? hint : "");
	}
	switch (exit_code) {
	case CTL_EXIT_USAGE: return -EINVAL;
	case CTL_EXIT_REFUSED: return -EPERM;
	case CTL_EXIT_AUTH: return -EACCES;
	case CTL_EXIT_INTERRUPTED: return -EINTR;
	case CTL_EXIT_FAILED: return -ECANCELED;
	default: return -EIO;
	}
}

int ctl_error_print(const struct ctl_error *err)
{
	fflush(stdout);
	fprintf(stderr, PROG ": %s\n", err->message[0] ? err->message : "failed");
	if (err->hint[0])
		fprintf(stderr, "  hint: %s\n", err->hint);
	return err->exit_code ? err->exit_code : CTL_EXIT_FAILED;
}

int ctl_usage(const char *fmt, ...)
{
	struct ctl_error err = { 0 };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err.message, sizeof(err.message), fmt, ap);
	va_end(ap);
	snprintf(err.hint, sizeof(err.hint), "run " PROG " --help for the usage");
	err.exit_code = CTL_EXIT_USAGE;
	return ctl_error_print(&err);
}

void json_print(const json_t *json)
{
	json_dumpf(json, stdout, JSON_INDENT(2) | JSON_ENCODE_ANY);
	fputc('\n', stdout);
}

static void cell_number(const json_t *v, const char *unit, double scale, char *buf, size_t len)
{
	if (json_is_number(v))
		snprintf(buf, len, "%g %s", json_number_value(v) / scale, unit);
	else
		snprintf(buf, len, "-");
}

static void cell_list(const json_t *v, char *buf, size_t len)
{
	size_t pos = 0, i;
	const json_t *item;

	buf[0] = '\0';
	json_array_foreach(v, i, item) {
		const char *s = json_is_string(item) ? json_string_value(item) : ref_id(item);

		buf_add(buf, len, &pos, "%s%s", pos ? " " : "", s ? s : "?");
	}
	if (!buf[0])
		snprintf(buf, len, "-");
}

static void cell_text(const struct col *col, const json_t *row, char *buf, size_t len)
{
	const json_t *v = json_object_get(row, col->key);

	if (col->format == COL_GIB)
		cell_number(v, "GiB", 1, buf, len);
	else if (col->format == COL_MIB && json_is_number(v) && json_number_value(v) >= 1024)
		cell_number(v, "GiB", 1024, buf, len);
	else if (col->format == COL_MIB)
		cell_number(v, "MiB", 1, buf, len);
	else if (col->format == COL_MS)
		cell_number(v, "ms", 1, buf, len);
	else if (col->format == COL_LIST)
		cell_list(v, buf, len);
	else if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, len, "%g", json_real_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
	else
		snprintf(buf, len, "-");
}

static void print_row(const struct table *t, const json_t *row, const int *width)
{
	char cell[CELL_MAX];

	unsigned n = t->n_cols < TABLE_MAX_COLS ? t->n_cols : TABLE_MAX_COLS;

	for (unsigned c = 0; c < n; c++) {
		const struct col *col = &t->cols[c];
		bool last = c + 1 == n;

		if (row)
			cell_text(col, row, cell, sizeof(cell));
		else
			snprintf(cell, sizeof(cell), "%s", col->header);
		if (col->right)
			printf("%*s", width[c], cell);
		else
			printf("%-*s", last ? 0 : width[c], cell);
		printf("%s", last ? "\n" : "  ");
	}
}

void table_print(const struct ctl *ctl, const struct table *t)
{
	int width[TABLE_MAX_COLS] = { 0 };
	char cell[CELL_MAX];
	const json_t *row;
	size_t i;

	if (ctl->json) {
		json_print(t->rows);
		return;
	}
	if (!json_array_size(t->rows)) {
		if (t->empty)
			printf("%s\n", t->empty);
		return;
	}
	for (unsigned c = 0; c < t->n_cols && c < TABLE_MAX_COLS; c++)
		width[c] = (int)strlen(t->cols[c].header);
	json_array_foreach(t->rows, i, row) {
		for (unsigned c = 0; c < t->n_cols && c < TABLE_MAX_COLS; c++) {
			int n;

			cell_text(&t->cols[c], row, cell, sizeof(cell));
			n = (int)strlen(cell);
			if (n > width[c])
				width[c] = n;
		}
	}
	print_row(t, NULL, width);
	json_array_foreach(t->rows, i, row) {
		const char *note = t->note_key ? jstr(row, t->note_key, NULL) : NULL;

		print_row(t, row, width);
		if (note && note[0])
			printf("%*s  %s\n", width[0], "", note);
	}
}
