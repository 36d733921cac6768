/* test-revocation.c - OCSP and CRL checking (notary-verification.md §6)
 * against a real `openssl ocsp` responder and CRLs made with `openssl ca
 * -gencrl`, all generated at test time in a private temporary directory,
 * plus a small python3 file server (counting requests, slow and oversized
 * answers). */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include "check.h"
#include "testserver.h"
#include "http.h"
#include "revocation.h"
#include "revocation_internal.h"
#include <sigil/verify.h>

static char dir[256];
static int http_port, ocsp_port, dead_port;
static pid_t http_pid, ocsp_pid;

static const char server_py[] =
	"import json, os, sys, threading, time, urllib.parse\n"
	"from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer\n"
	"root, port = sys.argv[1], int(sys.argv[2])\n"
	"counts, lock = {}, threading.Lock()\n"
	"class H(BaseHTTPRequestHandler):\n"
	"    protocol_version = 'HTTP/1.1'\n"
	"    def log_message(self, *a): pass\n"
	"    def reply(self, code, body):\n"
	"        self.send_response(code)\n"
	"        self.send_header('Content-Length', str(len(body)))\n"
	"        self.end_headers()\n"
	"        self.wfile.write(body)\n"
	"    def do_POST(self):\n"
	"        self.rfile.read(int(self.headers.get('Content-Length', '0')))\n"
	"        self.do_GET()\n"
	"    def do_GET(self):\n"
	"        parts = urllib.parse.urlsplit(self.path).path.strip('/').split('/')\n"
	"        if parts[0] == '_count':\n"
	"            with lock: return self.reply(200, json.dumps(counts).encode())\n"
	"        with lock: counts[parts[0]] = counts.get(parts[0], 0) + 1\n"
	"        if parts[0] == 'slow':\n"
	"            time.sleep(3)\n"
	"            parts = parts[1:] or ['']\n"
	"        if parts[0] == 'big':\n"
	"            n = 33 * 1024 * 1024\n"
	"            self.send_response(200)\n"
	"            self.send_header('Content-Length', str(n))\n"
	"            self.end_headers()\n"
	"            try:\n"
	"                while n > 0:\n"
	"                    self.wfile.write(b'0' * min(n, 65536)); n -= 65536\n"
	"            except OSError: pass\n"
	"            return\n"
	"        f = os.path.join(root, 'www', parts[0])\n"
	"        if parts[0] and os.path.isfile(f):\n"
	"            with open(f, 'rb') as fh: return self.reply(200, fh.read())\n"
	"        self.reply(404, b'not found')\n"
	"ThreadingHTTPServer.daemon_threads = True\n"
	"ThreadingHTTPServer(('127.0.0.1', port), H).serve_forever()\n";

/* the PKI: a root CA issuing code-signing leaves with various OCSP/CRL
 * endpoints, its OCSP responder certificate, and an impostor CA with the
 * same name but another key */
static const char setup_sh[] =
	"set -e\n"
	"cd \"$DIR\"\n"
	"mkdir -p www seed cache db other/db\n"
	": > db/index.txt; : > other/db/index.txt\n"
	"echo 1000 > db/crlnumber; echo 1000 > other/db/crlnumber\n"
	"echo 01 > db/serial; echo 01 > other/db/serial\n"
	"for d in \"$DIR\" \"$DIR/other\"; do cat > $d/ca.cnf <<EOF\n"
	"[ ca ]\n"
	"default_ca = CA_default\n"
	"[ CA_default ]\n"
	"dir = $d\n"
	"database = $d/db/index.txt\n"
	"new_certs_dir = $d/db\n"
	"serial = $d/db/serial\n"
	"crlnumber = $d/db/crlnumber\n"
	"private_key = $d/ca.key\n"
	"certificate = $d/ca.pem\n"
	"default_md = sha256\n"
	"policy = pol\n"
	"unique_subject = no\n"
	"default_crl_days = 1\n"
	"[ pol ]\n"
	"commonName = supplied\n"
	"[ req ]\n"
	"distinguished_name = dn\n"
	"[ dn ]\n"
	"[ v3_ca ]\n"
	"basicConstraints = critical,CA:true\n"
	"keyUsage = critical,keyCertSign,cRLSign\n"
	"subjectKeyIdentifier = hash\n"
	"EOF\n"
	"done\n"
	"ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \"$@\"; }\n"
	"ec -x509 -config ca.cnf -extensions v3_ca -keyout ca.key -out ca.pem -subj /CN=sigil-rev-ca -days 3\n"
	"(cd other && ec -x509 -config ca.cnf -extensions v3_ca -keyout ca.key -out ca.pem -subj /CN=sigil-rev-ca -days 3)\n"
	"printf 'basicConstraints=CA:false\\nkeyUsage=critical,digitalSignature\\nextendedKeyUsage=OCSPSigning\\n' > ocsp.ext\n"
	"ec -keyout ocsp.key -out ocsp.csr -subj /CN=sigil-rev-ocsp\n"
	"openssl ca -batch -config ca.cnf -notext -days 2 -extfile ocsp.ext -in ocsp.csr -out ocsp.pem\n"
	"(cd other && ec -keyout ocsp.key -out ocsp.csr -subj /CN=sigil-rev-ocsp && "
	" openssl ca -batch -config ca.cnf -notext -days 2 -extfile ../ocsp.ext -in ocsp.csr -out ocsp.pem)\n"
	;
static const char setup_sh2[] =
	"H=http://127.0.0.1:$HTTP_PORT\n"
	"O=http://127.0.0.1:$OCSP_PORT\n"
	"D=http://127.0.0.1:$DEAD_PORT\n"
	"leaf() {\n"
	"  name=$1; shift\n"
	"  printf 'basicConstraints=CA:false\\nkeyUsage=critical,digitalSignature\\nextendedKeyUsage=codeSigning\\n' > $name.ext\n"
	"  for x in \"$@\"; do echo \"$x\" >> $name.ext; done\n"
	"  ec -keyout $name.key -out $name.csr -subj /CN=sigil-rev-$name\n"
	"  openssl ca -batch -config ca.cnf -notext -days 2 -extfile $name.ext -in $name.csr -out $name.pem\n"
	"}\n"
	"leaf ocsp_good authorityInfoAccess=OCSP\\;URI:$O\n"
	"leaf ocsp_revoked authorityInfoAccess=OCSP\\;URI:$O\n"
	"leaf ocsp_down authorityInfoAccess=OCSP\\;URI:$D\n"
	"leaf ocsp_down_then_good \"authorityInfoAccess=OCSP;URI:$D,OCSP;URI:$O\"\n"
	"leaf ocsp_slow authorityInfoAccess=OCSP\\;URI:$H/slow/x\n"
	"leaf ocsp_expired authorityInfoAccess=OCSP\\;URI:$H/ocsp-expired\n"
	"leaf ocsp_wrongkey authorityInfoAccess=OCSP\\;URI:$H/ocsp-wrongkey\n"
	"leaf ocsp_https authorityInfoAccess=OCSP\\;URI:https://127.0.0.1:$OCSP_PORT\n"
	"leaf crl_good crlDistributionPoints=URI:$H/good.crl\n"
	"leaf crl_revoked crlDistributionPoints=URI:$H/good.crl\n"
	"leaf crl_hold crlDistributionPoints=URI:$H/good.crl\n"
	"leaf crl_compromised crlDistributionPoints=URI:$H/good.crl\n"
	"leaf crl_other crlDistributionPoints=URI:$H/other.crl\n"
	"leaf crl_big crlDistributionPoints=URI:$H/big/x.crl\n"
	"leaf crl_slow crlDistributionPoints=URI:$H/slow/good.crl\n"
	"leaf crl_gone crlDistributionPoints=URI:$H/gone.crl\n"
	"leaf crl_gone_revoked crlDistributionPoints=URI:$H/gone.crl\n"
	"leaf crl_two crlDistributionPoints=URI:$H/good.crl,URI:$H/gone.crl\n"
	"leaf crl_pem crlDistributionPoints=URI:$H/good.pem\n"
	"leaf both_good \"authorityInfoAccess=OCSP;URI:$O\" crlDistributionPoints=URI:$H/good.crl\n"
	"leaf none\n"
	"leaf ocsp_down2 authorityInfoAccess=OCSP\\;URI:$D\n"
	"leaf ocsp_down_crl authorityInfoAccess=OCSP\\;URI:$D crlDistributionPoints=URI:$H/good.crl\n"
	"leaf delta_good crlDistributionPoints=URI:$H/delta-base.crl\n"
	"leaf delta_revoked crlDistributionPoints=URI:$H/delta-base.crl\n"
	"leaf delta_held crlDistributionPoints=URI:$H/delta-base.crl\n"
	"leaf delta_certfresh crlDistributionPoints=URI:$H/good.crl freshestCRL=URI:$H/delta.crl\n"
	;
