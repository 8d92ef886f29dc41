/* SPDX-License-Identifier: MIT */
/*
 * The reference ETag the differential checks hold http_etag to (t0650 and
 * the json-diff fuzz harness): the original, plain implementation, keys
 * sorted with qsort, kept here unchanged while http/json-etag.c is
 * optimised.
 */
#ifndef DHP_TESTS_ETAG_REF_H
#define DHP_TESTS_ETAG_REF_H

#include <jansson.h>
#include <stddef.h>

/* W/"<16 hex digits>" of v into buf (64 bytes are enough). */
void etag_reference(const json_t *v, char *buf, size_t len);

#endif
