/* revocation_source.c - the source records of the revocation cache
 * (revocation.h sigil__rev_source_parse): next to every CRL and OCSP
 * response sigil downloads, what is needed to download it again and
 * validate it the way a pull would, so that sigild's background refresh
 * can renew it before its nextUpdate (issue 6) without a pull having to.
 *
 * A record is written atomically, before its entry; a missing or damaged
 * record only means that the entry is not refreshed in the background. */
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include "bounds.h"
#include "errors.h"
#include "revocation.h"
#include "revocation_internal.h"

static const char crl_magic[] = "sigil-crl-source 1\n";
static const char ocsp_magic[] = "sigil-ocsp-source 1\n";
#define MAGIC_LEN(m) (sizeof(m) - 1)
/* the larger of the two formats */
#define SOURCE_MAX (MAGIC_LEN(ocsp_magic) + SIGIL_MAX_REVOCATION_URL_LENGTH + 1 + \
	2 * (size_t)SIGIL_MAX_CERT_SIZE)

const char *sigil__rev_kind_dir(sigil__rev_kind kind)
{
	return kind == SIGIL__REV_KIND_OCSP ? "ocsp" : "crl";
}

void sigil__rev_source_clear(sigil__rev_source *s)
{
	if (!s)
		return;
	free(s->url);
	X509_free(s->cert);
	X509_free(s->issuer);
	memset(s, 0, sizeof *s);
}

/* DER of x appended at buf + *off (room checked by the caller's sizing). */
static int put_cert(uint8_t *buf, size_t *off, X509 *x, int len)
{
	unsigned char *p = buf + *off;
	if (i2d_X509(x, &p) != len)
		return 0;
	*off += (size_t)len;
	return 1;
}

static int cert_len(X509 *x)
{
	int n = x ? i2d_X509(x, NULL) : -1;
	return n > 0 && (size_t)n <= SIGIL_MAX_CERT_SIZE ? n : -1;
}

static void write_record(sigil__revocation *rv, sigil__rev_kind kind, const char *name,
	const uint8_t *buf, size_t len)
{
	char sname[72];
	snprintf(sname, sizeof sname, "%.64s.src", name);
	(void)sigil__rev_cache_write(rv, sigil__rev_kind_dir(kind), sname, buf, len);
}

void sigil__rev_source_write_crl(sigil__revocation *rv, const char *name, const char *url,
	X509 *issuer)
{
	size_t ulen = strlen(url), mlen = MAGIC_LEN(crl_magic);
	int ilen = cert_len(issuer);
	if (!rv->cache_dir || ilen < 0 || ulen == 0 || ulen > SIGIL_MAX_REVOCATION_URL_LENGTH)
		return;
	size_t total = mlen + ulen + 1 + (size_t)ilen, off = mlen + ulen + 1;
	uint8_t *buf = malloc(total);
	if (!buf)
		return;
	memcpy(buf, crl_magic, mlen);
	memcpy(buf + mlen, url, ulen);
	buf[mlen + ulen] = '\n';
	if (put_cert(buf, &off, issuer, ilen))
		write_record(rv, SIGIL__REV_KIND_CRL, name, buf, total);
	free(buf);
}

void sigil__rev_source_write_ocsp(sigil__revocation *rv, const char *name, X509 *cert,
	X509 *issuer)
{
	size_t mlen = MAGIC_LEN(ocsp_magic);
	int clen = cert_len(cert), ilen = cert_len(issuer);
	if (!rv->cache_dir || clen < 0 || ilen < 0)
		return;
	size_t total = mlen + (size_t)clen + (size_t)ilen, off = mlen;
	uint8_t *buf = malloc(total);
	if (!buf)
		return;
	memcpy(buf, ocsp_magic, mlen);
	if (put_cert(buf, &off, cert, clen) && put_cert(buf, &off, issuer, ilen))
		write_record(rv, SIGIL__REV_KIND_OCSP, name, buf, total);
	free(buf);
}

/* One DER certificate at *p (at most end - *p bytes, and at most
 * SIGIL_MAX_CERT_SIZE); *p advanced past it. */
static X509 *take_cert(const unsigned char **p, const unsigned char *end)
{
	size_t left = (size_t)(end - *p);
	if (left == 0)
		return NULL;
	if (left > SIGIL_MAX_CERT_SIZE)
		left = SIGIL_MAX_CERT_SIZE;
	return d2i_X509(NULL, p, (long)left);
}