static const char setup_sh3[] =
	/* an unknown serial for the responder: issued outside the CA database */
	"printf 'basicConstraints=CA:false\\nkeyUsage=critical,digitalSignature\\nextendedKeyUsage=codeSigning\\nauthorityInfoAccess=OCSP;URI:%s\\n' $O > ocsp_unknown.ext\n"
	"ec -keyout ocsp_unknown.key -out ocsp_unknown.csr -subj /CN=sigil-rev-ocsp_unknown\n"
	"openssl x509 -req -in ocsp_unknown.csr -CA ca.pem -CAkey ca.key -set_serial 0x7777 -days 2 -extfile ocsp_unknown.ext -out ocsp_unknown.pem\n"
	"cp ocsp_unknown.ext ocsp_unknown_crl.ext; echo crlDistributionPoints=URI:$H/good.crl >> ocsp_unknown_crl.ext\n"
	"openssl x509 -req -in ocsp_unknown.csr -CA ca.pem -CAkey ca.key -set_serial 0x7778 -days 2 -extfile ocsp_unknown_crl.ext -out ocsp_unknown_crl.pem\n"
	"for n in ocsp_revoked crl_revoked crl_gone_revoked; do openssl ca -config ca.cnf -revoke $n.pem -crl_reason keyCompromise; done\n"
	"openssl ca -config ca.cnf -revoke crl_hold.pem -crl_reason certificateHold\n"
	"openssl ca -config ca.cnf -revoke crl_compromised.pem -crl_compromise 20200101000000Z\n"
	"openssl ca -config ca.cnf -gencrl -out good.crl.pem\n"
	"openssl crl -in good.crl.pem -outform DER -out www/good.crl\n"
	"cp good.crl.pem www/good.pem\n"
	"(cd other && openssl ca -config ca.cnf -gencrl -out crl.pem && openssl crl -in crl.pem -outform DER -out ../www/other.crl)\n"
	/* offline responses: no nextUpdate (expired), signed by the impostor's
	 * responder, signed by the impostor's key without certificates, good
	 * for a day (for the seed) */
	"resp() { openssl ocsp -issuer ca.pem -cert $1.pem -no_nonce -reqout $1.req; shift_=$1; shift;"
	"  openssl ocsp -index db/index.txt -CA ca.pem -reqin $shift_.req \"$@\"; }\n"
	"resp ocsp_expired -rsigner ocsp.pem -rkey ocsp.key -respout www/ocsp-expired\n"
	"resp ocsp_wrongkey -rsigner other/ocsp.pem -rkey other/ocsp.key -ndays 1 -respout www/ocsp-wrongkey\n"
	"resp ocsp_good -rsigner other/ca.pem -rkey other/ca.key -resp_no_certs -ndays 1 -respout nocerts-wrongkey.der\n"
	"resp ocsp_good -rsigner ca.pem -rkey ca.key -resp_no_certs -ndays 1 -respout nocerts-good.der\n"
	"resp ocsp_revoked -rsigner ocsp.pem -rkey ocsp.key -ndays 1 -respout revoked.der\n"
	"resp ocsp_down -rsigner ocsp.pem -rkey ocsp.key -ndays 1 -respout seed/ocsp-down.der\n"
	"resp ocsp_down2 -rsigner ocsp.pem -rkey ocsp.key -ndays 1 -respout ocsp-down2.der\n";
/* delta CRLs (RFC 5280 §5.2.4, notary-verification.md §6.4). Base CRLs of
 * the CA made before delta_revoked and the intermediate are revoked, each
 * naming its delta(s) in FreshestCRL; delta_held on hold in the base. Then
 * the revocations, the hold lifted (removeFromCRL, an hour later), and
 * the deltas: a good one (DeltaCRLIndicator = the base's CRLNumber, valid
 * 6 hours, less than the base's day), one for a later base, one whose
 * number is not above the base's. `openssl ca` lists every revocation of
 * its database in each CRL; a delta listing more than the changes is
 * still a delta. */
static const char setup_sh4[] =
	"cat >> ca.cnf <<EOF\n"
	"[ base ]\nfreshestCRL = URI:$H/delta.crl\n"
	"[ base_dead ]\nfreshestCRL = URI:$D/delta.crl\n"
	"[ base_two ]\nfreshestCRL = URI:$H/delta-gone.crl,URI:$H/delta.crl\n"
	"[ base_twobad ]\nfreshestCRL = URI:$H/delta-bad.crl,URI:$H/delta.crl\n"
	"EOF\n"
	"printf 'basicConstraints=critical,CA:true\\nkeyUsage=critical,keyCertSign,cRLSign\\n"
	"crlDistributionPoints=URI:%s/delta-base.crl\\n' $H > int.ext\n"
	"ec -keyout int.key -out int.csr -subj /CN=sigil-rev-int\n"
	"openssl ca -batch -config ca.cnf -notext -days 2 -extfile int.ext -in int.csr -out int.pem\n"
	"printf 'basicConstraints=CA:false\\nkeyUsage=critical,digitalSignature\\nextendedKeyUsage=codeSigning\\n' > int_leaf.ext\n"
	"ec -keyout int_leaf.key -out int_leaf.csr -subj /CN=sigil-rev-int_leaf\n"
	"openssl x509 -req -in int_leaf.csr -CA int.pem -CAkey int.key -set_serial 0x4242 -days 1 "
	"-extfile int_leaf.ext -out int_leaf.pem\n"
	"mkdir -p deltas\n"
	"gen() { out=$1; shift; openssl ca -config ca.cnf -gencrl -out deltas/$out.pem \"$@\" && "
	"openssl crl -in deltas/$out.pem -outform DER -out deltas/$out.crl; }\n"
	"openssl ca -config ca.cnf -revoke delta_held.pem -crl_reason certificateHold\n"
	"N=$(cat db/crlnumber)\n"
	"gen base -crlexts base\n"
	"gen base-dead -crlexts base_dead\n"
	"gen base-two -crlexts base_two\n"
	"gen base-twobad -crlexts base_twobad\n"
	"openssl ca -config ca.cnf -revoke delta_revoked.pem -crl_reason keyCompromise\n"
	"openssl ca -config ca.cnf -revoke int.pem -crl_reason keyCompromise\n"
	"S=$(openssl x509 -in delta_held.pem -noout -serial | cut -d= -f2)\n"
	"L=$(date -u -d '+1 hour' +%y%m%d%H%M%SZ)\n"
	"awk -F '\\t' -v OFS='\\t' -v s=$S -v l=$L '$4 == s { $3 = l \",removeFromCRL\" } { print }' "
	"db/index.txt > db/index.new && mv db/index.new db/index.txt\n"
	/* no text syntax for DeltaCRLIndicator: the generic ASN1: one */
	"printf '[ delta ]\\ndeltaCRL = critical,ASN1:INTEGER:0x%s\\n"
	"[ delta_other ]\\ndeltaCRL = critical,ASN1:INTEGER:0x%X\\n' "
	"$N $((0x$N + 256)) >> ca.cnf\n"
	"gen ok -crlexts delta -crlhours 6\n"
	"gen otherbase -crlexts delta_other\n"
	"echo $N > db/crlnumber\n"
	"gen notnewer -crlexts delta\n"
	"printf '%X\\n' $((0x$N + 512)) > db/crlnumber\n"
	"cp deltas/base.crl www/delta-base.crl\n"
	"cp deltas/ok.crl www/delta.crl\n";

static X509 *ca, *other_ca;

static X509 *load(const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s.pem", dir, name);
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cannot open %s\n", path);
		exit(2);
	}
	X509 *c = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	if (!c)
		exit(2);
	return c;
}

static STACK_OF(X509) *chain_of(const char *leaf)
{
	STACK_OF(X509) *ch = sk_X509_new_null();
	sk_X509_push(ch, load(leaf));
	X509_up_ref(ca);
	sk_X509_push(ch, ca);
	return ch;
}

static void wait_port(int port)
{
	for (int i = 0; i < 100; i++) {
		int fd = socket(AF_INET, SOCK_STREAM, 0);
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
		close(fd);
		if (ok)
			return;
		usleep(50000);
	}
	fprintf(stderr, "server on port %d did not come up\n", port);
	exit(2);
}

static pid_t spawn(const char *const *argv, const char *log)
{
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		int lf = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(devnull, 0);
		dup2(lf, 1);
		dup2(lf, 2);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static void setup(void)
{
	snprintf(dir, sizeof dir, "/tmp/sigil-test-revocation-XXXXXX");
	if (!mkdtemp(dir))
		exit(2);
	http_port = closed_port();
	do
		ocsp_port = closed_port();
	while (ocsp_port == http_port);
	do
		dead_port = closed_port();
	while (dead_port == http_port || dead_port == ocsp_port);
	char path[512];
	snprintf(path, sizeof path, "%s/setup.sh", dir);
	FILE *f = fopen(path, "w");
	fputs(setup_sh, f);
	fputs(setup_sh2, f);
	fputs(setup_sh3, f);
	fputs(setup_sh4, f);
	fclose(f);
	snprintf(path, sizeof path, "%s/server.py", dir);
	f = fopen(path, "w");
	fputs(server_py, f);
	fclose(f);
	char cmd[1024];
	snprintf(cmd, sizeof cmd, "DIR='%s' HTTP_PORT=%d OCSP_PORT=%d DEAD_PORT=%d sh '%s/setup.sh' "
		">'%s/setup.log' 2>&1", dir, http_port, ocsp_port, dead_port, dir, dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "PKI setup failed, see %s/setup.log\n", dir);
		exit(2);
	}
	char port[16], idx[512], rsigner[512], rkey[512], cap[512];
	snprintf(port, sizeof port, "%d", http_port);
	const char *py[] = { "/usr/bin/python3", path, dir, port, NULL };
	char log[512];
	snprintf(log, sizeof log, "%s/http.log", dir);
	http_pid = spawn(py, log);
	snprintf(port, sizeof port, "%d", ocsp_port);
	snprintf(idx, sizeof idx, "%s/db/index.txt", dir);
	snprintf(rsigner, sizeof rsigner, "%s/ocsp.pem", dir);
	snprintf(rkey, sizeof rkey, "%s/ocsp.key", dir);
	snprintf(cap, sizeof cap, "%s/ca.pem", dir);
	const char *os[] = { "/usr/bin/openssl", "ocsp", "-index", idx, "-port", port, "-rsigner",
		rsigner, "-rkey", rkey, "-CA", cap, "-ndays", "1", NULL };
	snprintf(log, sizeof log, "%s/ocsp.log", dir);
	ocsp_pid = spawn(os, log);
	wait_port(http_port);
	/* not a probe connection: `openssl ocsp` serves one connection at a
	 * time and would wait forever on an empty one */
	for (int i = 0; i < 100; i++) {
		size_t n = 0;
		unsigned char *l = check_read_file(log, &n);
		int up = strstr((char *)l, "waiting for OCSP client connections") != NULL;
		free(l);
		if (up)
			break;
		usleep(50000);
	}
	ca = load("ca");
	snprintf(path, sizeof path, "other/ca");
	other_ca = load(path);
}

