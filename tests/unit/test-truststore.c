/* test-truststore.c - trust store layout and loading rules
 * (notary-verification.md §3.2, §8 rows 6-7) over the corpora's stores and
 * stores built at run time in a mkdtemp() directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include "check.h"
#include "bounds.h"
#include "certchain.h"
#include "truststore.h"

#define CONF SIGIL_TEST_DATA "/corpus/conformance/cases/"
#define ADV SIGIL_TEST_DATA "/corpus/adversarial/cases/"

/* Real certificates from the corpora. */
#define ROOT_PEM CONF "017-trust-root-plus-intermediate/truststore/x509/ca/main/00-chain-ec-p256-root.crt"
#define INT_PEM CONF "017-trust-root-plus-intermediate/truststore/x509/ca/main/01-chain-ec-p256-int.crt"
#define LEAF_PEM CONF "019-trust-leaf-only/truststore/x509/ca/main/00-chain-ec-p256-leaf.crt"
#define SELF_PEM CONF "013-jws-selfsigned-testcert/truststore/x509/ca/selfsigned/00-testcert.crt"
#define TSA_PEM CONF "063-ts-jws-valid/truststore/x509/tsa/tsa/00-tsa-root.crt"

static char tmproot[256];
static int counter;

static void die(const char *what)
{
	fprintf(stderr, "%s: %s\n", what, strerror(errno));
	exit(2);
}

/* A fresh config dir with truststore/x509/{ca,signingAuthority,tsa}. */
static const char *fresh_config(char *buf, size_t len)
{
	snprintf(buf, len, "%s/cfg%d", tmproot, counter++);
	char p[512];
	if (mkdir(buf, 0700) < 0)
		die("mkdir");
	snprintf(p, sizeof p, "%s/truststore", buf);
	if (mkdir(p, 0700) < 0)
		die("mkdir");
	snprintf(p, sizeof p, "%s/truststore/x509", buf);
	if (mkdir(p, 0700) < 0)
		die("mkdir");
	static const char *types[] = { "ca", "signingAuthority", "tsa" };
	for (int i = 0; i < 3; i++) {
		snprintf(p, sizeof p, "%s/truststore/x509/%s", buf, types[i]);
		if (mkdir(p, 0700) < 0)
			die("mkdir");
	}
	return buf;
}

static void store_dir(const char *cfg, const char *type, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/truststore/x509/%s/%s", cfg, type, name);
	if (mkdir(out, 0700) < 0 && errno != EEXIST)
		die("mkdir store");
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char p[768];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	FILE *f = fopen(p, "wb");
	if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0)
		die("write");
}

static void copy_file(const char *src, const char *dir, const char *name)
{
	size_t len;
	unsigned char *b = check_read_file(src, &len);
	write_file(dir, name, b, len);
	free(b);
}

static X509 *read_pem(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		die(path);
	X509 *c = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!c)
		exit(2);
	return c;
}

/* DER bytes of a PEM certificate file, malloc'd. */
static unsigned char *der_of(const char *path, size_t *len)
{
	X509 *c = read_pem(path);
	unsigned char *der = NULL;
	int n = i2d_X509(c, &der);
	X509_free(c);
	if (n <= 0)
		exit(2);
	unsigned char *copy = malloc((size_t)n);
	memcpy(copy, der, (size_t)n);
	OPENSSL_free(der);
	*len = (size_t)n;
	return copy;
}

static bool same_cert(X509 *a, const char *pem_path)
{
	X509 *b = read_pem(pem_path);
	bool eq = X509_cmp(a, b) == 0;
	X509_free(b);
	return eq;
}

/* Load and expect failure (msg != NULL) or success with n certificates. */
static STACK_OF(X509) *load(const char *cfg, sigil__store_type t, const char *name,
	sigil__strlist *w, sigil_category cat, const char *msg, int n)
{
	STACK_OF(X509) *out = NULL;
	sigil_error e = SIGIL_ERROR_INIT;
	sigil_status st = sigil__truststore_load(cfg, t, name, &out, w, &e);
	if (msg) {
		CHECK_INTEQ(st, SIGIL_STATUS_ERROR);
		CHECK_INTEQ(e.category, cat);
		CHECK_CONTAINS(e.message, msg);
		CHECK(out == NULL);
		return NULL;
	}
	if (st != SIGIL_STATUS_OK)
		fprintf(stderr, "    unexpected error: %s\n", e.message);
	CHECK_INTEQ(st, SIGIL_STATUS_OK);
	CHECK_INTEQ(e.category, SIGIL_ERR_NONE);
	CHECK_INTEQ(out ? sk_X509_num(out) : -1, n);
	return out;
}

