/* SPDX-License-Identifier: MIT */
/*
 * What every fuzz harness of tests/fuzz/ defines: libFuzzer's entry point.
 * Each harness is one file, tests/fuzz/NAME.c, whose seed and regression
 * corpus is the folder tests/fuzz/NAME/ (tests/README.md, Fuzzing).
 *
 * A harness calls the parser directly, never through a socket to a
 * server, and must be deterministic: the same input, the same path. It
 * aborts (FUZZ_CHECK) when a property it checks fails, so that libFuzzer
 * and the replay driver both see a crash.
 *
 * The same file is linked two ways: by clang with libFuzzer's main
 * (-fsanitize=fuzzer, `make fuzz`), and by the project's compiler with
 * replay.c's main (`make`, replayed by tests/t0660-fuzz-corpora.py).
 */
#ifndef DHP_TESTS_FUZZ_H
#define DHP_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Stop on a broken property, with where and what. */
#define FUZZ_CHECK(cond)                                                          \
	do {                                                                      \
		if (!(cond)) {                                                    \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,    \
				__LINE__, #cond);                                 \
			abort();                                                  \
		}                                                                 \
	} while (0)

#endif
