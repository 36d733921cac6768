/* cmd_verify.c - `sigil verify`: verify an artifact's signatures against
 * the trust policy, offline from an OCI image layout. Exit 0 verified,
 * 1 verification failed, 2 could not evaluate (usage, configuration,
 * unreadable layout). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sigil/sigil.h>
#include "commands.h"

#define DEFAULT_CONFIG_DIR "/etc/sigil"
#define DEFAULT_HOSTS_DIR "/etc/containerd/certs.d"

static void verify_usage(FILE *f)
{
	fprintf(f,
		"usage: sigil verify [options] REGISTRY/REPO@sha256:DIGEST | REGISTRY/REPO:TAG\n"
		"       sigil verify --oci-layout --scope REGISTRY/REPO [options] LAYOUT_DIR@sha256:DIGEST\n"
		"\n"
		"options:\n"
		"  --oci-layout           the artifact is in an OCI image layout directory\n"
		"  --scope REGISTRY/REPO  with --oci-layout: the repository the trust policy is matched against\n"
		"  --plain-http           talk to the registry over plain HTTP\n"
		"  --registry-config DIR  containerd's hosts.toml directory (default " DEFAULT_HOSTS_DIR ")\n"
		"  --docker-config FILE   docker config.json with registry credentials\n"
		"                         (default $DOCKER_CONFIG/config.json, ~/.docker/config.json)\n"
		"  --credential-provider-config FILE, --credential-provider-bin-dir DIR\n"
		"                         kubelet's image credential provider plugins\n"
		"  --timeout SECONDS      deadline for registry discovery (default 30)\n"
		"  --config-dir DIR       trust policy and trust store (default " DEFAULT_CONFIG_DIR ");\n"
		"                         notation's layout: trustpolicy[.oci].json, truststore/x509/...\n"
		"  --user-metadata K=V    require this pair in the signature (repeatable)\n"
		"  --max-signatures N     examine at most N signatures (default 100)\n"
		"  --output text|json     output format (default text)\n"
		"  --revocation-cache DIR keep downloaded CRLs and OCSP responses in DIR (default: memory only)\n"
		"  --revocation-seed DIR  pre-staged CRLs and OCSP responses for offline revocation checks\n"
		"  --revocation-https     also fetch https OCSP/CRL URLs (the specification: http only)\n");
}

__attribute__((format(printf, 1, 2)))
static int unusable(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "sigil verify: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	return EXIT_UNUSABLE;
}

static void print_text(const sigil_result *r, const sigil_verifier *v)
{
	int pass = sigil_result_verdict(r) == SIGIL_VERDICT_PASS;
	/* First line: the verdict and the reason, for people and scripts. */
	printf("%s: %s\n", pass ? "PASS" : "FAIL", sigil_result_reason(r));
	if (sigil_result_policy_name(r)[0])
		printf("  trust policy: %s (level %s)\n", sigil_result_policy_name(r),
			sigil_level_name(sigil_result_level(r)));
	for (size_t i = 0; i < sigil_result_signature_count(r); i++) {
		const sigil_signature_result *sr = sigil_result_signature_get(r, i);
		printf("  signature %s (%s): %s\n", sigil_signature_result_digest(sr),
			sigil_signature_result_media_type(sr),
			sigil_signature_result_verdict(sr) == SIGIL_VERDICT_PASS ? "verified" : "failed");
		if (sigil_signature_result_signer(sr)[0])
			printf("    signer: %s\n", sigil_signature_result_signer(sr));
		for (int c = 0; c < SIGIL_CHECK__COUNT; c++) {
			sigil_outcome o = sigil_signature_result_outcome(sr, (sigil_check)c);
			if (o != SIGIL_OUTCOME_FAIL)
				continue;
			sigil_action a = sigil_signature_result_action(sr, (sigil_check)c);
			if (a == SIGIL_ACTION_LOG)
				printf("    Warning: %s was set to \"log\" and failed with error: %s\n",
					sigil_check_name((sigil_check)c),
					sigil_signature_result_message(sr, (sigil_check)c));
			else
				printf("    %s failed: %s\n", sigil_check_name((sigil_check)c),
					sigil_signature_result_message(sr, (sigil_check)c));
		}
	}
	for (size_t i = 0; i < sigil_verifier_warning_count(v); i++)
		printf("  warning: %s\n", sigil_verifier_warning_get(v, i));
}

/* With --output json, a command that cannot evaluate still prints a JSON
 * document, so scripts need only one parser. */
