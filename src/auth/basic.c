/* SPDX-License-Identifier: MIT */
/*
 * Basic credentials (RFC 7617): the Authorization header decoded here,
 * strictly and into fixed buffers, because libmicrohttpd's decoder hands
 * back C strings and so cuts a password at a NUL byte; and a cache of the
 * credentials that verified lately, so that a client using Basic auth pays
 * PBKDF2 once a minute rather than on every request.
 *
 * The cache holds HMAC-SHA256(cache_key, user NUL password) with a key
 * made at start-up, never the password: a hit needs the very password that
 * verified. It is consulted only after the source throttle, so a blocked
 * address cannot use it to test guesses cheaply.
 */
#include "auth/internal.h"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <string.h>
#include <strings.h>

/* --- the header ---------------------------------------------------------- */

/* Base64 of the longest "user:password" (63 + 1 + 127 bytes). */
#define BASIC_DECODED_MAX (AUTH_USER_MAX - 1 + 1 + AUTH_PASSWORD_MAX)
#define BASIC_ENCODED_MAX (4 * ((BASIC_DECODED_MAX + 2) / 3))

static int b64_value(char c)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p = c ? strchr(alphabet, c) : NULL;

	return p ? (int)(p - alphabet) : -1;
}

/* Strict base64 (padded, RFC 4648) of len characters into out. */
static int b64_decode(const char *in, size_t len, uint8_t *out, size_t *ret_len)
{
	size_t n = 0;

	if (!len || len % 4)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 4) {
		int v[4];
		unsigned pad = 0;

		for (int k = 0; k < 4; k++) {
			v[k] = b64_value(in[i + k]);
			if (in[i + k] == '=' && i + 4 == len && k >= 2)
				pad++, v[k] = 0;
			else if (v[k] < 0 || pad)
				return -EINVAL;	/* a character after '=' too */
		}
		out[n++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[n++] = (uint8_t)(v[1] << 4 | v[2] >> 2);
		if (pad < 1)
			out[n++] = (uint8_t)(v[2] << 6 | v[3]);
	}
	*ret_len = n;
	return 0;
}

int auth_basic_parse(const char *header, char *ret_user, char *ret_password)
{
	uint8_t buf[BASIC_ENCODED_MAX / 4 * 3];
	size_t len, n = 0, user_len;
	const uint8_t *colon;
	int r;

	if (!header || strncasecmp(header, "Basic ", 6))
		return -EINVAL;
	header += 6;
	header += strspn(header, " ");
	len = strnlen(header, BASIC_ENCODED_MAX + 1);
	while (len && header[len - 1] == ' ')
		len--;
	if (len > BASIC_ENCODED_MAX)
		return -EINVAL;
	r = b64_decode(header, len, buf, &n);
	/* Checked before the split: a NUL would end the password early. */
	if (!r && (n > BASIC_DECODED_MAX || memchr(buf, '\0', n)))
		r = -EINVAL;
	colon = r ? NULL : memchr(buf, ':', n);
	user_len = colon ? (size_t)(colon - buf) : 0;
	if (!colon || !user_len || user_len >= AUTH_USER_MAX ||
	    n - user_len - 1 > AUTH_PASSWORD_MAX) {
		explicit_bzero(buf, sizeof(buf));
		return -EINVAL;
	}
	memcpy(ret_user, buf, user_len);
	ret_user[user_len] = '\0';
	memcpy(ret_password, colon + 1, n - user_len - 1);
	ret_password[n - user_len - 1] = '\0';
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

/* --- the cache ----------------------------------------------------------- */

static int mac_of(const struct auth *auth, const char *user, const char *password,
		  uint8_t *out)
{
	char text[AUTH_USER_MAX + AUTH_PASSWORD_MAX + 1];
	size_t u = strnlen(user, AUTH_USER_MAX), p = strnlen(password, AUTH_PASSWORD_MAX + 1);
	int r;

	if (u >= AUTH_USER_MAX || p > AUTH_PASSWORD_MAX)
		return -EINVAL;
	memcpy(text, user, u + 1);	/* with its NUL: "ab"+"c" is not "a"+"bc" */
	memcpy(text + u + 1, password, p);
	r = gnutls_hmac_fast(GNUTLS_MAC_SHA256, auth->cache_key, sizeof(auth->cache_key),
			     text, u + 1 + p, out) < 0 ? -EIO : 0;
	explicit_bzero(text, sizeof(text));
	return r;
}

bool auth_cache_hit(struct auth *auth, const char *user, const char *password, uint64_t now)
{
	uint8_t mac[AUTH_HASH_LEN];
	bool hit = false;

	if (mac_of(auth, user, password, mac))
		return false;
	for (size_t i = 0; i < AUTH_CACHE_MAX; i++) {
		struct auth_cached *c = &auth->cache[i];

		if (c->user[0] && now >= c->expires)
			memset(c, 0, sizeof(*c));
		else if (c->user[0] && !strcmp(c->user, user) &&
			 auth_equal(c->mac, mac, sizeof(mac)))
			hit = true;
	}
	explicit_bzero(mac, sizeof(mac));
	return hit;
}

void auth_cache_add(struct auth *auth, const char *user, const char *password, uint64_t now)
{
	struct auth_cached *slot = &auth->cache[0];
	uint8_t mac[AUTH_HASH_LEN];

	if (mac_of(auth, user, password, mac))
		return;
	/* A free or expired entry, else the one that expires first. */
	for (size_t i = 0; i < AUTH_CACHE_MAX; i++) {
		struct auth_cached *c = &auth->cache[i];

		if (!c->user[0] || now >= c->expires) {
			slot = c;
			break;
		}
		if (c->expires < slot->expires)
			slot = c;
	}
	memcpy(slot->user, user, strlen(user) + 1);
	memcpy(slot->mac, mac, sizeof(mac));
	slot->expires = now + AUTH_CACHE_TTL_S;
	explicit_bzero(mac, sizeof(mac));
}

void auth_cache_drop_user(struct auth *auth, const char *user)
{
	for (size_t i = 0; i < AUTH_CACHE_MAX; i++)
		if (!strcmp(auth->cache[i].user, user))
			memset(&auth->cache[i], 0, sizeof(auth->cache[i]));
}
