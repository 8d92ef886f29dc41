/* SPDX-License-Identifier: MIT */
/*
 * A store's SQLite file read and changed behind its back, as an operator
 * with the sqlite3 shell would (t0200-store, t0320-retention).
 */
#ifndef DHP_TESTS_RAWDB_H
#define DHP_TESTS_RAWDB_H

/* Run sql on the file at path; a failure is a failed check. */
void raw_exec(const char *path, const char *sql);
/* The first column of sql's first row, as a number; -1 when there is none. */
long long raw_int(const char *path, const char *sql);

#endif