static void teardown(void)
{
	if (http_pid > 0) {
		kill(http_pid, SIGTERM);
		waitpid(http_pid, NULL, 0);
	}
	if (ocsp_pid > 0) {
		kill(ocsp_pid, SIGTERM);
		waitpid(ocsp_pid, NULL, 0);
	}
	X509_free(ca);
	X509_free(other_ca);
	if (!getenv("SIGIL_TEST_KEEP"))
		remove_dir(dir);
}

/* requests the file server saw for the first path component `name` */
static int served(const char *name)
{
	char cmd[512];
	snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c \"import json,urllib.request;"
		"print(json.load(urllib.request.urlopen('http://127.0.0.1:%d/_count')).get('%s',0))\"",
		http_port, name);
	FILE *p = popen(cmd, "r");
	int n = -1;
	if (!p || fscanf(p, "%d", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

typedef struct run {
	sigil__rev_outcome o;
	sigil_status st;
	sigil_error err;
	int64_t elapsed_ms;
} run;

static run check_at(sigil__revocation *rv, const char *leaf, int64_t now, int64_t budget_ms,
	int64_t signing_time)
{
	run r;
	memset(&r, 0, sizeof r);
	r.err = (sigil_error)SIGIL_ERROR_INIT;
	STACK_OF(X509) *ch = chain_of(leaf);
	int64_t t0 = sigil__now_ms();
	r.st = sigil__revocation_check_chain(rv, ch, SIGIL__REV_CODE_SIGNING, signing_time,
		now ? now : (int64_t)time(NULL), t0 + budget_ms, &r.o, &r.err);
	r.elapsed_ms = sigil__now_ms() - t0;
	sk_X509_pop_free(ch, X509_free);
	return r;
}

static run check(sigil__revocation *rv, const char *leaf)
{
	return check_at(rv, leaf, 0, 10000, 0);
}

static sigil__revocation *checker(const char *cache, const char *seed, int64_t crl_timeout)
{
	sigil__rev_config cfg = { cache, seed, false, 0, crl_timeout, NULL, NULL };
	sigil__revocation *rv = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__revocation_new(&rv, &cfg, &err) != SIGIL_STATUS_OK) {
		fprintf(stderr, "%s\n", err.message);
		exit(2);
	}
	return rv;
}

/* ---- OCSP over the network ---------------------------------------------- */

static void test_ocsp_good(void)
{
	sigil__revocation *rv = checker(NULL, NULL, 0);
	run r = check(rv, "ocsp_good");
	CHECK(r.st == SIGIL_STATUS_OK);
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	CHECK_INTEQ(r.o.index, -1);
	/* -ndays 1: the verdict may be reused for at most a day */
	CHECK(r.o.valid_until > time(NULL) && r.o.valid_until <= time(NULL) + 86400 + 60);
	/* a second check is answered from memory */
	sigil__rev_stats s1, s2;
	sigil__revocation_stats(rv, &s1);
	r = check(rv, "ocsp_good");
	sigil__revocation_stats(rv, &s2);
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	CHECK_INTEQ(s2.network_requests, s1.network_requests);
	CHECK(s2.memory_hits > s1.memory_hits);
	sigil__revocation_free(rv);
}

static void test_ocsp_revoked(void)
{
	sigil__revocation *rv = checker(NULL, NULL, 0);
	run r = check(rv, "ocsp_revoked");
	CHECK_INTEQ(r.o.status, SIGIL__REV_REVOKED);
	CHECK_INTEQ(r.o.index, 0);
	CHECK_STREQ(r.o.subject, "CN=sigil-rev-ocsp_revoked");
	CHECK_CONTAINS(r.o.detail, "certificate is revoked via OCSP");
	sigil__revocation_free(rv);
}

static void test_ocsp_unknown(void)
{
	sigil__revocation *rv = checker(NULL, NULL, 0);
	run r = check(rv, "ocsp_unknown");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "certificate has unknown status via OCSP");
	/* OCSP unknown with a CRL distribution point: the CRL decides */
	r = check(rv, "ocsp_unknown_crl");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	sigil__revocation_free(rv);
}

static void test_ocsp_expired_response(void)
{
	sigil__revocation *rv = checker(NULL, NULL, 0);
	run r = check(rv, "ocsp_expired");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "expired OCSP response");
	sigil__revocation_free(rv);
}

static void test_ocsp_wrong_key(void)
{
	sigil__revocation *rv = checker(NULL, NULL, 0);
	run r = check(rv, "ocsp_wrongkey");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "bad OCSP signature: the responder certificate is not signed by the issuer");
	sigil__revocation_free(rv);
}

static void test_ocsp_down(void)
{
	sigil__revocation *rv = checker(NULL, NULL, 0);
	run r = check(rv, "ocsp_down");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "error checking revocation status via OCSP");
	/* the next server is tried when one fails (§6.3) */
	r = check(rv, "ocsp_down_then_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	sigil__revocation_free(rv);
}

static void test_ocsp_https_refused(void)
{
	sigil__revocation *rv = checker(NULL, NULL, 0);
	sigil__rev_stats s;
	run r = check(rv, "ocsp_https");
	sigil__revocation_stats(rv, &s);
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "OCSPServer protocol https is not supported");
	CHECK_INTEQ(s.network_requests, 0);
	sigil__revocation_free(rv);
}

static void test_ocsp_slow_beyond_deadline(void)
{
	sigil__revocation *rv = checker(NULL, NULL, 0);
	/* the per-URL timeout (2 s) */
	run r = check(rv, "ocsp_slow");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "exceeded timeout threshold of 2.00 seconds for OCSP check");
	CHECK(r.elapsed_ms >= 1900 && r.elapsed_ms < 2900);
	/* the whole check's deadline comes first */
	r = check_at(rv, "ocsp_slow", 0, 500, 0);
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK(r.elapsed_ms < 1200);
	sigil__revocation_free(rv);
}

static void test_ocsp_then_crl_not_needed(void)
{
	sigil__revocation *rv = checker(NULL, NULL, 0);
	int before = served("good.crl");
	run r = check(rv, "both_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	/* OCSP answered: the CRL is not downloaded */
	CHECK_INTEQ(served("good.crl"), before);
	r = check(rv, "none");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	sigil__revocation_free(rv);
}

/* ---- OCSP responses, offline ------------------------------------------- */

static void test_ocsp_response_check(void)
{
	size_t len = 0;
	char path[512];
	X509 *good = load("ocsp_good"), *revoked = load("ocsp_revoked");
	sigil__rev_status st = SIGIL__REV_UNKNOWN;
	int64_t nu = 0, now = time(NULL);
	sigil_error err = SIGIL_ERROR_INIT;

	snprintf(path, sizeof path, "%s/nocerts-good.der", dir);
	unsigned char *der = check_read_file(path, &len);
	CHECK(sigil__ocsp_response_check(der, len, good, ca, now, 0, &st, &nu, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(st, SIGIL__REV_OK);
	/* past nextUpdate */
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__ocsp_response_check(der, len, good, ca, now + 2 * 86400, 0, &st, &nu, &err) ==
		SIGIL_STATUS_ERROR);
	CHECK_STREQ(err.message, "expired OCSP response");
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	/* not about this certificate */
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__ocsp_response_check(der, len, revoked, ca, now, 0, &st, &nu, &err) ==
		SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "no response matching the supplied certificate");
	/* trailing data */
	unsigned char *longer = malloc(len + 1);
	memcpy(longer, der, len);
	longer[len] = 0;
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__ocsp_response_check(longer, len + 1, good, ca, now, 0, &st, &nu, &err) ==
		SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "trailing data");
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	free(longer);
	/* a flipped byte in the signature */
	der[len - 5] ^= 1;
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__ocsp_response_check(der, len, good, ca, now, 0, &st, &nu, &err) ==
		SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "bad OCSP signature");
	CHECK_INTEQ(err.category, SIGIL_ERR_CRYPTO);
	free(der);

	/* signed directly by another key of the same name */
	snprintf(path, sizeof path, "%s/nocerts-wrongkey.der", dir);
	der = check_read_file(path, &len);
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__ocsp_response_check(der, len, good, ca, now, 0, &st, &nu, &err) ==
		SIGIL_STATUS_ERROR);
	CHECK_STREQ(err.message, "ocsp: bad OCSP signature");
	/* ... which is fine for the impostor CA itself */
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__ocsp_response_check(der, len, good, other_ca, now, 0, &st, &nu, &err) ==
		SIGIL_STATUS_OK);
	free(der);

	/* revoked, and the invalidity-date rule needs an invalidityDate:
	 * without one a signing time changes nothing */
	snprintf(path, sizeof path, "%s/revoked.der", dir);
	der = check_read_file(path, &len);
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__ocsp_response_check(der, len, revoked, ca, now, now - 100, &st, &nu, &err) ==
		SIGIL_STATUS_OK);
	CHECK_INTEQ(st, SIGIL__REV_REVOKED);
	free(der);

	/* not an OCSP response, and an oversized one */
	static const uint8_t junk[] = { 0x30, 0x03, 0x0a, 0x01, 0x00 };
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__ocsp_response_check(junk, 3, good, ca, now, 0, &st, &nu, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	/* responseStatus tryLater, no body */
	static const uint8_t later[] = { 0x30, 0x03, 0x0a, 0x01, 0x03 };
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__ocsp_response_check(later, sizeof later, good, ca, now, 0, &st, &nu, &err) ==
		SIGIL_STATUS_ERROR);
	CHECK_STREQ(err.message, "OCSP try later");
	uint8_t *big = calloc(1, 20481);
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__ocsp_response_check(big, 20481, good, ca, now, 0, &st, &nu, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	free(big);
	X509_free(good);
	X509_free(revoked);
}

