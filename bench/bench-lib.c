/* bench-lib.c - benchmark 3 (issue 7), Library: envelopes verified per
 * second per core through libsigil's public API, against the raw OpenSSL
 * cost of the same verifications measured in the same process.
 *
 * For every fixture case (JWS and COSE; RSA-2048/3072/4096, P-256/384/521
 * chains root -> intermediate -> leaf, signed by the real notation):
 *   sigil   sigil_verify + sigil_result_free: policy selection, discovery
 *           in the layout (reading index.json's manifests), fetching the
 *           envelope blob (digest-checked), envelope, chain, trust store,
 *           identity, expiry, revocation, payload. The verifier (policy +
 *           trust store) and the layout source are opened once, as sigild
 *           keeps its verifier and registry connections across pulls.
 *   raw     EVP_DigestVerify of the same signing input with the leaf key
 *           (same algorithm and PSS parameters) + X509_verify_cert of the
 *           envelope's chain to the same root, objects parsed beforehand:
 *           the crypto floor, nothing else.
 *   raw+ss  raw with X509_V_FLAG_CHECK_SS_SIGNATURE: OpenSSL then also
 *           checks the root's self-signature, which sigil must do
 *           (notary-verification.md §1.9.1) and OpenSSL skips by default.
 * After a warm-up, each round times one batch of each, alternating the
 * order, on the thread's CPU clock; the table gives medians over rounds
 * and the median of the per-round ratios sigil/raw. Target: >= 0.5.
 */
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include "bench-lib-util.h"

#define TARGET_RATIO 0.5
#define MAX_CASES 64
#define MAX_ROUNDS 1000

static const char usage[] =
	"usage: bench-lib --fixtures DIR [--json FILE] [--smoke] [--rounds N] [--batch-ms MS]\n"
	"  DIR is made by bench/make-fixtures.py (DIR/lib/index.txt and its cases)\n";

typedef struct lib_case {
	char name[64], format[16], key_type[32], alg[16];
	bench_target t;
	/* the raw comparator's inputs, taken out of the envelope */
	uint8_t *input, *sig;
	size_t input_len, sig_len;
	X509 *leaf;
	STACK_OF(X509) *untrusted;   /* the rest of the envelope's chain */
	X509_STORE *store, *store_ss; /* the trust store's root */
	const EVP_MD *md;
	int pss, saltlen;
	/* per round: rates (per CPU second) and wall rates */
	double *sigil, *raw, *raw_ss, *ratio, *ratio_ss, *sigil_wall, *raw_wall;
	/* medians over the rounds, and the range of the ratio */
	struct {
		double sigil, raw, raw_ss, ratio, ratio_ss, sigil_wall, raw_wall, ratio_min,
			ratio_max;
	} m;
} lib_case;

static STACK_OF(X509) *read_pem_certs(const char *path)
{
	BIO *b = BIO_new_file(path, "r");
	if (!b)
		bench_die("%s: cannot open", path);
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *c;
	while ((c = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		if (!sk || !sk_X509_push(sk, c))
			bench_die("out of memory");
	ERR_clear_error();
	BIO_free(b);
	if (sk_X509_num(sk) == 0)
		bench_die("%s: no certificates", path);
	return sk;
}

static void case_load(lib_case *c, const char *fixtures, int rounds)
{
	char dir[1024], path[1200];
	snprintf(dir, sizeof dir, "%s/lib/%s", fixtures, c->name);
	bench_target_open(&c->t, dir);
	snprintf(path, sizeof path, "%s/raw/signing-input.bin", dir);
	c->input = bench_read_file(path, &c->input_len);
	snprintf(path, sizeof path, "%s/raw/signature.bin", dir);
	c->sig = bench_read_file(path, &c->sig_len);
	snprintf(path, sizeof path, "%s/raw/chain.pem", dir);
	c->untrusted = read_pem_certs(path);
	c->leaf = sk_X509_shift(c->untrusted);
	snprintf(path, sizeof path, "%s/raw/root.pem", dir);
	STACK_OF(X509) *roots = read_pem_certs(path);
	c->store = X509_STORE_new();
	c->store_ss = X509_STORE_new();
	if (!c->store || !c->store_ss ||
	    !X509_STORE_add_cert(c->store, sk_X509_value(roots, 0)) ||
	    !X509_STORE_add_cert(c->store_ss, sk_X509_value(roots, 0)) ||
	    !X509_STORE_set_flags(c->store_ss, X509_V_FLAG_CHECK_SS_SIGNATURE))
		bench_die("%s: X509_STORE setup failed", c->name);
	sk_X509_pop_free(roots, X509_free);
	/* the algorithm sigil derives from the leaf key (§1.5); PSS salt as
	 * sigil verifies it: any length for JWS, the hash length for COSE */
	const char *a = c->alg;
	c->md = strstr(a, "256") ? EVP_sha256() : strstr(a, "384") ? EVP_sha384() : EVP_sha512();
	c->pss = a[0] == 'P';
	c->saltlen = strcmp(c->format, "jws") == 0 ? RSA_PSS_SALTLEN_AUTO : RSA_PSS_SALTLEN_DIGEST;
	double **arrays[] = { &c->sigil, &c->raw, &c->raw_ss, &c->ratio, &c->ratio_ss,
		&c->sigil_wall, &c->raw_wall };
	for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++)
		if (!(*arrays[i] = calloc((size_t)rounds, sizeof(double))))
			bench_die("out of memory");
}

static void case_free(lib_case *c)
{
	bench_target_close(&c->t);
	free(c->input);
	free(c->sig);
	X509_free(c->leaf);
	sk_X509_pop_free(c->untrusted, X509_free);
	X509_STORE_free(c->store);
	X509_STORE_free(c->store_ss);
	free(c->sigil);
	free(c->raw);
	free(c->raw_ss);
	free(c->ratio);
	free(c->ratio_ss);
	free(c->sigil_wall);
	free(c->raw_wall);
}

static void sigil_op(void *arg)
{
	lib_case *c = arg;
	if (bench_verify_once(&c->t) != 1)
		bench_die("%s: expected exactly one signature examined", c->name);
}

static void raw_verify(lib_case *c, X509_STORE *store)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	if (!ctx || EVP_DigestVerifyInit(ctx, &pctx, c->md, NULL, X509_get0_pubkey(c->leaf)) != 1)
		bench_die("%s: EVP_DigestVerifyInit failed", c->name);
	if (c->pss && (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
		       EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, c->md) != 1 ||
		       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, c->saltlen) != 1))
		bench_die("%s: PSS setup failed", c->name);
	if (EVP_DigestVerify(ctx, c->sig, c->sig_len, c->input, c->input_len) != 1)
		bench_die("%s: raw signature verification failed", c->name);
	EVP_MD_CTX_free(ctx);
	X509_STORE_CTX *sctx = X509_STORE_CTX_new();
	if (!sctx || X509_STORE_CTX_init(sctx, store, c->leaf, c->untrusted) != 1)
		bench_die("%s: X509_STORE_CTX_init failed", c->name);
	if (X509_verify_cert(sctx) != 1)
		bench_die("%s: X509_verify_cert: %s", c->name,
			X509_verify_cert_error_string(X509_STORE_CTX_get_error(sctx)));
	X509_STORE_CTX_free(sctx);
}

