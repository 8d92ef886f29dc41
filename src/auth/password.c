/* SPDX-License-Identifier: MIT */
/*
 * Passwords: PBKDF2-HMAC-SHA256 with a 16-byte random salt, compared in
 * constant time. An unknown user is hashed against a dummy salt, and every
 * check costs what the most expensive account costs, so that no answer
 * tells a user name; every failure gets the same answer.
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

/* One answer for every failure: which one it was is nobody's business but
 * the administrators' (a blocked source shows as the account's Locked). */
static int refuse(struct dhp_error *err)
{
	dhp_error_set(err, -EACCES, "wrong user name or password");
	return -EACCES;
}

/* The most any account's hash costs: an unknown user and a cheaper account
 * pay it too, so that no answer is faster than a real account's. */
static unsigned highest_cost(const struct auth *auth)
{
	unsigned most = auth->config.hash_iterations;

	for (size_t i = 0; i < auth->n_accounts; i++)
		if (auth->accounts[i].iterations > most)
			most = auth->accounts[i].iterations;
	return most;
}

static void fill_who(const struct auth_account *a, struct auth_principal *ret_who)
{
	if (!ret_who)
		return;
	memset(ret_who, 0, sizeof(*ret_who));
	snprintf(ret_who->user, sizeof(ret_who->user), "%s", a->user);
	ret_who->role = a->role;
	ret_who->privileges = auth_role_privileges(a->role);
}

int auth_check_password(struct auth *auth, const char *source, const char *user,
			const char *password, uint64_t now, struct auth_principal *ret_who,
			struct dhp_error *err)
{
	struct auth_account *a;
	const uint8_t *salt, *want;
	unsigned iterations, most;
	uint8_t got[AUTH_HASH_LEN], pad[AUTH_HASH_LEN];
	bool match;
	int r;

	/* First, before any work: a blocked source costs nothing. */
	r = auth_source_check(auth, source, now, err);
	if (r)
		return r;
	a = auth_account_lookup(auth, user);
	password = password ? password : "";
	if (a && a->enabled && auth_cache_hit(auth, a->user, password, now)) {
		fill_who(a, ret_who);
		return 0;
	}
	salt = a ? a->salt : auth->dummy_salt;
	want = a ? a->hash : auth->dummy_hash;
	most = highest_cost(auth);
	iterations = a ? a->iterations : most;
	/* The same work whoever asks: hash (topped up to the highest cost),
	 * then compare in constant time. */
	r = auth_hash_password(password, salt, iterations, got, err);
	if (!r && iterations < most)
		r = auth_hash_password(password, auth->dummy_salt, most - iterations, pad, err);
	if (r)
		return r;
	auth->hashed += iterations < most ? most : iterations;
	match = auth_equal(got, want, sizeof(got));
	memset(got, 0, sizeof(got));
	memset(pad, 0, sizeof(pad));
	if (!a || !match || !a->enabled) {
		auth_source_failed(auth, source, user, now);
		return refuse(err);
	}
	auth_cache_add(auth, a->user, password, now);
	fill_who(a, ret_who);
	return 0;
}