static void load_free(const char *cfg, sigil__store_type t, const char *name,
	sigil_category cat, const char *msg, int n)
{
	sigil__strlist w = { 0 };
	sk_X509_pop_free(load(cfg, t, name, &w, cat, msg, n), X509_free);
	sigil__strlist_clear(&w);
}

/* ------------------------------------------------------------------ */

static void test_type_names(void)
{
	sigil__store_type t = SIGIL_STORE_TSA;
	CHECK_STREQ(sigil__store_type_name(SIGIL_STORE_CA), "ca");
	CHECK_STREQ(sigil__store_type_name(SIGIL_STORE_SIGNING_AUTHORITY), "signingAuthority");
	CHECK_STREQ(sigil__store_type_name(SIGIL_STORE_TSA), "tsa");
	CHECK_INTEQ(sigil__store_type_parse("ca", 2, &t), 0);
	CHECK_INTEQ(t, SIGIL_STORE_CA);
	CHECK_INTEQ(sigil__store_type_parse("signingAuthority", 16, &t), 0);
	CHECK_INTEQ(t, SIGIL_STORE_SIGNING_AUTHORITY);
	CHECK_INTEQ(sigil__store_type_parse("tsa", 3, &t), 0);
	CHECK_INTEQ(t, SIGIL_STORE_TSA);
	CHECK_INTEQ(sigil__store_type_parse("signingauthority", 16, &t), -1);
	CHECK_INTEQ(sigil__store_type_parse("cax", 2, &t), 0); /* length-bounded */
	CHECK_INTEQ(sigil__store_type_parse("c", 1, &t), -1);
	CHECK_INTEQ(sigil__store_type_parse("", 0, &t), -1);
}

static void test_corpus_stores(void)
{
	/* root + intermediate, in file-name order */
	sigil__strlist w = { 0 };
	STACK_OF(X509) *s = load(CONF "017-trust-root-plus-intermediate", SIGIL_STORE_CA, "main",
		&w, 0, NULL, 2);
	if (s && sk_X509_num(s) == 2) {
		CHECK(same_cert(sk_X509_value(s, 0), ROOT_PEM));
		CHECK(same_cert(sk_X509_value(s, 1), INT_PEM));
	}
	CHECK_INTEQ(w.count, 0);
	sk_X509_pop_free(s, X509_free);
	/* a self-signed non-CA certificate is allowed */
	load_free(CONF "013-jws-selfsigned-testcert", SIGIL_STORE_CA, "selfsigned", 0, NULL, 1);
	load_free(CONF "022-signing-authority-store", SIGIL_STORE_SIGNING_AUTHORITY, "main", 0, NULL, 1);
	load_free(CONF "063-ts-jws-valid", SIGIL_STORE_TSA, "tsa", 0, NULL, 1);
	/* conformance 019: a non-CA leaf that is not self-signed */
	load_free(CONF "019-trust-leaf-only", SIGIL_STORE_CA, "main", SIGIL_ERR_POLICY,
		"failed to validate the trusted certificate 00-chain-ec-p256-leaf.crt in trust store main of type ca. "
		"certificate with subject \"CN=Acme EC-P256 Signer fpy58u,OU=Build,O=Acme Widgets Ltd,L=Seattle,ST=WA,C=US\" "
		"is not a CA certificate or self-signed signing certificate", 0);
	/* conformance 023: the policy names a store that is not there */
	load_free(CONF "023-policy-missing-truststore", SIGIL_STORE_CA, "nonexistent", SIGIL_ERR_POLICY,
		"the trust store \"nonexistent\" of type \"ca\" does not exist", 0);
	sigil__strlist_clear(&w);
}