static void raw_op(void *arg)
{
	lib_case *c = arg;
	raw_verify(c, c->store);
}

static void raw_ss_op(void *arg)
{
	lib_case *c = arg;
	raw_verify(c, c->store_ss);
}

static void parse_case(const char *path, const char *line, size_t i, void *ctx)
{
	lib_case *c = &((lib_case *)ctx)[i];
	memset(c, 0, sizeof *c);
	if (sscanf(line, "%63s %15s %31s %15s", c->name, c->format, c->key_type, c->alg) != 4)
		bench_die("%s: bad line \"%s\"", path, line);
}

static size_t read_index(const char *fixtures, lib_case *cases)
{
	char path[1100];
	snprintf(path, sizeof path, "%s/lib/index.txt", fixtures);
	size_t n = bench_read_index(path, MAX_CASES, parse_case, cases);
	if (n == 0)
		bench_die("%s: no cases", path);
	return n;
}

int main(int argc, char **argv)
{
	bench_args a;
	bench_parse_args(&a, argc, argv, usage);
	static lib_case cases[MAX_CASES];
	size_t n = read_index(a.fixtures, cases);
	for (size_t i = 0; i < n; i++)
		case_load(&cases[i], a.fixtures, a.rounds);

	printf("Library benchmark (issue 7, benchmark 3): envelopes verified per second per core\n"
		"sigil = sigil_verify + free on a long-lived verifier and layout source; raw = EVP_DigestVerify\n"
		"+ X509_verify_cert of the same chain to the same root; raw+ss also checks the root's\n"
		"self-signature as sigil must. Thread CPU time, %d round%s after warm-up, alternating.\n\n",
		a.rounds, a.rounds == 1 ? "" : "s");
	printf("%-14s %9s %8s %9s %8s %7s %15s %9s %8s  %s\n", "case", "sigil/s", "us", "raw/s", "us",
		"ratio", "[min..max]", "raw+ss/s", "ratio", "target>=0.50");
	int all_met = 1;
	for (size_t i = 0; i < n; i++) {
		lib_case *c = &cases[i];
		/* correctness first: both sides must verify */
		sigil_op(c);
		raw_op(c);
		raw_ss_op(c);
		size_t ns = bench_calibrate(sigil_op, c, a.warmup_s);
		size_t nr = bench_calibrate(raw_op, c, a.warmup_s);
		size_t nss = bench_calibrate(raw_ss_op, c, a.warmup_s);
		/* batches of about batch_s each, re-sized after the warm-up */
		ns = (size_t)((double)ns * a.batch_s / a.warmup_s) + 1;
		nr = (size_t)((double)nr * a.batch_s / a.warmup_s) + 1;
		nss = (size_t)((double)nss * a.batch_s / a.warmup_s) + 1;
		for (int r = 0; r < a.rounds; r++) {
			double cs = 0, ws = 0, cr = 0, wr = 0, css = 0, wss = 0;
			if (r % 2 == 0) {
				bench_time(sigil_op, c, ns, &cs, &ws);
				bench_time(raw_op, c, nr, &cr, &wr);
				bench_time(raw_ss_op, c, nss, &css, &wss);
			} else {
				bench_time(raw_ss_op, c, nss, &css, &wss);
				bench_time(raw_op, c, nr, &cr, &wr);
				bench_time(sigil_op, c, ns, &cs, &ws);
			}
			c->sigil[r] = (double)ns / cs;
			c->raw[r] = (double)nr / cr;
			c->raw_ss[r] = (double)nss / css;
			c->sigil_wall[r] = (double)ns / ws;
			c->raw_wall[r] = (double)nr / wr;
			c->ratio[r] = c->sigil[r] / c->raw[r];
			c->ratio_ss[r] = c->sigil[r] / c->raw_ss[r];
		}
		double rmin = c->ratio[0], rmax = c->ratio[0];
		for (int r = 1; r < a.rounds; r++) {
			rmin = c->ratio[r] < rmin ? c->ratio[r] : rmin;
			rmax = c->ratio[r] > rmax ? c->ratio[r] : rmax;
		}
		size_t R = (size_t)a.rounds;
		c->m.ratio_min = rmin;
		c->m.ratio_max = rmax;
		double sigil = c->m.sigil = bench_median(c->sigil, R);
		double raw = c->m.raw = bench_median(c->raw, R);
		double raw_ss = c->m.raw_ss = bench_median(c->raw_ss, R);
		double ratio = c->m.ratio = bench_median(c->ratio, R);
		double ratio_ss = c->m.ratio_ss = bench_median(c->ratio_ss, R);
		c->m.sigil_wall = bench_median(c->sigil_wall, R);
		c->m.raw_wall = bench_median(c->raw_wall, R);
		int met = ratio >= TARGET_RATIO;
		all_met &= met;
		char range[32];
		snprintf(range, sizeof range, "[%.2f..%.2f]", rmin, rmax);
		printf("%-14s %9.0f %8.1f %9.0f %8.1f %7.2f %15s %9.0f %8.2f  %s\n", c->name, sigil,
			1e6 / sigil, raw, 1e6 / raw, ratio, range, raw_ss, ratio_ss, met ? "met" : "MISSED");
		fflush(stdout);
	}
	printf("\ntarget (sigil >= %.0f%% of the raw OpenSSL rate in every case): %s\n",
		TARGET_RATIO * 100, all_met ? "met" : "MISSED");

	if (a.json) {
		FILE *f = fopen(a.json, "w");
		if (!f)
			bench_die("%s: cannot write", a.json);
		bench_json j;
		bench_json_open(&j, f);
		bench_json_begin_object(&j, NULL);
		bench_json_str(&j, "benchmark", "library");
		bench_json_str(&j, "unit", "verifications per second of thread CPU time (one core)");
		bench_json_str(&j, "sigil", "sigil_verify + sigil_result_free; verifier and OCI layout source opened once");
		bench_json_str(&j, "raw", "EVP_DigestVerify (same input, key, algorithm) + X509_verify_cert (same chain, same root)");
		bench_json_str(&j, "raw_ss", "raw with X509_V_FLAG_CHECK_SS_SIGNATURE (root self-signature checked, as sigil does)");
		bench_json_int(&j, "rounds", a.rounds);
		bench_json_bool(&j, "smoke", a.smoke);
		bench_json_num(&j, "target_min_ratio", TARGET_RATIO);
		bench_json_bool(&j, "met", all_met);
		bench_json_begin_array(&j, "cases");
		for (size_t i = 0; i < n; i++) {
			lib_case *c = &cases[i];
			bench_json_begin_object(&j, NULL);
			bench_json_str(&j, "name", c->name);
			bench_json_str(&j, "format", c->format);
			bench_json_str(&j, "key_type", c->key_type);
			bench_json_str(&j, "alg", c->alg);
			bench_json_num(&j, "sigil_per_s", c->m.sigil);
			bench_json_num(&j, "raw_per_s", c->m.raw);
			bench_json_num(&j, "raw_ss_per_s", c->m.raw_ss);
			bench_json_num(&j, "sigil_us", 1e6 / c->m.sigil);
			bench_json_num(&j, "raw_us", 1e6 / c->m.raw);
			bench_json_num(&j, "ratio", c->m.ratio);
			bench_json_num(&j, "ratio_min", c->m.ratio_min);
			bench_json_num(&j, "ratio_max", c->m.ratio_max);
			bench_json_num(&j, "ratio_ss", c->m.ratio_ss);
			bench_json_num(&j, "sigil_wall_per_s", c->m.sigil_wall);
			bench_json_num(&j, "raw_wall_per_s", c->m.raw_wall);
			bench_json_bool(&j, "met", c->m.ratio >= TARGET_RATIO);
			bench_json_end_object(&j);
		}
		bench_json_end_array(&j);
		bench_json_end_object(&j);
		if (fclose(f) != 0)
			bench_die("%s: write failed", a.json);
	}
	for (size_t i = 0; i < n; i++)
		case_free(&cases[i]);
	return 0;
}
