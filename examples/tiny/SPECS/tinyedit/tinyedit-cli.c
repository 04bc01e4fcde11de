/* tinyedit-cli - the line editor of the tiny example distribution.
 *
 *   tinyedit-cli FILE     edit FILE with commands read from standard input:
 *
 *   p          print the buffer with line numbers
 *   a TEXT     append a line
 *   d N        delete line N
 *   w          write the buffer to FILE
 *   q          quit
 *   !COMMAND   run COMMAND with the tiny shell (/usr/bin/tinysh -c)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <tiny.h>

#ifndef TINYEDIT_SHELL
#define TINYEDIT_SHELL "/usr/bin/tinysh"
#endif

#define MAXLINES 1024

static char *lines[MAXLINES];
static int nlines;

static void load(const char *file)
{
	char buf[1024];
	FILE *f = fopen(file, "r");

	if (!f)
		return;
	while (nlines < MAXLINES && fgets(buf, sizeof buf, f)) {
		buf[strcspn(buf, "\n")] = '\0';
		lines[nlines++] = strdup(buf);
	}
	fclose(f);
}

static int save(const char *file)
{
	FILE *f = fopen(file, "w");
	int i;

	if (!f) {
		perror(file);
		return 1;
	}
	for (i = 0; i < nlines; i++)
		fprintf(f, "%s\n", lines[i]);
	return fclose(f) != 0;
}

static void shell(const char *cmd)
{
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		execl(TINYEDIT_SHELL, "tinysh", "-c", cmd, (char *)NULL);
		perror(TINYEDIT_SHELL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	char buf[1024];
	int i;

	if (argc != 2) {
		fputs("usage: tinyedit-cli FILE\n", stderr);
		return 2;
	}
	load(argv[1]);
	while (fgets(buf, sizeof buf, stdin)) {
		char *cmd = tiny_trim(buf);

		if (strcmp(cmd, "p") == 0) {
			for (i = 0; i < nlines; i++)
				printf("%4d  %s\n", i + 1, lines[i]);
		} else if (strncmp(cmd, "a ", 2) == 0 && nlines < MAXLINES) {
			lines[nlines++] = strdup(cmd + 2);
		} else if (strncmp(cmd, "d ", 2) == 0) {
			int n = atoi(cmd + 2);
			if (n >= 1 && n <= nlines) {
				free(lines[n - 1]);
				memmove(&lines[n - 1], &lines[n], (nlines - n) * sizeof lines[0]);
				nlines--;
			}
		} else if (strcmp(cmd, "w") == 0) {
			if (save(argv[1]))
				return 1;
		} else if (strcmp(cmd, "q") == 0) {
			break;
		} else if (cmd[0] == '!') {
			shell(cmd + 1);
		} else if (cmd[0]) {
			puts("?");
		}
	}
	return 0;
}