static sigil_status bad(sigil_error *err, const char *what)
{
	ERR_clear_error();
	return sigil__err(err, SIGIL_ERR_MALFORMED, "revocation cache source record: %s", what);
}

sigil_status sigil__rev_source_parse(const uint8_t *buf, size_t len, const char *name,
	sigil__rev_source *out, sigil_error *err)
{
	if (!buf || !out)
		return sigil__err(err, SIGIL_ERR_USAGE, "sigil__rev_source_parse: missing argument");
	if (len > SOURCE_MAX)
		return sigil__err(err, SIGIL_ERR_LIMIT,
			"revocation cache source record: %zu bytes, more than %zu", len, (size_t)SOURCE_MAX);
	sigil__rev_source s;
	memset(&s, 0, sizeof s);
	const unsigned char *end = buf + len, *p;
	char h[65];
	if (len > MAGIC_LEN(crl_magic) && memcmp(buf, crl_magic, MAGIC_LEN(crl_magic)) == 0) {
		s.kind = SIGIL__REV_KIND_CRL;
		const uint8_t *u = buf + MAGIC_LEN(crl_magic);
		const uint8_t *nl = memchr(u, '\n', (size_t)(end - u));
		size_t ulen = nl ? (size_t)(nl - u) : 0;
		if (!nl || ulen == 0 || ulen > SIGIL_MAX_REVOCATION_URL_LENGTH)
			return bad(err, "no URL");
		/* printable ASCII without spaces, as accepted from certificates */
		for (size_t i = 0; i < ulen; i++)
			if (u[i] <= 0x20 || u[i] >= 0x7f)
				return bad(err, "URL with a control or non-ASCII character");
		sigil__rev_hex_sha256(u, ulen, h);
		if (name && strcmp(h, name) != 0)
			return bad(err, "URL of another entry");
		p = nl + 1;
		if (!(s.issuer = take_cert(&p, end)) || p != end) {
			sigil__rev_source_clear(&s);
			return bad(err, "issuer certificate");
		}
		if (!(s.url = strndup((const char *)u, ulen))) {
			sigil__rev_source_clear(&s);
			return sigil__err_oom(err);
		}
	} else if (len > MAGIC_LEN(ocsp_magic) &&
		   memcmp(buf, ocsp_magic, MAGIC_LEN(ocsp_magic)) == 0) {
		s.kind = SIGIL__REV_KIND_OCSP;
		p = buf + MAGIC_LEN(ocsp_magic);
		if (!(s.cert = take_cert(&p, end)) || !(s.issuer = take_cert(&p, end)) || p != end) {
			sigil__rev_source_clear(&s);
			return bad(err, "certificate and issuer");
		}
		if (name) {
			/* the entry is named after the request for this pair */
			uint8_t *req = NULL;
			size_t req_len = 0;
			sigil_error e = SIGIL_ERROR_INIT;
			if (sigil__ocsp_request(s.cert, s.issuer, &req, &req_len, &e) != SIGIL_STATUS_OK) {
				sigil__rev_source_clear(&s);
				return bad(err, "no OCSP request for this certificate");
			}
			sigil__rev_hex_sha256(req, req_len, h);
			free(req);
			if (strcmp(h, name) != 0) {
				sigil__rev_source_clear(&s);
				return bad(err, "certificate of another entry");
			}
		}
	} else {
		return bad(err, "unknown format");
	}
	ERR_clear_error();
	*out = s;
	return SIGIL_STATUS_OK;
}

int sigil__rev_source_load(const char *cache_dir, sigil__rev_kind kind, const char *name,
	sigil__rev_source *out)
{
	char sname[72];
	snprintf(sname, sizeof sname, "%.64s.src", name);
	uint8_t *buf = NULL;
	size_t len = 0;
	if (!sigil__rev_file_read(cache_dir, sigil__rev_kind_dir(kind), sname, SOURCE_MAX + 1, &buf,
		&len))
		return 0;
	sigil_error e = SIGIL_ERROR_INIT;
	sigil__rev_source s;
	memset(&s, 0, sizeof s);
	sigil_status st = sigil__rev_source_parse(buf, len, name, &s, &e);
	free(buf);
	if (st != SIGIL_STATUS_OK)
		return 0;
	if (s.kind != kind) {
		sigil__rev_source_clear(&s);
		return 0;
	}
	*out = s;
	return 1;
}
