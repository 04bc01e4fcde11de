/* tinyzsh - the "zero-frills" shell of the tiny example distribution.
 *
 * An alternative to tinysh that does not need libtiny: it runs one command
 * per line (from a file, from standard input, or from -c), splitting words
 * on blanks, and knows the built-ins "exit" and "cd".
 *
 * It is only supported on 64-bit x86 and Arm (see ExclusiveArch in the spec).
 */
#if !defined(__x86_64__) && !defined(__aarch64__)
#error "tinyzsh supports only x86_64 and aarch64"
#endif

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int run(char *line)
{
	char *argv[64];
	int argc = 0, ws;
	char *tok;
	pid_t pid;

	line[strcspn(line, "#\n")] = '\0';
	for (tok = strtok(line, " \t"); tok && argc < 63; tok = strtok(NULL, " \t"))
		argv[argc++] = tok;
	argv[argc] = NULL;
	if (argc == 0)
		return 0;
	if (strcmp(argv[0], "exit") == 0)
		exit(argc > 1 ? atoi(argv[1]) : 0);
	if (strcmp(argv[0], "cd") == 0)
		return chdir(argc > 1 ? argv[1] : "/") == 0 ? 0 : 1;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "tinyzsh: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &ws, 0) < 0)
		return 1;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

int main(int argc, char **argv)
{
	char line[4096];
	FILE *in = stdin;
	int status = 0;

	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		snprintf(line, sizeof line, "%s", argv[2]);
		return run(line);
	}
	if (argc > 1 && !(in = fopen(argv[1], "r"))) {
		perror(argv[1]);
		return 127;
	}
	while (fgets(line, sizeof line, in))
		status = run(line);
	return status;
}