static void test_ocsp_request(void)
{
	X509 *good = load("ocsp_good");
	uint8_t *req = NULL;
	size_t len = 0;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil__ocsp_request(good, ca, &req, &len, &err) == SIGIL_STATUS_OK);
	const unsigned char *p = req;
	OCSP_REQUEST *r = d2i_OCSP_REQUEST(NULL, &p, (long)len);
	CHECK(r != NULL);
	CHECK_INTEQ(OCSP_request_onereq_count(r), 1);
	ASN1_OBJECT *md = NULL;
	OCSP_id_get0_info(NULL, &md, NULL, NULL, OCSP_onereq_get0_id(OCSP_request_onereq_get0(r, 0)));
	CHECK_INTEQ(OBJ_obj2nid(md), NID_sha1);
	/* no nonce */
	CHECK_INTEQ(OCSP_REQUEST_get_ext_count(r), 0);
	OCSP_REQUEST_free(r);
	free(req);
	X509_free(good);
}

/* ---- CRLs ------------------------------------------------------------- */

static void test_crl_good_and_revoked(void)
{
	sigil__revocation *rv = checker(NULL, NULL, 0);
	run r = check(rv, "crl_good");
	CHECK(r.st == SIGIL_STATUS_OK);
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	CHECK(r.o.valid_until > time(NULL) && r.o.valid_until <= time(NULL) + 86400 + 60);
	r = check(rv, "crl_revoked");
	CHECK_INTEQ(r.o.status, SIGIL__REV_REVOKED);
	CHECK_STREQ(r.o.subject, "CN=sigil-rev-crl_revoked");
	CHECK_CONTAINS(r.o.detail, "lists the certificate as revoked");
	/* certificateHold counts as revoked (§6.4) */
	r = check(rv, "crl_hold");
	CHECK_INTEQ(r.o.status, SIGIL__REV_REVOKED);
	/* PEM is not what a distribution point serves (DER, §6.4) */
	r = check(rv, "crl_pem");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "failed to download CRL from");
	CHECK_CONTAINS(r.o.detail, "malformed crl");
	sigil__revocation_free(rv);
}

static void test_crl_invalidity_date(void)
{
	/* §6.4, §8 row 15: with an authentic signing time (signingAuthority)
	 * before the invalidityDate (2020-01-01) the certificate was still
	 * good when it signed */
	sigil__revocation *rv = checker(NULL, NULL, 0);
	run r = check_at(rv, "crl_compromised", 0, 10000, 1559347200 /* 2019-06-01 */);
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	r = check_at(rv, "crl_compromised", 0, 10000, 1609459200 + 86400 /* 2021-01-02 */);
	CHECK_INTEQ(r.o.status, SIGIL__REV_REVOKED);
	/* no signing time (notary.x509): revoked */
	r = check(rv, "crl_compromised");
	CHECK_INTEQ(r.o.status, SIGIL__REV_REVOKED);
	sigil__revocation_free(rv);
}

static void test_crl_other_issuer(void)
{
	sigil__revocation *rv = checker(NULL, NULL, 0);
	run r = check(rv, "crl_other");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "failed to validate CRL from");
	CHECK_CONTAINS(r.o.detail, "CRL signature verification failed");
	sigil__revocation_free(rv);
}

static void test_crl_oversized(void)
{
	sigil__revocation *rv = checker(NULL, NULL, 0);
	run r = check(rv, "crl_big");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "exceeds 33554431 bytes");
	sigil__revocation_free(rv);
}

static void test_crl_slow(void)
{
	sigil__revocation *rv = checker(NULL, NULL, 1000);
	run r = check(rv, "crl_slow");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "timed out");
	CHECK(r.elapsed_ms < 2000);
	sigil__revocation_free(rv);
}

static void test_crl_all_points_must_answer(void)
{
	sigil__revocation *rv = checker(NULL, NULL, 0);
	run r = check(rv, "crl_two");
	/* §8 row 14: the second distribution point's 404 makes it unknown */
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "gone.crl");
	CHECK_CONTAINS(r.o.detail, "status code: 404");
	sigil__revocation_free(rv);
}

