/* SPDX-License-Identifier: MIT */
/*
 * Passwords: PBKDF2-HMAC-SHA256 with a 16-byte random salt, compared in
 * constant time; the lockout after failures in a row. An unknown user is
 * hashed against a dummy salt so that it costs what a known one costs, and
 * gets the same answer as a wrong password.
 */
#include "auth/internal.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <stdio.h>
#include <string.h>

/* --- primitives ---------------------------------------------------------- */

int auth_random(void *buf, size_t len, struct dhp_error *err)
{
	if (gnutls_rnd(GNUTLS_RND_KEY, buf, len) < 0)
		return dhp_error_set(err, -EIO, "the random number generator failed");
	return 0;
}

int auth_hash_password(const char *password, const uint8_t *salt, unsigned iterations,
		       uint8_t *out, struct dhp_error *err)
{
	gnutls_datum_t key = { (unsigned char *)password, (unsigned)strlen(password) };
	gnutls_datum_t s = { (unsigned char *)salt, AUTH_SALT_LEN };

	if (gnutls_pbkdf2(GNUTLS_MAC_SHA256, &key, &s, iterations, out, AUTH_HASH_LEN) < 0)
		return dhp_error_set(err, -EIO, "password hashing (PBKDF2-HMAC-SHA256) failed");
	return 0;
}

bool auth_equal(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *x = a, *y = b;
	unsigned char diff = 0;

	for (size_t i = 0; i < len; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

void auth_hex(const uint8_t *bytes, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * len] = '\0';
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool auth_unhex(const char *text, uint8_t *bytes, size_t len)
{
	if (!text || strlen(text) != 2 * len)
		return false;
	for (size_t i = 0; i < len; i++) {
		int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

int auth_password_rule(const char *password, struct dhp_error *err)
{
	size_t len = password ? strnlen(password, AUTH_PASSWORD_MAX + 1) : 0;

	if (len < AUTH_PASSWORD_MIN || len > AUTH_PASSWORD_MAX)
		return dhp_error_set(err, -EINVAL, "a password has %d to %d bytes",
				     AUTH_PASSWORD_MIN, AUTH_PASSWORD_MAX);
	return 0;
}

/* --- checking a password ------------------------------------------------- */

static int refuse(struct dhp_error *err)
{
	dhp_error_set(err, -EACCES, "wrong user name or password");
	return -EACCES;
}

/* A failure in a row; the threshold-th locks the account. */
static void count_failure(const struct auth *auth, struct auth_account *a, uint64_t now)
{
	if (++a->failures < auth->config.lockout_threshold)
		return;
	a->failures = 0;
	a->locked_until = now + auth->config.lockout_duration_s;
}

int auth_check_password(struct auth *auth, const char *user, const char *password,
			uint64_t now, struct auth_principal *ret_who, struct dhp_error *err)
{
	struct auth_account *a = auth_account_lookup(auth, user);
	const uint8_t *salt = a ? a->salt : auth->dummy_salt;
	const uint8_t *want = a ? a->hash : auth->dummy_hash;
	unsigned iterations = a ? a->iterations : auth->config.hash_iterations;
	uint8_t got[AUTH_HASH_LEN];
	bool match;
	int r;

	/* The same work whoever asks: hash, then compare in constant time. */
	r = auth_hash_password(password ? password : "", salt, iterations, got, err);
	if (r)
		return r;
	match = auth_equal(got, want, sizeof(got));
	memset(got, 0, sizeof(got));
	if (!a)
		return refuse(err);
	if (now < a->locked_until) {
		dhp_error_set(err, -EPERM, "account \"%s\" is locked for %llu more seconds after %u failed logins",
			      a->user, (unsigned long long)(a->locked_until - now),
			      auth->config.lockout_threshold);
		dhp_error_resolve(err, "wait, or have an administrator set a new password");
		return -EPERM;
	}
	if (!match) {
		count_failure(auth, a, now);
		return refuse(err);
	}
	a->failures = 0;
	if (!a->enabled) {
		dhp_error_set(err, -EPERM, "account \"%s\" is disabled", a->user);
		dhp_error_resolve(err, "ask an administrator to enable it");
		return -EPERM;
	}
	if (ret_who) {
		memset(ret_who, 0, sizeof(*ret_who));
		snprintf(ret_who->user, sizeof(ret_who->user), "%s", a->user);
		ret_who->role = a->role;
		ret_who->privileges = auth_role_privileges(a->role);
	}
	return 0;
}
