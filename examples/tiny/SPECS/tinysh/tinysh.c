/* tinysh - the small command shell of the tiny example distribution.
 *
 *   tinysh                 read commands from standard input
 *   tinysh SCRIPT          read commands from SCRIPT
 *   tinysh -c 'COMMAND'    run one command
 *
 * A command is a line of words separated by white space; '#' starts a
 * comment. Built-ins: cd DIR, exit [N], version. Everything else is run
 * with execvp(). There are no pipes, quotes or variables: it is tiny.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tiny.h>

#define MAXARGS 64

static int status;

static int run(char *line)
{
	char *argv[MAXARGS];
	char *hash = strchr(line, '#');
	pid_t pid;
	int argc, ws;

	if (hash)
		*hash = '\0';
	argc = tiny_split(tiny_trim(line), argv, MAXARGS);
	if (argc == 0)
		return status;

	if (strcmp(argv[0], "exit") == 0)
		exit(argc > 1 ? atoi(argv[1]) : status);
	if (strcmp(argv[0], "version") == 0) {
		printf("tinysh 1.0.0 (libtiny %s)\n", tiny_version());
		return 0;
	}
	if (strcmp(argv[0], "cd") == 0) {
		const char *dir = argc > 1 ? argv[1] : getenv("HOME");
		if (!dir || chdir(dir) != 0) {
			fprintf(stderr, "tinysh: cd: %s\n", strerror(errno));
			return 1;
		}
		return 0;
	}

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("tinysh: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "tinysh: %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (waitpid(pid, &ws, 0) < 0)
		return 1;
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

int main(int argc, char **argv)
{
	char line[4096];
	FILE *in = stdin;
	int interactive;

	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		char *cmd = strdup(argv[2]);
		return cmd ? run(cmd) : 1;
	}
	if (argc > 1 && (in = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "tinysh: %s: %s\n", argv[1], strerror(errno));
		return 127;
	}
	interactive = in == stdin && isatty(0);
	for (;;) {
		if (interactive) {
			fputs("tinysh$ ", stdout);
			fflush(stdout);
		}
		if (!fgets(line, sizeof line, in))
			break;
		status = run(line);
	}
	return status;
}
