/* SPDX-License-Identifier: MIT */
/*
 * The TLS material: STATE_DIR/tls/cert.pem and key.pem. On first start
 * dhpd makes a self-signed certificate (ECDSA P-256, CN=dhp, names
 * localhost, 127.0.0.1 and ::1, ten years) so that the service is HTTPS
 * from the first minute; clients trust it by pinning cert.pem as their CA.
 * An operator replaces both files with real ones at will.
 *
 * The certificate is its own CA (basicConstraints CA:TRUE, keyCertSign):
 * OpenSSL takes a self-signed certificate as a trust anchor only if its
 * key usage allows it to sign certificates.
 */
#include "dhpd/dhpd.h"

#include "common/fs.h"

#include <gnutls/crypto.h>
#include <gnutls/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEN_YEARS_S (10 * 365 * 24 * 3600L)
#define PEM_MAX (64 * 1024)

static int gnutls_failed(struct dhp_error *err, const char *what, int rc)
{
	return dhp_error_set(err, -EIO, "cannot make the TLS certificate: %s: %s", what,
			     gnutls_strerror(rc));
}

static int set_names(gnutls_x509_crt_t crt, struct dhp_error *err)
{
	static const unsigned char ip4[4] = { 127, 0, 0, 1 };
	static const unsigned char ip6[16] = { [15] = 1 };
	int rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, "dhp", 3);

	if (!rc)
		rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost", 9,
							  GNUTLS_FSAN_APPEND);
	if (!rc)
		rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip4,
							  sizeof(ip4), GNUTLS_FSAN_APPEND);
	if (!rc)
		rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip6,
							  sizeof(ip6), GNUTLS_FSAN_APPEND);
	return rc ? gnutls_failed(err, "names", rc) : 0;
}

static int set_fields(gnutls_x509_crt_t crt, gnutls_x509_privkey_t key, struct dhp_error *err)
{
	unsigned char serial[16], id[64];
	size_t id_len = sizeof(id);
	time_t now = time(NULL);
	int rc = gnutls_rnd(GNUTLS_RND_NONCE, serial, sizeof(serial));

	serial[0] &= 0x7f;	/* a positive serial number */
	if (!rc)
		rc = gnutls_x509_crt_set_version(crt, 3);
	if (!rc)
		rc = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial));
	if (!rc)
		rc = gnutls_x509_crt_set_activation_time(crt, now - 3600);
	if (!rc)
		rc = gnutls_x509_crt_set_expiration_time(crt, now + TEN_YEARS_S);
	if (!rc)
		rc = gnutls_x509_crt_set_key(crt, key);
	if (!rc)
		rc = gnutls_x509_crt_set_basic_constraints(crt, 1, -1);
	if (!rc)
		rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE |
						   GNUTLS_KEY_KEY_CERT_SIGN);
	if (!rc)
		rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0);
	if (!rc)
		rc = gnutls_x509_crt_get_key_id(crt, 0, id, &id_len);
	if (!rc)
		rc = gnutls_x509_crt_set_subject_key_id(crt, id, id_len);
	if (!rc)
		rc = gnutls_x509_crt_set_authority_key_id(crt, id, id_len);
	return rc ? gnutls_failed(err, "fields", rc) : set_names(crt, err);
}

/* Both PEM files, written 0600 (the key first: a certificate without its
 * key would be useless). */
static int make_material(const char *cert_path, const char *key_path, struct dhp_error *err)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t cert_pem = { 0 }, key_pem = { 0 };
	int rc, r;

	rc = gnutls_x509_privkey_init(&key);
	if (!rc)
		rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
						  GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0);
	if (!rc)
		rc = gnutls_x509_crt_init(&crt);
	if (rc) {
		r = gnutls_failed(err, "key", rc);
		goto out;
	}
	r = set_fields(crt, key, err);
	if (r < 0)
		goto out;
	rc = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0);
	if (!rc)
		rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &cert_pem);
	if (!rc)
		rc = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &key_pem);
	if (rc) {
		r = gnutls_failed(err, "signing", rc);
		goto out;
	}
	r = dhp_write_file_atomic(key_path, key_pem.data, key_pem.size, 0600, err);
	if (!r)
		r = dhp_write_file_atomic(cert_path, cert_pem.data, cert_pem.size, 0600, err);
out:
	gnutls_free(cert_pem.data);
	if (key_pem.data)
		explicit_bzero(key_pem.data, key_pem.size);
	gnutls_free(key_pem.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return r;
}

int dhpd_tls_material(const char *dir, char **ret_cert, char **ret_key, struct dhp_error *err)
{
	char tls[DHPD_PATH_MAX], cert_path[DHPD_PATH_MAX], key_path[DHPD_PATH_MAX];
	char *cert = NULL, *key = NULL;
	int r = dhpd_path(tls, sizeof(tls), dir, "tls", err);

	if (!r)
		r = dhpd_path(cert_path, sizeof(cert_path), tls, "cert.pem", err);
	if (!r)
		r = dhpd_path(key_path, sizeof(key_path), tls, "key.pem", err);
	if (r < 0)
		return r;
	if (mkdir(tls, 0700) < 0 && errno != EEXIST)
		return dhp_error_set(err, -errno, "cannot create %s: %s", tls, strerror(errno));
	if (access(cert_path, F_OK) < 0 || access(key_path, F_OK) < 0) {
		r = make_material(cert_path, key_path, err);
		if (r < 0)
			return r;
		dhpd_log("created a self-signed certificate in %s", cert_path);
	}
	r = dhp_read_file(cert_path, PEM_MAX, &cert, NULL, err);
	if (!r)
		r = dhp_read_file(key_path, PEM_MAX, &key, NULL, err);
	if (r < 0) {
		free(cert);
		return r;
	}
	*ret_cert = cert;
	*ret_key = key;
	return 0;
}
