/* sigil-verifier - the executable containerd runs from its image-verifier
 * bin_dir on every pull (containerd.md §1):
 *
 *   sigil-verifier -name <ref> -digest <digest> \
 *       -stdin-media-type application/vnd.oci.descriptor.v1+json
 *
 * with the descriptor JSON on stdin. It asks sigild (Verify over gRPC on a
 * unix socket) and prints one line, the reason containerd shows the user;
 * exit 0 allows the pull, 1 denies it. It fails closed: bad input, sigild
 * unreachable after the connect retry window, the deadline passed or any
 * unexpected answer deny, with a reason that names the cause.
 *
 * Environment: SIGIL_SOCKET (default /run/sigil/sigild.sock),
 * SIGIL_VERIFIER_TIMEOUT_MS (default 8000, below containerd's 10 s
 * per_verifier_timeout), SIGIL_VERIFIER_CONNECT_RETRY_MS (default 2000).
 * Nothing else: no HOME, no configuration files (containerd.md §1.10). */
#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bounds.h"
#include "forwarder_args.h"
#include "grpc_client.h"
#include "inline_fallback.h"
#include "sigil/v1/verifier.pb-c.h"

#define EXIT_ALLOW 0
#define EXIT_DENY 1

/* containerd runs verifiers as root with every capability (containerd.md
 * §1.10); connecting to sigild's root-owned socket needs none of them. */
static void drop_privileges(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof data);
	(void)syscall(SYS_capset, &hdr, data);
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static int emit(int code, const char *name, const char *digest, const char *reason)
{
	char line[SIGIL_MAX_FORWARDER_LINE + 1];
	size_t n = sigil_forwarder_format_line(line, SIGIL_MAX_FORWARDER_LINE,
		code == EXIT_ALLOW ? "allowed" : "denied", name, digest, reason);
	line[n++] = '\n';
	const char *p = line;
	while (n > 0) {
		ssize_t w = write(STDOUT_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return EXIT_DENY; /* nobody to tell; still fail closed */
		p += w;
		n -= (size_t)w;
	}
	return code;
}

static int verdict(const uint8_t *msg, size_t len, const sigil_forwarder_args *a)
{
	Sigil__V1__VerifyResponse *resp = sigil__v1__verify_response__unpack(NULL, len, msg);
	if (!resp)
		return emit(EXIT_DENY, a->name, a->digest, "sigild sent an answer that is not a VerifyResponse");
	char reason[SIGIL_MAX_FORWARDER_LINE];
	const char *why = resp->reason ? resp->reason : "";
	int code;
	switch (resp->verdict) {
	case SIGIL__V1__VERDICT__VERDICT_ALLOW:
		code = EXIT_ALLOW;
		snprintf(reason, sizeof reason, "%s%s%s",
			resp->dry_run_override ? "dry-run, the policy denies: " :
			resp->allow_listed ? "break-glass allow-list: " : "",
			why, resp->cached ? " (cached)" : "");
		break;
	case SIGIL__V1__VERDICT__VERDICT_DENY:
		code = EXIT_DENY;
		snprintf(reason, sizeof reason, "%s", *why ? why : "sigild gave no reason");
		break;
	default:
		code = EXIT_DENY;
		snprintf(reason, sizeof reason, "sigild returned no verdict (%d)", (int)resp->verdict);
		break;
	}
	sigil__v1__verify_response__free_unpacked(resp, NULL);
	return emit(code, a->name, a->digest, reason);
}

int main(int argc, char **argv)
{
	int64_t start = sigil_forwarder_now_ms();
	drop_privileges();
	/* containerd may close our stdout early: a write error, not a signal */
	signal(SIGPIPE, SIG_IGN);

	char reason[SIGIL_FORWARDER_REASON_SIZE];
	sigil_forwarder_args a;
	if (sigil_forwarder_parse_args(argc, argv, &a, reason, sizeof reason) != 0)
		return emit(EXIT_DENY, NULL, NULL, reason);

	sigil_forwarder_env env;
	if (sigil_forwarder_parse_env(secure_getenv("SIGIL_SOCKET"),
			secure_getenv("SIGIL_VERIFIER_TIMEOUT_MS"),
			secure_getenv("SIGIL_VERIFIER_CONNECT_RETRY_MS"), &env, reason, sizeof reason) != 0)
		return emit(EXIT_DENY, a.name, a.digest, reason);
	int64_t deadline = start + env.timeout_ms;

	static uint8_t input[SIGIL_MAX_FORWARDER_STDIN + 1];
	size_t input_len;
	sigil_forwarder_descriptor desc;
	if (sigil_forwarder_read_input(STDIN_FILENO, deadline, input, sizeof input, &input_len,
			reason, sizeof reason) != 0 ||
	    sigil_forwarder_parse_descriptor(input, input_len, a.digest, &desc, reason,
			sizeof reason) != 0)
		return emit(EXIT_DENY, a.name, a.digest, reason);

	Sigil__V1__Descriptor pd = SIGIL__V1__DESCRIPTOR__INIT;
	pd.media_type = desc.media_type;
	pd.digest = desc.digest;
	pd.size = desc.size;
	Sigil__V1__VerifyRequest req = SIGIL__V1__VERIFY_REQUEST__INIT;
	req.image_name = (char *)a.name;
	req.digest = (char *)a.digest;
	req.descriptor = &pd;
	/* name <= 1 KiB, digest <= 135 B, descriptor <= 400 B: a few KiB at most */
	uint8_t packed[4096];
	size_t packed_len = sigil__v1__verify_request__get_packed_size(&req);
	if (packed_len > sizeof packed)
		return emit(EXIT_DENY, a.name, a.digest, "internal error: request too large");
	sigil__v1__verify_request__pack(&req, packed);

	sigil_grpc_call call = {
		.socket_path = env.socket,
		.method = "/sigil.v1.Verifier/Verify",
		.request = packed,
		.request_len = packed_len,
		.deadline_ms = deadline,
		.timeout_ms = env.timeout_ms,
		.connect_retry_until_ms = start + env.connect_retry_ms,
		.max_response = SIGIL_MAX_FORWARDER_RESPONSE,
	};
	sigil_grpc_result res;
	char why[SIGIL_FORWARDER_REASON_SIZE];
	if (sigil_grpc_unary(&call, &res, why, sizeof why) != 0) {
		/* the optional inline mode (off unless configured): only when
		 * sigild is not there at all, never on the normal path */
		const char *cli = secure_getenv("SIGIL_VERIFIER_INLINE");
		if (res.unreachable && cli && cli[0] == '/') {
			const char *cfg = secure_getenv("SIGIL_VERIFIER_INLINE_CONFIG_DIR");
			char got[SIGIL_FORWARDER_REASON_SIZE];
			int rc = sigil_forwarder_inline(cli, cfg && cfg[0] ? cfg : "/etc/sigil", a.name,
				a.digest, deadline, got, sizeof got);
			snprintf(reason, sizeof reason, "%s; verified inline by %s: %s", why, cli, got);
			return emit(rc == 0 ? EXIT_ALLOW : EXIT_DENY, a.name, a.digest, reason);
		}
		return emit(EXIT_DENY, a.name, a.digest, why);
	}
	if (res.status != 0) {
		snprintf(reason, sizeof reason, "sigild at %s failed: %s%s%s", env.socket,
			sigil_grpc_status_name(res.status), res.message[0] ? ": " : "", res.message);
		return emit(EXIT_DENY, a.name, a.digest, reason);
	}
	int code = verdict(res.response, res.response_len, &a);
	free(res.response);
	return code;
}