static void print_error_json(const char *stage, const sigil_error *err)
{
	printf("{\n  \"verdict\": \"error\",\n  \"stage\": \"%s\",\n  \"category\": \"%s\",\n  \"message\": \"",
		stage, sigil_category_name(err->category));
	for (const char *p = err->message; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	printf("\"\n}\n");
}

static int parse_size(const char *s, size_t *out)
{
	char *end = NULL;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	if (errno || !end || *end || s[0] == '-' || s[0] == '\0' || n == 0 || n > 10000)
		return -1;
	*out = (size_t)n;
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "oci-layout", no_argument, NULL, 'l' },
		{ "scope", required_argument, NULL, 's' },
		{ "config-dir", required_argument, NULL, 'c' },
		{ "user-metadata", required_argument, NULL, 'm' },
		{ "max-signatures", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "plain-http", no_argument, NULL, 'P' },
		{ "registry-config", required_argument, NULL, 'R' },
		{ "docker-config", required_argument, NULL, 'D' },
		{ "credential-provider-config", required_argument, NULL, 'K' },
		{ "credential-provider-bin-dir", required_argument, NULL, 'B' },
		{ "timeout", required_argument, NULL, 't' },
		{ "revocation-cache", required_argument, NULL, 'C' },
		{ "revocation-seed", required_argument, NULL, 'S' },
		{ "revocation-https", no_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int oci_layout = 0, json = 0;
	const char *scope = NULL, *config_dir = DEFAULT_CONFIG_DIR;
	size_t max_signatures = 0;
	const char *um_keys[256], *um_values[256];
	char *um_storage[256];
	size_t um_count = 0;
	int opt, rc = EXIT_UNUSABLE;
	sigil_verifier *verifier = NULL;
	sigil_source *source = NULL;
	sigil_result *result = NULL;
	sigil_registry *registry = NULL;
	sigil_reference *ref = NULL;
	char *layout = NULL;
	sigil_registry_options ropts = SIGIL_REGISTRY_OPTIONS_INIT;
	const char *hosts_dir = NULL;
	size_t timeout_s = 30;
	sigil_revocation_options rev = SIGIL_REVOCATION_OPTIONS_INIT;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'l': oci_layout = 1; break;
		case 's': scope = optarg; break;
		case 'c': config_dir = optarg; break;
		case 'm': {
			const char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg) {
				rc = unusable("--user-metadata \"%s\" is not of the form KEY=VALUE", optarg);
				goto out;
			}
			if (um_count == 256) {
				rc = unusable("%s", "too many --user-metadata pairs (at most 256)");
				goto out;
			}
			char *copy = strdup(optarg);
			if (!copy)
				goto out;
			copy[eq - optarg] = '\0';
			um_storage[um_count] = copy;
			um_keys[um_count] = copy;
			um_values[um_count] = copy + (eq - optarg) + 1;
			um_count++;
			break;
		}
		case 'n':
			if (parse_size(optarg, &max_signatures) != 0) {
				rc = unusable("--max-signatures must be a number from 1 to 10000, not \"%s\"", optarg);
				goto out;
			}
			break;
		case 'o':
			if (strcmp(optarg, "json") == 0)
				json = 1;
			else if (strcmp(optarg, "text") == 0)
				json = 0;
			else {
				rc = unusable("--output must be text or json, not \"%s\"", optarg);
				goto out;
			}
			break;
		case 'P': ropts.plain_http = 1; break;
		case 'R': hosts_dir = optarg; break;
		case 'D': ropts.docker_config = optarg; break;
		case 'K': ropts.credential_provider_config = optarg; break;
		case 'B': ropts.credential_provider_bin_dir = optarg; break;
		case 't':
			if (parse_size(optarg, &timeout_s) != 0 || timeout_s > 600) {
				rc = unusable("--timeout must be a number of seconds from 1 to 600, not \"%s\"", optarg);
				goto out;
			}
			break;
		case 'C': rev.cache_dir = optarg; break;
		case 'S': rev.seed_dir = optarg; break;
		case 'H': rev.allow_https = 1; break;
		case 'h':
			verify_usage(stdout);
			rc = 0;
			goto out;
		default:
			verify_usage(stderr);
			goto out;
		}
	}
	if (optind != argc - 1) {
		verify_usage(stderr);
		rc = unusable("%s", "expected exactly one artifact: LAYOUT_DIR@sha256:DIGEST");
		goto out;
	}
	sigil_error err = SIGIL_ERROR_INIT;
	const char *arg = argv[optind];
	const char *digest = NULL;
	char resolved[SIGIL_DIGEST_MAX];
	if (oci_layout) {
		if (!scope) {
			rc = unusable("%s", "--scope REGISTRY/REPO is required with --oci-layout (as in notation)");
			goto out;
		}
		const char *at = strrchr(arg, '@');
		if (!at || at == arg) {
			rc = unusable("artifact \"%s\" must be LAYOUT_DIR@sha256:DIGEST", arg);
			goto out;
		}
		layout = strndup(arg, (size_t)(at - arg));
		if (!layout)
			goto out;
		digest = at + 1;
	} else {
		if (scope) {
			rc = unusable("%s", "--scope is only for --oci-layout: a registry reference is matched "
				"against the trust policy by its own repository");
			goto out;
		}
		if (sigil_reference_parse(&ref, arg, 0, &err) != SIGIL_STATUS_OK) {
			rc = unusable("invalid reference \"%s\": %s", arg, err.message);
			goto out;
		}
		if (!sigil_reference_digest(ref)[0] && !sigil_reference_tag(ref)[0]) {
			rc = unusable("reference \"%s\" is missing digest or tag", arg);
			goto out;
		}
		scope = sigil_reference_repository(ref);
		/* the default hosts.toml directory is used only if it exists, as
		 * on a node without config_path */
		if (hosts_dir)
			ropts.hosts_dir = hosts_dir;
		else if (access(DEFAULT_HOSTS_DIR, F_OK) == 0)
			ropts.hosts_dir = DEFAULT_HOSTS_DIR;
		if (sigil_registry_new(&registry, &ropts, &err) != SIGIL_STATUS_OK) {
			fprintf(stderr, "sigil verify: cannot set up registry access: %s\n", err.message);
			if (json)
				print_error_json("registry", &err);
			goto out;
		}
	}

	if (sigil_verifier_new(&verifier, config_dir, &err) != SIGIL_STATUS_OK) {
		fprintf(stderr, "sigil verify: cannot use the configuration in %s: %s\n", config_dir,
			err.message);
		if (json)
			print_error_json("configuration", &err);
		rc = EXIT_UNUSABLE;
		goto out;
	}
	if ((rev.cache_dir || rev.seed_dir) &&
	    sigil_verifier_set_revocation(verifier, &rev, &err) != SIGIL_STATUS_OK) {
		fprintf(stderr, "sigil verify: cannot configure revocation checking: %s\n", err.message);
		if (json)
			print_error_json("configuration", &err);
		rc = EXIT_UNUSABLE;
		goto out;
	}
	if (oci_layout) {
		if (sigil_source_oci_layout_open(&source, layout, &err) != SIGIL_STATUS_OK) {
			fprintf(stderr, "sigil verify: cannot read the OCI layout %s: %s\n", layout, err.message);
			if (json)
				print_error_json("layout", &err);
			rc = EXIT_UNUSABLE;
			goto out;
		}
	} else {
		int64_t deadline = sigil_registry_now_ms() + (int64_t)timeout_s * 1000;
		digest = sigil_reference_digest(ref);
		if (!digest[0]) {
			/* a tag is resolved once, here, and the digest is what gets
			 * verified (as notation does, with its warning) */
			sigil_descriptor d;
			if (sigil_registry_resolve_tag(registry, ref, deadline, &d, &err) != SIGIL_STATUS_OK) {
				fprintf(stderr, "sigil verify: cannot resolve %s: %s\n", arg, err.message);
				if (json)
					print_error_json("resolve", &err);
				rc = EXIT_FAILED;
				goto out;
			}
			snprintf(resolved, sizeof resolved, "%s", d.digest);
			digest = resolved;
			fprintf(stderr, "Warning: Always verify the artifact using digest(@%s) rather than a "
				"tag(:%s) because resolved digest may not point to the same signed artifact, as "
				"tags are mutable.\nResolved artifact tag `%s` to digest `%s` before verification.\n",
				digest, sigil_reference_tag(ref), sigil_reference_tag(ref), digest);
		}
		if (sigil_registry_source(registry, ref, deadline, &source, &err) != SIGIL_STATUS_OK) {
			fprintf(stderr, "sigil verify: %s\n", err.message);
			if (json)
				print_error_json("registry", &err);
			rc = EXIT_UNUSABLE;
			goto out;
		}
	}
	sigil_verify_options opts = SIGIL_VERIFY_OPTIONS_INIT;
	opts.scope = scope;
	opts.digest = digest;
	opts.max_signatures = max_signatures;
	opts.user_metadata_keys = um_keys;
	opts.user_metadata_values = um_values;
	opts.user_metadata_count = um_count;
	if (sigil_verify(verifier, source, &opts, &result, &err) != SIGIL_STATUS_OK) {
		fprintf(stderr, "sigil verify: %s (%s)\n", err.message, sigil_category_name(err.category));
		rc = EXIT_UNUSABLE;
		goto out;
	}
	if (json) {
		char *text = NULL;
		if (sigil_result_to_json(result, &text, &err) != SIGIL_STATUS_OK) {
			fprintf(stderr, "sigil verify: %s\n", err.message);
			rc = EXIT_UNUSABLE;
			goto out;
		}
		printf("%s\n", text);
		free(text);
	} else {
		print_text(result, verifier);
	}
	rc = sigil_result_verdict(result) == SIGIL_VERDICT_PASS ? EXIT_VERIFIED : EXIT_FAILED;
out:
	for (size_t i = 0; i < um_count; i++)
		free(um_storage[i]);
	free(layout);
	sigil_result_free(result);
	sigil_source_free(source);
	sigil_registry_free(registry);
	sigil_reference_free(ref);
	sigil_verifier_free(verifier);
	return rc;
}
