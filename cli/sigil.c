/* sigil.c - the operator's command: dispatch to one verb per file. */
#include <stdio.h>
#include <string.h>
#include <sigil/sigil.h>
#include "commands.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sigil <command> [options]\n"
		"\n"
		"commands:\n"
		"  verify     verify the Notary Project signatures of an artifact\n"
		"  status     ask sigild for its configuration, mode and counters\n"
		"  doctor     find containerd settings that make it skip image verifiers\n"
		"  version    print the version\n"
		"\n"
		"Run 'sigil <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_UNUSABLE;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "verify") == 0)
		return cmd_verify(argc - 1, argv + 1);
	if (strcmp(cmd, "status") == 0)
		return cmd_status(argc - 1, argv + 1);
	if (strcmp(cmd, "doctor") == 0)
		return cmd_doctor(argc - 1, argv + 1);
	if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
		printf("sigil %s\n", sigil_version());
		return 0;
	}
	if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "sigil: unknown command \"%s\"\n", cmd);
	usage(stderr);
	return EXIT_UNUSABLE;
}