static void test_crl_validate_rules(void)
{
	size_t len = 0;
	char path[512];
	snprintf(path, sizeof path, "%s/www/good.crl", dir);
	unsigned char *der = check_read_file(path, &len);
	X509_CRL *crl = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	int64_t nu = 0, now = time(NULL);
	CHECK(sigil__crl_parse(der, len, &crl, &err) == SIGIL_STATUS_OK);
	CHECK(sigil__crl_validate(crl, ca, now, &nu, &err) == SIGIL_STATUS_OK);
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__crl_validate(crl, ca, now + 2 * 86400, &nu, &err) == SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "expired CRL. Current time");
	CHECK_INTEQ(err.category, SIGIL_ERR_POLICY);
	/* a leaf is no CRL issuer */
	X509 *leaf = load("crl_good");
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__crl_validate(crl, leaf, now, &nu, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_CRYPTO);
	/* a base CRL is no delta of itself */
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__crl_validate_delta(crl, crl, &err) == SIGIL_STATUS_ERROR);
	CHECK_STREQ(err.message, "delta CRL indicator extension is not found");
	/* the invalidity-date rule needs an invalidityDate */
	X509 *revoked = load("crl_revoked");
	sigil__rev_status st = SIGIL__REV_OK;
	CHECK(sigil__crl_cert_status(crl, NULL, revoked, now - 10, &st, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(st, SIGIL__REV_REVOKED);
	CHECK(sigil__crl_cert_status(crl, NULL, leaf, 0, &st, &err) == SIGIL_STATUS_OK);
	CHECK_INTEQ(st, SIGIL__REV_OK);
	/* trailing data, and the size bound */
	err = (sigil_error)SIGIL_ERROR_INIT;
	X509_CRL *c2 = NULL;
	unsigned char *longer = malloc(len + 2);
	memcpy(longer, der, len);
	longer[len] = longer[len + 1] = 0;
	CHECK(sigil__crl_parse(longer, len + 2, &c2, &err) == SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "trailing data");
	free(longer);
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__crl_parse(der, 32u * 1024u * 1024u, &c2, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_LIMIT);
	X509_free(leaf);
	X509_free(revoked);
	X509_CRL_free(crl);
	free(der);
}

/* ---- caches and the offline seed ------------------------------------- */

static void cache_name(const char *url, char out[65])
{
	unsigned char md[32];
	SHA256((const unsigned char *)url, strlen(url), md);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void test_cache_disk_no_network(void)
{
	char cache[512];
	snprintf(cache, sizeof cache, "%s/cache1", dir);
	sigil__revocation *rv = checker(cache, NULL, 0);
	int before = served("good.crl");
	run r = check(rv, "crl_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	CHECK_INTEQ(served("good.crl"), before + 1);
	/* the same checker: memory */
	r = check(rv, "crl_revoked");
	CHECK_INTEQ(r.o.status, SIGIL__REV_REVOKED);
	CHECK_INTEQ(served("good.crl"), before + 1);
	sigil__revocation_free(rv);
	/* the file is named after the URL */
	char url[256], name[65], path[1024];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/good.crl", http_port);
	cache_name(url, name);
	snprintf(path, sizeof path, "%s/crl/%s", cache, name);
	struct stat sb;
	CHECK(stat(path, &sb) == 0 && sb.st_size > 0);
	/* a new checker (a restarted daemon): the disk, no network */
	rv = checker(cache, NULL, 0);
	r = check(rv, "crl_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	CHECK_INTEQ(served("good.crl"), before + 1);
	sigil__rev_stats s;
	sigil__revocation_stats(rv, &s);
	CHECK_INTEQ(s.network_requests, 0);
	CHECK_INTEQ(s.disk_hits, 1);
	/* OCSP responses are cached on disk too */
	r = check(rv, "ocsp_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	sigil__revocation_free(rv);
	rv = checker(cache, NULL, 0);
	r = check(rv, "ocsp_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	sigil__revocation_stats(rv, &s);
	CHECK_INTEQ(s.network_requests, 0);
	sigil__revocation_free(rv);
	/* a corrupted cache file is not trusted: downloaded again */
	FILE *f = fopen(path, "r+b");
	fseek(f, 40, SEEK_SET);
	fputc('X', f);
	fclose(f);
	rv = checker(cache, NULL, 0);
	r = check(rv, "crl_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	CHECK_INTEQ(served("good.crl"), before + 2);
	sigil__revocation_free(rv);
}

static void copy_file(const char *from, const char *to)
{
	size_t len = 0;
	unsigned char *b = check_read_file(from, &len);
	FILE *f = fopen(to, "wb");
	fwrite(b, 1, len, f);
	fclose(f);
	free(b);
}

static void test_cache_endpoint_down(void)
{
	/* gone.crl answers 404; a cached CRL for that URL is used while it is
	 * fresh, and not once its nextUpdate has passed */
	char cache[512], url[256], name[65], path[1024], src[512];
	snprintf(cache, sizeof cache, "%s/cache2", dir);
	snprintf(path, sizeof path, "%s/crl", cache);
	mkdir(cache, 0700);
	mkdir(path, 0700);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/gone.crl", http_port);
	cache_name(url, name);
	snprintf(path, sizeof path, "%s/crl/%s", cache, name);
	snprintf(src, sizeof src, "%s/www/good.crl", dir);
	copy_file(src, path);
	sigil__revocation *rv = checker(cache, NULL, 0);
	run r = check(rv, "crl_gone");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	r = check(rv, "crl_gone_revoked");
	CHECK_INTEQ(r.o.status, SIGIL__REV_REVOKED);
	sigil__revocation_free(rv);
	/* two days later the cached CRL is stale and the endpoint is down */
	rv = checker(cache, NULL, 0);
	r = check_at(rv, "crl_gone", time(NULL) + 2 * 86400, 10000, 0);
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "status code: 404");
	sigil__revocation_free(rv);
}

static void test_offline_seed(void)
{
	char seed[512], src[512], path[512];
	snprintf(seed, sizeof seed, "%s/seed", dir);
	/* any file name, PEM as `openssl ca -gencrl` writes it */
	snprintf(src, sizeof src, "%s/good.crl.pem", dir);
	snprintf(path, sizeof path, "%s/acme-ca.crl", seed);
	copy_file(src, path);
	sigil__revocation *rv = checker(NULL, seed, 0);
	run r = check(rv, "crl_gone");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	r = check(rv, "crl_gone_revoked");
	CHECK_INTEQ(r.o.status, SIGIL__REV_REVOKED);
	/* a staged OCSP response (seed/ocsp-down.der) for a responder that
	 * is unreachable */
	r = check(rv, "ocsp_down");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	sigil__rev_stats s;
	sigil__revocation_stats(rv, &s);
	CHECK_INTEQ(s.network_requests, 0);
	CHECK(s.seed_hits >= 2);
	sigil__revocation_free(rv);
	/* the seed is validated too: the impostor's CRL is not used */
	char seed2[512];
	snprintf(seed2, sizeof seed2, "%s/seed2", dir);
	mkdir(seed2, 0700);
	snprintf(src, sizeof src, "%s/www/other.crl", dir);
	snprintf(path, sizeof path, "%s/other.crl", seed2);
	copy_file(src, path);
	rv = checker(NULL, seed2, 0);
	r = check(rv, "crl_gone");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	sigil__revocation_free(rv);
}

static void test_aggregation_and_chain(void)
{
	sigil__revocation *rv = checker(NULL, NULL, 0);
	/* a chain that is not correct and complete: an error, not a result */
	STACK_OF(X509) *ch = sk_X509_new_null();
	sk_X509_push(ch, load("crl_good"));
	X509_up_ref(other_ca);
	sk_X509_push(ch, other_ca);
	sigil__rev_outcome o;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil__revocation_check_chain(rv, ch, SIGIL__REV_CODE_SIGNING, 0, time(NULL),
		sigil__now_ms() + 5000, &o, &err) == SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "invalid chain: expected chain to be correct and complete: ");
	sk_X509_pop_free(ch, X509_free);
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__revocation_check_chain(rv, NULL, SIGIL__REV_CODE_SIGNING, 0, time(NULL),
		sigil__now_ms() + 5000, &o, &err) == SIGIL_STATUS_ERROR);
	/* no revocation information anywhere: OK, and nothing bounds the
	 * verdict's lifetime */
	run r = check(rv, "none");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	CHECK(r.o.valid_until == INT64_MAX);
	/* the leaf is revoked and its issuer (the root) is never checked */
	r = check(rv, "crl_revoked");
	CHECK_INTEQ(r.o.index, 0);
	sigil__revocation_free(rv);
}

static void test_public_options(void)
{
	sigil_verifier *v = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil_verifier_new(&v, SIGIL_TEST_DATA "/corpus/conformance/cases/073-crl-good", &err) !=
	    SIGIL_STATUS_OK) {
		CHECK(!"verifier");
		return;
	}
	sigil_revocation_options o = SIGIL_REVOCATION_OPTIONS_INIT;
	o.cache_dir = dir;
	CHECK(sigil_verifier_set_revocation(v, &o, &err) == SIGIL_STATUS_OK);
	o.version = 7;
	CHECK(sigil_verifier_set_revocation(v, &o, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	/* version 1 (without on_fetch) is still accepted */
	o.version = 1;
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil_verifier_set_revocation(v, &o, &err) == SIGIL_STATUS_OK);
	o.version = SIGIL_REVOCATION_OPTIONS_VERSION;
	o.budget_ms = -1;
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil_verifier_set_revocation(v, &o, &err) == SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "must not be negative");
	sigil_verifier_free(v);
}

/* ---- sigil_revocation_options.on_fetch ------------------------------------ */

/* the (kind, outcome) pairs seen, in order: "kind:outcome kind:outcome" */
typedef struct fetch_log {
	char seq[512];
} fetch_log;

static void log_fetch(void *ctx, const char *kind, const char *outcome)
{
	fetch_log *l = ctx;
	size_t n = strlen(l->seq);
	snprintf(l->seq + n, sizeof l->seq - n, "%s%s:%s", n ? " " : "", kind, outcome);
}

/* a fresh checker (empty memory cache, no disk cache) reporting into l */
static sigil__revocation *logging_checker(fetch_log *l)
{
	memset(l, 0, sizeof *l);
	sigil__rev_config cfg = { NULL, NULL, false, 0, 0, log_fetch, l };
	sigil__revocation *rv = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil__revocation_new(&rv, &cfg, &err) != SIGIL_STATUS_OK) {
		fprintf(stderr, "%s\n", err.message);
		exit(2);
	}
	return rv;
}

/* the downloads one check of leaf makes with a fresh checker */
static void expect_fetches(const char *leaf, sigil__rev_status want, const char *seq)
{
	fetch_log l;
	sigil__revocation *rv = logging_checker(&l);
	run r = check(rv, leaf);
	CHECK_INTEQ(r.o.status, want);
	CHECK_STREQ(l.seq, seq);
	sigil__revocation_free(rv);
}

static void test_fetch_callback(void)
{
	/* OCSP good: one request; the second check is answered from memory
	 * and reports nothing */
	fetch_log l;
	sigil__revocation *rv = logging_checker(&l);
	run r = check(rv, "ocsp_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	CHECK_STREQ(l.seq, "ocsp:ok");
	r = check(rv, "ocsp_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	CHECK_STREQ(l.seq, "ocsp:ok");
	sigil__revocation_free(rv);

	/* OCSPFallbackCRL: the responder is down, the CRL answers; then both
	 * come from memory (the OCSP responder is asked again: nothing
	 * cacheable came back from it) */
	rv = logging_checker(&l);
	r = check(rv, "ocsp_down_crl");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	CHECK_STREQ(l.seq, "ocsp:network_error crl:ok");
	r = check(rv, "ocsp_down_crl");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	CHECK_STREQ(l.seq, "ocsp:network_error crl:ok ocsp:network_error");
	sigil__revocation_free(rv);

	/* the responder's "unknown" is an answer (ok); the CRL decides */
	expect_fetches("ocsp_unknown_crl", SIGIL__REV_OK, "ocsp:ok crl:ok");
	/* each outcome once */
	expect_fetches("crl_gone", SIGIL__REV_UNKNOWN, "crl:http_error");
	expect_fetches("crl_big", SIGIL__REV_UNKNOWN, "crl:too_large");
	expect_fetches("crl_other", SIGIL__REV_UNKNOWN, "crl:invalid");
	expect_fetches("ocsp_wrongkey", SIGIL__REV_UNKNOWN, "ocsp:invalid");
	/* not attempted: a scheme that is not fetched, no endpoint at all */
	expect_fetches("ocsp_https", SIGIL__REV_UNKNOWN, "");
	expect_fetches("none", SIGIL__REV_OK, "");
}

/* ---- background refresh (sigil_revocation_refresh) ------------------------ */

static void sh_in_dir(const char *script)
{
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "cd '%s' && (%s) >/dev/null 2>&1", dir, script);
	CHECK(system(cmd) == 0);
}

static int files_equal(const char *a, const char *b)
{
	size_t la = 0, lb = 0;
	unsigned char *x = check_read_file(a, &la), *y = check_read_file(b, &lb);
	int eq = x && y && la == lb && memcmp(x, y, la) == 0;
	free(x);
	free(y);
	return eq;
}

static size_t refresh(const char *cache, int64_t now, sigil_status want)
{
	sigil_revocation_options ro = SIGIL_REVOCATION_OPTIONS_INIT;
	ro.cache_dir = cache;
	size_t n = 999;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK_INTEQ(sigil_revocation_refresh(&ro, now, 3600, &n, &err), want);
	if (want == SIGIL_STATUS_OK)
		CHECK_INTEQ(err.category, SIGIL_ERR_NONE);
	return n;
}

static void test_refresh(void)
{
	char cache[512], url[256], name[65], entry[1024], src[1024], www[512], crl[1024];
	snprintf(cache, sizeof cache, "%s/cache-refresh", dir);
	snprintf(www, sizeof www, "%s/www/gone.crl", dir);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/gone.crl", http_port);
	cache_name(url, name);
	snprintf(entry, sizeof entry, "%s/crl/%s", cache, name);
	snprintf(src, sizeof src, "%s.src", entry);
	snprintf(crl, sizeof crl, "%s/www/good.crl", dir);

	/* a pull downloads the CRL: the entry and its source record (URL,
	 * issuer) are written */
	copy_file(crl, www);
	sigil__revocation *rv = checker(cache, NULL, 0);
	run r = check(rv, "crl_gone");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	sigil__revocation_free(rv);
	struct stat sb;
	CHECK(stat(entry, &sb) == 0 && sb.st_size > 0);
	CHECK(stat(src, &sb) == 0 && sb.st_size > 0);
	int64_t t = (int64_t)time(NULL);
	int base = served("gone.crl");

	/* fresh (nextUpdate a day away): nothing is downloaded */
	CHECK_INTEQ(refresh(cache, t, SIGIL_STATUS_OK), 0);
	CHECK_INTEQ(served("gone.crl"), base);

	/* close to nextUpdate, the same CRL is served: downloaded, but not
	 * newer, so not counted and not rewritten */
	int64_t soon = t + 86400 - 600;
	CHECK_INTEQ(refresh(cache, soon, SIGIL_STATUS_OK), 0);
	CHECK_INTEQ(served("gone.crl"), base + 1);
	CHECK(files_equal(entry, crl));

	/* the CA published a new CRL: it replaces the entry */
	sh_in_dir("sleep 1 && openssl ca -config ca.cnf -gencrl -out refresh.crl.pem && "
		"openssl crl -in refresh.crl.pem -outform DER -out www/gone.crl");
	CHECK_INTEQ(refresh(cache, soon, SIGIL_STATUS_OK), 1);
	CHECK_INTEQ(served("gone.crl"), base + 2);
	CHECK(files_equal(entry, www));
	CHECK(!files_equal(entry, crl));
	/* ... which a later pull uses from the disk, without the network */
	rv = checker(cache, NULL, 0);
	r = check(rv, "crl_gone_revoked");
	CHECK_INTEQ(r.o.status, SIGIL__REV_REVOKED);
	sigil__rev_stats st;
	sigil__revocation_stats(rv, &st);
	CHECK_INTEQ(st.network_requests, 0);
	CHECK_INTEQ(st.disk_hits, 1);
	sigil__revocation_free(rv);
	char keep[1024];
	snprintf(keep, sizeof keep, "%s/refresh-keep.crl", dir);
	copy_file(entry, keep);

	/* once stale it is refreshed too, and a pull a day later works */
	int64_t later = t + 86400 + 600;
	sh_in_dir("sleep 1 && openssl ca -config ca.cnf -gencrl -crlhours 48 -out refresh2.crl.pem && "
		"openssl crl -in refresh2.crl.pem -outform DER -out www/gone.crl");
	CHECK_INTEQ(refresh(cache, later, SIGIL_STATUS_OK), 1);
	CHECK(files_equal(entry, www));
	copy_file(entry, keep);

	/* garbage, another CA's CRL, a 404: downloaded, never replace the
	 * valid entry */
	int before = served("gone.crl");
	FILE *f = fopen(www, "wb");
	fputs("this is not a CRL", f);
	fclose(f);
	int64_t due = t + 2 * 86400;
	CHECK_INTEQ(refresh(cache, due, SIGIL_STATUS_OK), 0);
	CHECK(files_equal(entry, keep));
	snprintf(src, sizeof src, "%s/www/other.crl", dir);
	copy_file(src, www);
	CHECK_INTEQ(refresh(cache, due, SIGIL_STATUS_OK), 0);
	CHECK(files_equal(entry, keep));
	unlink(www);
	CHECK_INTEQ(refresh(cache, due, SIGIL_STATUS_OK), 0);
	CHECK(files_equal(entry, keep));
	CHECK_INTEQ(served("gone.crl"), before + 3);

	/* an entry without a source record (an older cache, a copied seed) or
	 * with a record of another URL is left alone */
	snprintf(src, sizeof src, "%s.src", entry);
	char other[1024], other_src[1024];
	snprintf(other, sizeof other, "%s/crl/%064d", cache, 0);
	snprintf(other_src, sizeof other_src, "%s.src", other);
	copy_file(keep, other);
	before = served("gone.crl");
	CHECK_INTEQ(refresh(cache, due, SIGIL_STATUS_OK), 0);
	copy_file(src, other_src);
	CHECK_INTEQ(refresh(cache, due, SIGIL_STATUS_OK), 0);
	unlink(other);
	unlink(other_src);
	/* only gone.crl's own record was used */
	CHECK_INTEQ(served("gone.crl"), before + 2);

	/* usage errors */
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil_revocation_refresh(NULL, t, 3600, NULL, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	sigil_revocation_options ro = SIGIL_REVOCATION_OPTIONS_INIT;
	CHECK(sigil_revocation_refresh(&ro, t, 3600, NULL, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_USAGE);
	CHECK_CONTAINS(err.message, "a cache directory is required");
	ro.cache_dir = cache;
	CHECK(sigil_revocation_refresh(&ro, t, -1, NULL, &err) == SIGIL_STATUS_ERROR);
	CHECK_CONTAINS(err.message, "negative horizon");
	/* a cache directory without CRLs yet is fine */
	snprintf(other, sizeof other, "%s/cache-empty", dir);
	CHECK_INTEQ(refresh(other, due, SIGIL_STATUS_OK), 0);
}

/* ---- delta CRLs (§6.4) -------------------------------------------------- */

static void serve(const char *www_name, const char *from)
{
	char to[512], src[512];
	snprintf(to, sizeof to, "%s/www/%s", dir, www_name);
	if (!from) {
		unlink(to);
		return;
	}
	snprintf(src, sizeof src, "%s/%s", dir, from);
	size_t len = 0;
	unsigned char *b = check_read_file(src, &len);
	FILE *f = fopen(to, "wb");
	fwrite(b, 1, len, f);
	fclose(f);
	free(b);
}

static int64_t crl_file_next_update(const char *name)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	size_t len = 0;
	unsigned char *der = check_read_file(path, &len);
	X509_CRL *crl = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	int64_t nu = -1;
	if (sigil__crl_parse(der, len, &crl, &err) == SIGIL_STATUS_OK &&
	    sigil__crl_validate(crl, ca, time(NULL), &nu, &err) != SIGIL_STATUS_OK)
		nu = -1;
	X509_CRL_free(crl);
	free(der);
	return nu;
}

static run check_chain3(sigil__revocation *rv, const char *leaf, const char *inter)
{
	run r;
	memset(&r, 0, sizeof r);
	r.err = (sigil_error)SIGIL_ERROR_INIT;
	STACK_OF(X509) *ch = sk_X509_new_null();
	sk_X509_push(ch, load(leaf));
	sk_X509_push(ch, load(inter));
	X509_up_ref(ca);
	sk_X509_push(ch, ca);
	r.st = sigil__revocation_check_chain(rv, ch, SIGIL__REV_CODE_SIGNING, 0, time(NULL),
		sigil__now_ms() + 10000, &r.o, &r.err);
	sk_X509_pop_free(ch, X509_free);
	return r;
}

/* a fresh checker without caches, so that what is served now decides */
static run check_fresh(const char *leaf)
{
	sigil__revocation *rv = checker(NULL, NULL, 0);
	run r = check(rv, leaf);
	sigil__revocation_free(rv);
	return r;
}

static void test_delta_crl(void)
{
	serve("delta-base.crl", "deltas/base.crl");
	serve("delta.crl", "deltas/ok.crl");
	sigil__revocation *rv = checker(NULL, NULL, 0);
	/* the base CRL does not list it; the delta its FreshestCRL names does */
	int before = served("delta.crl");
	run r = check(rv, "delta_revoked");
	CHECK(r.st == SIGIL_STATUS_OK);
	CHECK_INTEQ(r.o.status, SIGIL__REV_REVOKED);
	CHECK_INTEQ(r.o.index, 0);
	CHECK_STREQ(r.o.subject, "CN=sigil-rev-delta_revoked");
	CHECK_CONTAINS(r.o.detail, "delta-base.crl\" lists the certificate as revoked");
	CHECK_INTEQ(served("delta.crl"), before + 1);
	/* not listed in either: OK, and the verdict relies on both, so it
	 * lasts until the delta's nextUpdate (6 hours, before the base's day) */
	r = check(rv, "delta_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	int64_t base_nu = crl_file_next_update("deltas/base.crl");
	int64_t delta_nu = crl_file_next_update("deltas/ok.crl");
	CHECK(delta_nu > 0 && delta_nu < base_nu);
	CHECK(r.o.valid_until == delta_nu);
	/* ... from memory: no second download of either */
	CHECK_INTEQ(served("delta.crl"), before + 1);
	/* certificateHold in the base, removeFromCRL (later) in the delta: the
	 * most recent temporary entry decides (§6.4) */
	r = check(rv, "delta_held");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	/* the base alone would say revoked (held) */
	{
		char path[512];
		snprintf(path, sizeof path, "%s/deltas/base.crl", dir);
		size_t len = 0;
		unsigned char *der = check_read_file(path, &len);
		X509_CRL *base = NULL;
		sigil_error err = SIGIL_ERROR_INIT;
		X509 *held = load("delta_held");
		sigil__rev_status st = SIGIL__REV_UNKNOWN;
		CHECK(sigil__crl_parse(der, len, &base, &err) == SIGIL_STATUS_OK);
		CHECK(sigil__crl_cert_status(base, NULL, held, 0, &st, &err) == SIGIL_STATUS_OK);
		CHECK_INTEQ(st, SIGIL__REV_REVOKED);
		X509_free(held);
		X509_CRL_free(base);
		free(der);
	}
	/* an intermediate revoked by the delta of its issuer's CRL */
	r = check_chain3(rv, "int_leaf", "int");
	CHECK(r.st == SIGIL_STATUS_OK);
	CHECK_INTEQ(r.o.status, SIGIL__REV_REVOKED);
	CHECK_INTEQ(r.o.index, 1);
	CHECK_STREQ(r.o.subject, "CN=sigil-rev-int");
	sigil__revocation_free(rv);

	/* a delta of a later base CRL (DeltaCRLIndicator above our base's
	 * CRLNumber): not a delta of this base, unknown */
	serve("delta.crl", "deltas/otherbase.crl");
	r = check_fresh("delta_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "failed to retrieve the delta CRL");
	CHECK_CONTAINS(r.o.detail, "delta CRL indicator is greater than the base CRL number");
	/* a delta whose CRLNumber is not above the base's */
	serve("delta.crl", "deltas/notnewer.crl");
	r = check_fresh("delta_revoked");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "delta CRL number is not greater than the base CRL number");
	/* a complete CRL where the delta should be */
	serve("delta.crl", "deltas/base.crl");
	r = check_fresh("delta_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "delta CRL indicator extension is not found");
	/* the delta is missing (404): failing to obtain it is an error */
	serve("delta.crl", NULL);
	r = check_fresh("delta_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "failed to retrieve the delta CRL: failed to download CRL from");
	CHECK_CONTAINS(r.o.detail, "status code: 404");
	/* the delta's endpoint is down */
	serve("delta.crl", "deltas/ok.crl");
	serve("delta-base.crl", "deltas/base-dead.crl");
	r = check_fresh("delta_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "failed to retrieve the delta CRL: failed to download CRL from");
	char dead[64];
	snprintf(dead, sizeof dead, "127.0.0.1:%d/delta.crl", dead_port);
	CHECK_CONTAINS(r.o.detail, dead);
	/* two delta URLs: tried in order until one fetches; a 404 moves on */
	serve("delta-base.crl", "deltas/base-two.crl");
	before = served("delta-gone.crl");
	r = check_fresh("delta_revoked");
	CHECK_INTEQ(r.o.status, SIGIL__REV_REVOKED);
	CHECK_INTEQ(served("delta-gone.crl"), before + 1);
	/* ... but the first that fetches is the delta: a wrong one is not
	 * passed over for the next URL's good one */
	serve("delta-base.crl", "deltas/base-twobad.crl");
	serve("delta-bad.crl", "deltas/otherbase.crl");
	before = served("delta.crl");
	r = check_fresh("delta_revoked");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "delta-bad.crl");
	CHECK_CONTAINS(r.o.detail, "delta CRL indicator is greater than the base CRL number");
	CHECK_INTEQ(served("delta.crl"), before);
	/* the certificate names a delta (FreshestCRL) its base CRL does not
	 * offer */
	r = check_fresh("delta_certfresh");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "freshest CRL from certificate extension is not supported");
	serve("delta-base.crl", "deltas/base.crl");
	serve("delta-bad.crl", NULL);
}

static void test_delta_crl_cached(void)
{
	/* base and delta cached on disk: a restarted checker answers without
	 * the network, and with the delta's endpoint down */
	char cache[512];
	snprintf(cache, sizeof cache, "%s/cache-delta", dir);
	serve("delta-base.crl", "deltas/base.crl");
	serve("delta.crl", "deltas/ok.crl");
	sigil__revocation *rv = checker(cache, NULL, 0);
	run r = check(rv, "delta_revoked");
	CHECK_INTEQ(r.o.status, SIGIL__REV_REVOKED);
	sigil__revocation_free(rv);
	serve("delta.crl", NULL);
	rv = checker(cache, NULL, 0);
	r = check(rv, "delta_revoked");
	CHECK_INTEQ(r.o.status, SIGIL__REV_REVOKED);
	r = check(rv, "delta_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	sigil__rev_stats s;
	sigil__revocation_stats(rv, &s);
	CHECK_INTEQ(s.network_requests, 0);
	CHECK_INTEQ(s.disk_hits, 2);
	sigil__revocation_free(rv);
	/* a cached delta that is not a delta of the cached base (say, of a
	 * newer base than the one cached): passed over for the network, where
	 * there is none now: unknown, not that delta's answer */
	char name[65], url[256], path[1024], src[512];
	snprintf(src, sizeof src, "%s/deltas/otherbase.crl", dir);
	snprintf(url, sizeof url, "http://127.0.0.1:%d/delta.crl", http_port);
	cache_name(url, name);
	snprintf(path, sizeof path, "%s/crl/%s", cache, name);
	copy_file(src, path);
	rv = checker(cache, NULL, 0);
	r = check(rv, "delta_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_UNKNOWN);
	CHECK_CONTAINS(r.o.detail, "status code: 404");
	sigil__revocation_free(rv);
	serve("delta.crl", "deltas/ok.crl");
}

/* ---- background refresh of OCSP responses, back-off, bounds ----------------- */

static sigil_revocation_refresher *refresher(const char *cache)
{
	sigil_revocation_options ro = SIGIL_REVOCATION_OPTIONS_INIT;
	ro.cache_dir = cache;
	sigil_revocation_refresher *rr = NULL;
	sigil_error err = SIGIL_ERROR_INIT;
	if (sigil_revocation_refresher_new(&rr, &ro, &err) != SIGIL_STATUS_OK) {
		fprintf(stderr, "%s\n", err.message);
		exit(2);
	}
	return rr;
}

static sigil_revocation_refresh_report pass_at(sigil_revocation_refresher *rr, int64_t now,
	int64_t deadline_ms)
{
	sigil_revocation_refresh_report rep = SIGIL_REVOCATION_REFRESH_REPORT_INIT;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil_revocation_refresher_run(rr, now, 3600, deadline_ms, &rep, &err) == SIGIL_STATUS_OK);
	return rep;
}

/* the cache name of the OCSP request for leaf */
static void ocsp_name(const char *leaf, char out[65])
{
	X509 *c = load(leaf);
	uint8_t *req = NULL;
	size_t len = 0;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(sigil__ocsp_request(c, ca, &req, &len, &err) == SIGIL_STATUS_OK);
	sigil__rev_hex_sha256(req, len, out);
	free(req);
	X509_free(c);
}

/* an OCSP cache entry for leaf with its response from file and its source
 * record, as a pull would have left them */
static void stage_ocsp(const char *cache, const char *leaf, const char *file)
{
	char name[65], path[1024], src[512];
	ocsp_name(leaf, name);
	snprintf(path, sizeof path, "%s/ocsp", cache);
	mkdir(cache, 0700);
	mkdir(path, 0700);
	snprintf(path, sizeof path, "%s/ocsp/%s", cache, name);
	snprintf(src, sizeof src, "%s/%s", dir, file);
	copy_file(src, path);
	sigil__revocation *rv = checker(cache, NULL, 0);
	X509 *c = load(leaf);
	sigil__rev_source_write_ocsp(rv, name, c, ca);
	X509_free(c);
	sigil__revocation_free(rv);
}

static void test_refresh_ocsp(void)
{
	char cache[512], name[65], entry[1024], keep[1024];
	snprintf(cache, sizeof cache, "%s/cache-ocsp-refresh", dir);
	/* a pull asks the responder: the response and its source record (the
	 * certificate and its issuer) are cached */
	sigil__revocation *rv = checker(cache, NULL, 0);
	run r = check(rv, "ocsp_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	sigil__revocation_free(rv);
	ocsp_name("ocsp_good", name);
	snprintf(entry, sizeof entry, "%s/ocsp/%s.src", cache, name);
	size_t len = 0;
	unsigned char *rec = check_read_file(entry, &len);
	sigil__rev_source src;
	sigil_error err = SIGIL_ERROR_INIT;
	CHECK(rec && sigil__rev_source_parse(rec, len, name, &src, &err) == SIGIL_STATUS_OK);
	if (err.category == SIGIL_ERR_NONE) {
		X509 *good = load("ocsp_good");
		CHECK_INTEQ(src.kind, SIGIL__REV_KIND_OCSP);
		CHECK(X509_cmp(src.cert, good) == 0 && X509_cmp(src.issuer, ca) == 0);
		CHECK(src.url == NULL);
		X509_free(good);
		sigil__rev_source_clear(&src);
	}
	/* bound to its entry: not the record of another request */
	char other[65];
	ocsp_name("ocsp_revoked", other);
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__rev_source_parse(rec, len, other, &src, &err) == SIGIL_STATUS_ERROR);
	CHECK_INTEQ(err.category, SIGIL_ERR_MALFORMED);
	CHECK_CONTAINS(err.message, "certificate of another entry");
	free(rec);
	snprintf(entry, sizeof entry, "%s/ocsp/%s", cache, name);
	snprintf(keep, sizeof keep, "%s/ocsp-refresh-keep.der", dir);
	copy_file(entry, keep);

	int64_t t = (int64_t)time(NULL);
	sigil_revocation_refresher *rr = refresher(cache);
	/* fresh (-ndays 1): nothing to do */
	sigil_revocation_refresh_report rep = pass_at(rr, t, 0);
	CHECK_INTEQ(rep.ocsp_entries, 1);
	CHECK_INTEQ(rep.crl_entries, 0);
	CHECK_INTEQ(rep.due, 0);
	CHECK_INTEQ(rep.downloads, 0);
	/* ten minutes before its nextUpdate: asked again, and the responder's
	 * newer answer replaces it */
	usleep(1100000);
	int64_t soon = t + 86400 - 600;
	rep = pass_at(rr, soon, 0);
	CHECK_INTEQ(rep.due, 1);
	CHECK_INTEQ(rep.refreshed, 1);
	CHECK_INTEQ(rep.failed, 0);
	CHECK_INTEQ(rep.downloads, 1);
	CHECK(!files_equal(entry, keep));
	sigil_revocation_refresher_free(rr);
	/* a pull then finds it on disk, fresh, without the network */
	rv = checker(cache, NULL, 0);
	r = check_at(rv, "ocsp_good", soon + 300, 10000, 0);
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	CHECK(r.o.valid_until > soon + 300);
	sigil__rev_stats st;
	sigil__revocation_stats(rv, &st);
	CHECK_INTEQ(st.network_requests, 0);
	CHECK_INTEQ(st.disk_hits, 1);
	sigil__revocation_free(rv);
	/* the response kept before the refresh had expired by then */
	size_t klen = 0;
	unsigned char *old = check_read_file(keep, &klen);
	X509 *good = load("ocsp_good");
	sigil__rev_status rs = SIGIL__REV_UNKNOWN;
	int64_t nu = 0;
	err = (sigil_error)SIGIL_ERROR_INIT;
	CHECK(sigil__ocsp_response_check(old, klen, good, ca, t + 86400 + 60, 0, &rs, &nu, &err) ==
		SIGIL_STATUS_ERROR);
	CHECK_STREQ(err.message, "expired OCSP response");
	X509_free(good);
	free(old);
}

static void test_refresh_backoff(void)
{
	/* two cached responses whose only responder is down */
	char cache[512], name[65], entry[1024], keep[1024];
	snprintf(cache, sizeof cache, "%s/cache-backoff", dir);
	stage_ocsp(cache, "ocsp_down", "seed/ocsp-down.der");
	stage_ocsp(cache, "ocsp_down2", "ocsp-down2.der");
	ocsp_name("ocsp_down", name);
	snprintf(entry, sizeof entry, "%s/ocsp/%s", cache, name);
	snprintf(keep, sizeof keep, "%s/seed/ocsp-down.der", dir);
	int64_t t = (int64_t)time(NULL), due = t + 86400 - 600;
	sigil_revocation_refresher *rr = refresher(cache);
	/* one attempt for the responder, not one per certificate */
	sigil_revocation_refresh_report rep = pass_at(rr, due, 0);
	CHECK_INTEQ(rep.due, 2);
	CHECK_INTEQ(rep.downloads, 1);
	CHECK_INTEQ(rep.failed, 1);
	CHECK_INTEQ(rep.deferred, 1);
	CHECK_INTEQ(rep.refreshed, 0);
	CHECK(files_equal(entry, keep));
	/* the next passes leave it alone for a minute ... */
	rep = pass_at(rr, due + 30, 0);
	CHECK_INTEQ(rep.downloads, 0);
	CHECK_INTEQ(rep.deferred, 2);
	rep = pass_at(rr, due + 59, 0);
	CHECK_INTEQ(rep.downloads, 0);
	/* ... then try once more, and wait twice as long */
	rep = pass_at(rr, due + 61, 0);
	CHECK_INTEQ(rep.downloads, 1);
	CHECK_INTEQ(rep.failed, 1);
	rep = pass_at(rr, due + 61 + 119, 0);
	CHECK_INTEQ(rep.downloads, 0);
	CHECK_INTEQ(rep.deferred, 2);
	rep = pass_at(rr, due + 61 + 121, 0);
	CHECK_INTEQ(rep.downloads, 1);
	/* stale now, still unreachable: the entry stays as it was */
	rep = pass_at(rr, t + 2 * 86400, 0);
	CHECK_INTEQ(rep.downloads, 1);
	CHECK_INTEQ(rep.failed, 1);
	CHECK(files_equal(entry, keep));
	sigil_revocation_refresher_free(rr);

	/* a pass past its deadline starts no download; nor a cancelled one */
	rr = refresher(cache);
	rep = pass_at(rr, due, sigil__now_ms() - 1);
	CHECK_INTEQ(rep.due, 2);
	CHECK_INTEQ(rep.downloads, 0);
	CHECK_INTEQ(rep.deferred, 2);
	sigil_revocation_refresher_cancel(rr);
	rep = pass_at(rr, due, 0);
	CHECK_INTEQ(rep.downloads, 0);
	CHECK_INTEQ(rep.deferred, 2);
	sigil_revocation_refresher_free(rr);

	/* a certificate with a second responder: the one backing off is
	 * passed over, the next one asked (§6.3 order) */
	char cache2[512];
	snprintf(cache2, sizeof cache2, "%s/cache-next-responder", dir);
	sigil__revocation *rv = checker(cache2, NULL, 0);
	run r = check(rv, "ocsp_down_then_good");
	CHECK_INTEQ(r.o.status, SIGIL__REV_OK);
	sigil__revocation_free(rv);
	usleep(1100000);
	rr = refresher(cache2);
	t = (int64_t)time(NULL);
	due = t + 86400 - 600;
	rep = pass_at(rr, due, 0);
	CHECK_INTEQ(rep.downloads, 2);
	CHECK_INTEQ(rep.refreshed, 1);
	usleep(1100000);
	rep = pass_at(rr, due + 10, 0);
	CHECK_INTEQ(rep.downloads, 1);
	CHECK_INTEQ(rep.refreshed, 1);
	sigil_revocation_refresher_free(rr);
}

static void test_refresh_bounds(void)
{
	/* 65 cached CRLs, all due: one pass makes at most 64 downloads, the
	 * most urgent first; the CA has published nothing newer, so those
	 * wait a while and the next pass takes the one left */
	char cache[512], url[256], name[65], path[1024], src[512];
	snprintf(cache, sizeof cache, "%s/cache-bounds", dir);
	snprintf(path, sizeof path, "%s/crl", cache);
	mkdir(cache, 0700);
	mkdir(path, 0700);
	snprintf(src, sizeof src, "%s/www/good.crl", dir);
	sigil__revocation *rv = checker(cache, NULL, 0);
	for (int i = 0; i < 65; i++) {
		snprintf(url, sizeof url, "http://127.0.0.1:%d/good.crl?copy=%d", http_port, i);
		cache_name(url, name);
		snprintf(path, sizeof path, "%s/crl/%s", cache, name);
		copy_file(src, path);
		sigil__rev_source_write_crl(rv, name, url, ca);
	}
	sigil__revocation_free(rv);
	int64_t due = (int64_t)time(NULL) + 86400 - 600;
	int before = served("good.crl");
	sigil_revocation_refresher *rr = refresher(cache);
	sigil_revocation_refresh_report rep = pass_at(rr, due, 0);
	CHECK_INTEQ(rep.crl_entries, 65);
	CHECK_INTEQ(rep.due, 65);
	CHECK_INTEQ(rep.downloads, 64);
	CHECK_INTEQ(rep.unchanged, 64);
	CHECK_INTEQ(rep.deferred, 1);
	CHECK_INTEQ(served("good.crl"), before + 64);
	rep = pass_at(rr, due + 1, 0);
	CHECK_INTEQ(rep.downloads, 1);
	CHECK_INTEQ(rep.unchanged, 1);
	CHECK_INTEQ(rep.deferred, 64);
	/* five minutes later the CA is asked again */
	rep = pass_at(rr, due + 301, 0);
	CHECK_INTEQ(rep.downloads, 64);
	sigil_revocation_refresher_free(rr);
	CHECK_INTEQ(served("good.crl"), before + 129);
}

int main(void)
{
	setup();
	RUN(test_ocsp_request);
	RUN(test_ocsp_response_check);
	RUN(test_ocsp_good);
	RUN(test_ocsp_revoked);
	RUN(test_ocsp_unknown);
	RUN(test_ocsp_expired_response);
	RUN(test_ocsp_wrong_key);
	RUN(test_ocsp_down);
	RUN(test_ocsp_https_refused);
	RUN(test_ocsp_slow_beyond_deadline);
	RUN(test_ocsp_then_crl_not_needed);
	RUN(test_crl_good_and_revoked);
	RUN(test_crl_invalidity_date);
	RUN(test_crl_other_issuer);
	RUN(test_crl_oversized);
	RUN(test_crl_slow);
	RUN(test_crl_all_points_must_answer);
	RUN(test_crl_validate_rules);
	RUN(test_cache_disk_no_network);
	RUN(test_cache_endpoint_down);
	RUN(test_offline_seed);
	RUN(test_aggregation_and_chain);
	RUN(test_public_options);
	RUN(test_fetch_callback);
	RUN(test_refresh);
	RUN(test_delta_crl);
	RUN(test_delta_crl_cached);
	RUN(test_refresh_ocsp);
	RUN(test_refresh_backoff);
	RUN(test_refresh_bounds);
	teardown();
	return check_summary();
}
