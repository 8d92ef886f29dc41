/* SPDX-License-Identifier: MIT */
/*
 * A small test harness. A test program runs named cases; each case passes
 * when no CHECK in it failed. Output, one line per case:
 *   ok NAME | not ok NAME | skip NAME: REASON
 * scripts/run-tests adds them up into "N passed, N failed, N skipped".
 */
#ifndef DHP_TESTS_HARNESS_H
#define DHP_TESTS_HARNESS_H

#include <stdbool.h>
#include <stdio.h>

struct test_state {
	const char *name;
	unsigned failures;
	unsigned passed, failed, skipped;
	bool verbose;
};

extern struct test_state test_state;

/* Begin a case; name is printf-formatted. */
__attribute__((format(printf, 1, 2)))
void test_begin(const char *fmt, ...);
/* End the current case and print its line. */
void test_end(void);
/* Mark the current case skipped (ends it). */
__attribute__((format(printf, 1, 2)))
void test_skip(const char *fmt, ...);
/* Print the totals of this program; returns its exit status. */
int test_done(void);

__attribute__((format(printf, 3, 4)))
void test_fail(const char *file, int line, const char *fmt, ...);

#define CHECK(cond)                                                        \
	do {                                                               \
		if (!(cond))                                               \
			test_fail(__FILE__, __LINE__, "%s", #cond);        \
	} while (0)

#define CHECK_MSG(cond, ...)                                               \
	do {                                                               \
		if (!(cond))                                               \
			test_fail(__FILE__, __LINE__, __VA_ARGS__);        \
	} while (0)

#define CHECK_INT(a, b)                                                    \
	do {                                                               \
		long long a_ = (long long)(a), b_ = (long long)(b);        \
		if (a_ != b_)                                              \
			test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", \
				  #a, #b, a_, b_);                         \
	} while (0)

#define CHECK_STR(a, b)                                                    \
	do {                                                               \
		const char *a_ = (a), *b_ = (b);                           \
		if (!a_ || !b_ || strcmp(a_, b_))                          \
			test_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", \
				  #a, #b, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); \
	} while (0)

/* A case that is one function. */
#define RUN(fn)                                                            \
	do {                                                               \
		test_begin("%s", #fn);                                     \
		fn();                                                      \
		test_end();                                                \
	} while (0)

#endif