static void test_names(void)
{
	char cfg[256];
	fresh_config(cfg, sizeof cfg);
	static const char *bad[] = { "", "a/b", "..", ".", "a b", "caf\xc3\xa9", "../ca", "x\ny" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		load_free(cfg, SIGIL_STORE_CA, bad[i], SIGIL_ERR_POLICY,
			"trust store name needs to follow [a-zA-Z0-9_.-]+ format", 0);
	char dir[512];
	store_dir(cfg, "ca", "A-z_0.9", dir, sizeof dir);
	copy_file(ROOT_PEM, dir, "root.pem");
	load_free(cfg, SIGIL_STORE_CA, "A-z_0.9", 0, NULL, 1);
	/* the type selects the directory */
	load_free(cfg, SIGIL_STORE_SIGNING_AUTHORITY, "A-z_0.9", SIGIL_ERR_POLICY,
		"the trust store \"A-z_0.9\" of type \"signingAuthority\" does not exist", 0);
}

static void test_store_directory(void)
{
	char cfg[256], dir[512], p[600];
	fresh_config(cfg, sizeof cfg);
	load_free(cfg, SIGIL_STORE_CA, "missing", SIGIL_ERR_POLICY,
		"the trust store \"missing\" of type \"ca\" does not exist", 0);
	/* no truststore tree at all */
	snprintf(p, sizeof p, "%s/nothing-here", tmproot);
	load_free(p, SIGIL_STORE_CA, "main", SIGIL_ERR_POLICY,
		"the trust store \"main\" of type \"ca\" does not exist", 0);

	/* §3.2: a symlinked store directory is rejected */
	store_dir(cfg, "ca", "real", dir, sizeof dir);
	copy_file(ROOT_PEM, dir, "root.pem");
	load_free(cfg, SIGIL_STORE_CA, "real", 0, NULL, 1);
	snprintf(p, sizeof p, "%s/truststore/x509/ca/link", cfg);
	if (symlink(dir, p) < 0)
		die("symlink");
	load_free(cfg, SIGIL_STORE_CA, "link", SIGIL_ERR_POLICY,
		"the trust store \"link\" of type \"ca\" is not a regular directory (symlinks are not supported)", 0);
	/* a dangling symlink too */
	snprintf(p, sizeof p, "%s/truststore/x509/ca/dangling", cfg);
	if (symlink("/nonexistent/sigil", p) < 0)
		die("symlink");
	load_free(cfg, SIGIL_STORE_CA, "dangling", SIGIL_ERR_POLICY, "is not a regular directory", 0);
	/* a file instead of a directory */
	snprintf(p, sizeof p, "%s/truststore/x509/ca", cfg);
	write_file(p, "afile", "x", 1);
	load_free(cfg, SIGIL_STORE_CA, "afile", SIGIL_ERR_POLICY, "is not a regular directory", 0);
}

static void test_entries(void)
{
	char cfg[256], dir[512], p[700];
	fresh_config(cfg, sizeof cfg);
	store_dir(cfg, "ca", "s", dir, sizeof dir);

	/* empty store */
	load_free(cfg, SIGIL_STORE_CA, "s", SIGIL_ERR_POLICY,
		"no x509 certificates were found in trust store \"s\" of type \"ca\"", 0);

	/* §3.2 / §8 row 6: subdirectories are ignored with a warning */
	snprintf(p, sizeof p, "%s/sub", dir);
	if (mkdir(p, 0700) < 0)
		die("mkdir");
	copy_file(INT_PEM, p, "hidden.pem");
	sigil__strlist w = { 0 };
	load(cfg, SIGIL_STORE_CA, "s", &w, SIGIL_ERR_POLICY, "no x509 certificates were found", 0);
	CHECK_INTEQ(w.count, 1);
	if (w.count)
		CHECK_STREQ(w.items[0], "ignoring subdirectory sub in trust store s of type ca");
	sigil__strlist_clear(&w);

	/* files are read whatever their extension, in name order */
	copy_file(INT_PEM, dir, "b.txt");
	copy_file(ROOT_PEM, dir, "a.crt");
	STACK_OF(X509) *s = load(cfg, SIGIL_STORE_CA, "s", &w, 0, NULL, 2);
	if (s && sk_X509_num(s) == 2) {
		CHECK(same_cert(sk_X509_value(s, 0), ROOT_PEM));
		CHECK(same_cert(sk_X509_value(s, 1), INT_PEM));
	}
	CHECK_INTEQ(w.count, 1);
	sk_X509_pop_free(s, X509_free);
	sigil__strlist_clear(&w);
	/* warnings may be NULL */
	load_free(cfg, SIGIL_STORE_CA, "s", 0, NULL, 2);
	s = load(cfg, SIGIL_STORE_CA, "s", NULL, 0, NULL, 2);
	sk_X509_pop_free(s, X509_free);

	/* §3.2: a symlinked entry is rejected */
	snprintf(p, sizeof p, "%s/a.crt", dir);
	char link[700];
	snprintf(link, sizeof link, "%s/c-link.pem", dir);
	if (symlink(p, link) < 0)
		die("symlink");
	load_free(cfg, SIGIL_STORE_CA, "s", SIGIL_ERR_POLICY,
		"trusted certificate c-link.pem in trust store s of type ca is not a regular file", 0);
	unlink(link);

	/* a FIFO is not a regular file either (and must not block) */
	snprintf(p, sizeof p, "%s/d-fifo", dir);
	if (mkfifo(p, 0600) < 0)
		die("mkfifo");
	load_free(cfg, SIGIL_STORE_CA, "s", SIGIL_ERR_POLICY,
		"trusted certificate d-fifo in trust store s of type ca is not a regular file", 0);
	unlink(p);

	/* a file without certificates fails the whole store */
	write_file(dir, "e-empty", "", 0);
	load_free(cfg, SIGIL_STORE_CA, "s", SIGIL_ERR_POLICY,
		"failed to read the trusted certificate e-empty in trust store s of type ca", 0);
	write_file(dir, "e-empty", "not a certificate\n", 18);
	load_free(cfg, SIGIL_STORE_CA, "s", SIGIL_ERR_POLICY,
		"failed to read the trusted certificate e-empty in trust store s of type ca: malformed DER", 0);
	snprintf(p, sizeof p, "%s/e-empty", dir);
	unlink(p);

	/* a non-CA certificate that is not self-signed */
	copy_file(LEAF_PEM, dir, "f-leaf.pem");
	load_free(cfg, SIGIL_STORE_CA, "s", SIGIL_ERR_POLICY,
		"failed to validate the trusted certificate f-leaf.pem in trust store s of type ca. certificate with subject", 0);
	snprintf(p, sizeof p, "%s/f-leaf.pem", dir);
	unlink(p);

	/* an oversized file */
	size_t big = SIGIL_MAX_CERT_FILE_SIZE + 1;
	char *junk = calloc(1, big);
	write_file(dir, "g-big", junk, big);
	free(junk);
	load_free(cfg, SIGIL_STORE_CA, "s", SIGIL_ERR_LIMIT, "g-big in trust store s of type ca is larger than", 0);
	snprintf(p, sizeof p, "%s/g-big", dir);
	unlink(p);
	load_free(cfg, SIGIL_STORE_CA, "s", 0, NULL, 2);
}

static void test_tsa_store(void)
{
	char cfg[256], dir[512], p[700];
	fresh_config(cfg, sizeof cfg);
	store_dir(cfg, "tsa", "t", dir, sizeof dir);
	copy_file(TSA_PEM, dir, "00-root.pem");
	copy_file(ROOT_PEM, dir, "01-root.pem");
	load_free(cfg, SIGIL_STORE_TSA, "t", 0, NULL, 2);
	/* §3.2: every tsa certificate must be a self-signed root CA */
	copy_file(INT_PEM, dir, "02-int.pem");
	load_free(cfg, SIGIL_STORE_TSA, "t", SIGIL_ERR_POLICY,
		"trusted certificate 02-int.pem in trust store t of type tsa is invalid: certificate with subject", 0);
	snprintf(p, sizeof p, "%s/02-int.pem", dir);
	unlink(p);
	/* a self-signed non-CA certificate is fine in ca stores, not in tsa */
	copy_file(SELF_PEM, dir, "03-self.pem");
	load_free(cfg, SIGIL_STORE_TSA, "t", SIGIL_ERR_POLICY, "is not a root certificate", 0);
	/* the same files are acceptable in a ca store */
	char cadir[512];
	store_dir(cfg, "ca", "t", cadir, sizeof cadir);
	copy_file(SELF_PEM, cadir, "03-self.pem");
	copy_file(INT_PEM, cadir, "02-int.pem");
	load_free(cfg, SIGIL_STORE_CA, "t", 0, NULL, 2);
}

/* ------------------------------------------------------------------ */
/* sigil__certs_parse: PEM blocks or concatenated DER. */

static void parse_expect(const void *buf, size_t len, sigil_category cat, const char *msg, int n)
{
	STACK_OF(X509) *out = NULL;
	sigil_error e = SIGIL_ERROR_INIT;
	sigil_status st = sigil__certs_parse(buf, len, &out, &e);
	if (msg) {
		CHECK_INTEQ(st, SIGIL_STATUS_ERROR);
		CHECK_INTEQ(e.category, cat);
		CHECK_CONTAINS(e.message, msg);
		CHECK(out == NULL);
	} else {
		if (st != SIGIL_STATUS_OK)
			fprintf(stderr, "    unexpected error: %s\n", e.message);
		CHECK_INTEQ(st, SIGIL_STATUS_OK);
		CHECK_INTEQ(out ? sk_X509_num(out) : -1, n);
	}
	sk_X509_pop_free(out, X509_free);
}

static void test_parse(void)
{
	size_t rl, il, rdl, idl;
	unsigned char *root = check_read_file(ROOT_PEM, &rl);
	unsigned char *inter = check_read_file(INT_PEM, &il);
	unsigned char *rder = der_of(ROOT_PEM, &rdl);
	unsigned char *ider = der_of(INT_PEM, &idl);
	unsigned char *buf = malloc(rl + il + rdl + idl + 64);

	parse_expect(root, rl, 0, NULL, 1);
	parse_expect(rder, rdl, 0, NULL, 1);
	/* two PEM blocks with text around them */
	size_t n = 0;
	memcpy(buf + n, "leading text\n", 13), n += 13;
	memcpy(buf + n, root, rl), n += rl;
	memcpy(buf + n, inter, il), n += il;
	memcpy(buf + n, "trailing garbage", 16), n += 16;
	parse_expect(buf, n, 0, NULL, 2);
	/* concatenated DER */
	memcpy(buf, rder, rdl);
	memcpy(buf + rdl, ider, idl);
	parse_expect(buf, rdl + idl, 0, NULL, 2);
	/* DER with trailing bytes */
	buf[rdl + idl] = 0x30;
	parse_expect(buf, rdl + idl + 1, SIGIL_ERR_MALFORMED, "malformed DER certificate at offset", 0);
	/* truncated DER */
	parse_expect(rder, rdl - 1, SIGIL_ERR_MALFORMED, "malformed DER certificate at offset 0", 0);
	/* the PEM block type is not checked (as notation) */
	char *p = (char *)buf;
	n = 0;
	for (size_t i = 0; i < rl; i++) {
		if (!strncmp((char *)root + i, "CERTIFICATE", 11)) {
			memcpy(p + n, "FOO", 3);
			n += 3;
			i += 10;
		} else {
			p[n++] = (char)root[i];
		}
	}
	parse_expect(buf, n, 0, NULL, 1);
	/* a PEM block that is not a certificate */
	static const char notcert[] = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
	parse_expect(notcert, sizeof notcert - 1, SIGIL_ERR_MALFORMED, "PEM block 1 is not a valid X.509 certificate", 0);
	/* a broken second block */
	memcpy(buf, root, rl);
	memcpy(buf + rl, notcert, sizeof notcert - 1);
	parse_expect(buf, rl + sizeof notcert - 1, SIGIL_ERR_MALFORMED, "PEM block 2", 0);
	/* a BEGIN line without an END */
	static const char open_only[] = "-----BEGIN CERTIFICATE-----\nMIIB\n";
	parse_expect(open_only, sizeof open_only - 1, SIGIL_ERR_MALFORMED, "malformed PEM block 1", 0);
	/* nothing */
	parse_expect("", 0, SIGIL_ERR_MALFORMED, "no certificates found", 0);
	parse_expect(NULL, 0, SIGIL_ERR_MALFORMED, "no certificates found", 0);
	/* too large */
	unsigned char *huge = calloc(1, SIGIL_MAX_CERT_FILE_SIZE + 1u);
	parse_expect(huge, SIGIL_MAX_CERT_FILE_SIZE + 1u, SIGIL_ERR_LIMIT, "larger than", 0);
	free(huge);

	free(buf);
	free(root);
	free(inter);
	free(rder);
	free(ider);
}

int main(void)
{
	snprintf(tmproot, sizeof tmproot, "/tmp/sigil-truststore-XXXXXX");
	if (!mkdtemp(tmproot))
		die("mkdtemp");
	RUN(test_type_names);
	RUN(test_corpus_stores);
	RUN(test_names);
	RUN(test_store_directory);
	RUN(test_entries);
	RUN(test_tsa_store);
	RUN(test_parse);
	char cmd[512];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmproot);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmproot);
	return check_summary();
}
