/* SPDX-License-Identifier: MIT */
#include "harness.h"

#include <stdarg.h>
#include <stdlib.h>

struct test_state test_state;
static char current[256];
static bool open_case;

void test_begin(const char *fmt, ...)
{
	va_list ap;

	if (open_case)
		test_end();
	va_start(ap, fmt);
	vsnprintf(current, sizeof(current), fmt, ap);
	va_end(ap);
	test_state.name = current;
	test_state.failures = 0;
	open_case = true;
}

void test_end(void)
{
	if (!open_case)
		return;
	open_case = false;
	if (test_state.failures) {
		test_state.failed++;
		printf("not ok %s\n", current);
	} else {
		test_state.passed++;
		printf("ok %s\n", current);
	}
	fflush(stdout);
}

void test_skip(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("skip %s: ", current);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	open_case = false;
	test_state.skipped++;
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	test_state.failures++;
	/* Cap the noise of a matrix gone wrong. */
	if (test_state.failures > 5)
		return;
	va_start(ap, fmt);
	printf("#   %s: %s:%d: ", current, file, line);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

int test_done(void)
{
	if (open_case)
		test_end();
	printf("# %u passed, %u failed, %u skipped\n", test_state.passed,
	       test_state.failed, test_state.skipped);
	return test_state.failed ? 1 : 0;
}
