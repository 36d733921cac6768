/* cmd_doctor.c - `sigil doctor`: read containerd's configuration as
 * containerd 2.1 does and report every setting that makes it skip image
 * verifiers (or fail every pull), each with the exact fix. Exit 0 no
 * problem (warnings allowed), 1 at least one problem, 2 usage error or a
 * configuration containerd could not load either. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "containerd_config.h"
#include "doctor_containerd.h"
#include "doctor_findings.h"
#include "doctor_probe.h"
#include "forwarder_args.h"
#include "status_rpc.h"

#define DEFAULT_CONTAINERD_CONFIG "/etc/containerd/config.toml"
#ifndef SIGIL_VERIFIER_DIR
#define SIGIL_VERIFIER_DIR "/usr/libexec/sigil/verifier-bin"
#endif

static void doctor_usage(FILE *f)
{
	fprintf(f,
		"usage: sigil doctor [--config FILE] [--containerd PATH] [--socket PATH] [--output text|json]\n"
		"\n"
		"Finds the containerd settings that make it skip image verifiers (and so sigil),\n"
		"or fail every pull, and prints the fix for each.\n"
		"\n"
		"  --config FILE       containerd's configuration (default " DEFAULT_CONTAINERD_CONFIG "),\n"
		"                      read with its imports as containerd 2.1 reads it\n"
		"  --containerd PATH   the containerd binary, for its version (default: containerd in PATH)\n"
		"  --socket PATH       sigild's socket (default $SIGIL_SOCKET, else " SIGIL_FORWARDER_DEFAULT_SOCKET ")\n"
		"  --output text|json  output format (default text)\n"
		"\n"
		"SIGIL_VERIFIER_TIMEOUT_MS, as containerd's environment has it (default 8000),\n"
		"is what per_verifier_timeout must exceed.\n"
		"\n"
		"Exit status: 0 no problem (warnings allowed), 1 at least one problem,\n"
		"2 usage error or a configuration that cannot be read.\n");
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "containerd", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = DEFAULT_CONTAINERD_CONFIG, *containerd = NULL, *sock = NULL;
	int json = 0, opt;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': config = optarg; break;
		case 'd': containerd = optarg; break;
		case 's': sock = optarg; break;
		case 'o':
			if (strcmp(optarg, "json") == 0)
				json = 1;
			else if (strcmp(optarg, "text") != 0) {
				fprintf(stderr, "sigil doctor: --output must be text or json\n");
				return EXIT_UNUSABLE;
			}
			break;
		case 'h':
			doctor_usage(stdout);
			return 0;
		default:
			doctor_usage(stderr);
			return EXIT_UNUSABLE;
		}
	}
	if (optind != argc || !config[0] || (containerd && !containerd[0]) || (sock && !sock[0])) {
		doctor_usage(stderr);
		return EXIT_UNUSABLE;
	}
	sock = sigil__sigild_socket(sock);

	/* sigil-verifier's own deadline, read as it reads it: like SIGIL_SOCKET,
	 * the doctor's environment stands for containerd's */
	char reason[SIGIL_FORWARDER_REASON_SIZE], source[128];
	const char *tmo = secure_getenv("SIGIL_VERIFIER_TIMEOUT_MS");
	sigil_forwarder_env fenv;
	if (sigil_forwarder_parse_env(NULL, tmo, NULL, &fenv, reason, sizeof reason) != 0) {
		fprintf(stderr, "sigil doctor: %s\n", reason);
		return EXIT_UNUSABLE;
	}
	if (tmo && tmo[0])
		snprintf(source, sizeof source, "SIGIL_VERIFIER_TIMEOUT_MS in this environment");
	else
		snprintf(source, sizeof source, "its default");

	/* containerd's version first: how it migrates the files' versions
	 * differs from 2.3 on (containerd_config.c merge_version) */
	char version[128], why[1024], about[1024];
	const char *exe = containerd ? containerd : "containerd";
	int have_version = sigil__doctor_containerd_version(containerd, version, sizeof version, why,
		sizeof why) == 0;
	const char *known = have_version ? version : NULL;

	sigil_error err = SIGIL_ERROR_INIT;
	sigil__ctd_config *cfg = NULL;
	if (sigil__ctd_config_load(config, known, &cfg, &err) != SIGIL_STATUS_OK) {
		fprintf(stderr, "sigil doctor: cannot evaluate containerd's configuration (containerd would not "
			"start with it either): %s\n", err.message);
		return EXIT_UNUSABLE;
	}

	sigil__doctor_findings f;
	memset(&f, 0, sizeof f);
	int answered = sigil__doctor_sigild_status(sock, about, sizeof about) == 0;
	int rc = EXIT_UNUSABLE;
	if (sigil__doctor_check_version(exe, known, why, &f, &err) != SIGIL_STATUS_OK ||
			sigil__doctor_check_disabled(cfg, known, &f, &err) != SIGIL_STATUS_OK ||
			sigil__doctor_check_cri(cfg, &f, &err) != SIGIL_STATUS_OK ||
			sigil__doctor_check_bindir(cfg, SIGIL_VERIFIER_DIR, &f, &err) != SIGIL_STATUS_OK ||
			sigil__doctor_check_timeout(cfg, fenv.timeout_ms, source, &f, &err) != SIGIL_STATUS_OK ||
			sigil__doctor_check_dropin(cfg, SIGIL_VERIFIER_DIR, &f, &err) != SIGIL_STATUS_OK ||
			sigil__doctor_check_dropin_version(cfg, known, &f, &err) != SIGIL_STATUS_OK ||
			sigil__doctor_check_sigild(sock, answered, about, &f, &err) != SIGIL_STATUS_OK) {
		fprintf(stderr, "sigil doctor: %s\n", err.message);
		goto out;
	}
	if (json) {
		if (sigil__doctor_print_json(stdout, &f, &err) != SIGIL_STATUS_OK) {
			fprintf(stderr, "sigil doctor: %s\n", err.message);
			goto out;
		}
	} else {
		sigil__doctor_print_text(stdout, &f);
	}
	rc = sigil__doctor_exit_status(&f);
out:
	sigil__doctor_findings_clear(&f);
	sigil__ctd_config_free(cfg);
	return rc;
}
