/* commands.h - the sigil CLI's verbs, one file each. */
#ifndef SIGIL_CLI_COMMANDS_H
#define SIGIL_CLI_COMMANDS_H

/* Exit statuses shared by every verb (as notation: 0 verified, 1 failed),
 * plus 2 when the command could not evaluate at all. */
enum {
	EXIT_VERIFIED = 0,
	EXIT_FAILED = 1,
	EXIT_UNUSABLE = 2,
};

int cmd_verify(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

#endif
