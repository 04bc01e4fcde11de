/* tinyc1 - the compiler proper of tinyc.
 *
 * Translates a program in the tiny language (a .tc file, or standard input)
 * into a POSIX shell script on standard output. The language:
 *
 *   # comment        copied as a shell comment
 *   say TEXT         print TEXT and a newline
 *   run COMMAND      run COMMAND (passed to the shell verbatim)
 *   exit N           stop with status N
 *
 * Every compiled program starts with the run-time prelude (shell functions).
 * It is read from $TINYC_PRELUDE, else from PRELUDE_PATH (the tinyc-runtime
 * package). A bootstrap build (-DTINYC_BUILTIN_PRELUDE) carries a minimal
 * prelude inside the binary and needs no runtime package.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef PRELUDE_PATH
#define PRELUDE_PATH "/usr/share/tinyc/prelude.sh"
#endif

static void emit_prelude(void)
{
#ifdef TINYC_BUILTIN_PRELUDE
	if (!getenv("TINYC_PRELUDE")) {
		fputs("# tinyc built-in prelude (bootstrap compiler)\n"
		      "tc_say() { printf '%s\\n' \"$*\"; }\n", stdout);
		return;
	}
#endif
	const char *path = getenv("TINYC_PRELUDE");
	char buf[4096];
	size_t n;
	FILE *f;

	if (!path)
		path = PRELUDE_PATH;
	if (!(f = fopen(path, "r"))) {
		perror(path);
		exit(2);
	}
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		fwrite(buf, 1, n, stdout);
	fclose(f);
}

/* Print s as one single-quoted shell word. */
static void quote(const char *s)
{
	putchar('\'');
	for (; *s; s++) {
		if (*s == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*s);
	}
	putchar('\'');
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : "<stdin>";
	FILE *in = stdin;
	char line[1024];
	int lineno = 0;

	if (argc > 1 && !(in = fopen(argv[1], "r"))) {
		perror(argv[1]);
		return 2;
	}
	puts("#!/bin/sh");
	emit_prelude();
	while (fgets(line, sizeof line, in)) {
		char *s = line;

		lineno++;
		s[strcspn(s, "\n")] = '\0';
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			puts(s);
		else if (strncmp(s, "say ", 4) == 0) {
			fputs("tc_say ", stdout);
			quote(s + 4);
			putchar('\n');
		} else if (strncmp(s, "run ", 4) == 0)
			puts(s + 4);
		else if (strncmp(s, "exit ", 5) == 0)
			printf("exit %d\n", atoi(s + 5));
		else {
			fprintf(stderr, "%s:%d: unknown statement: %s\n", name, lineno, s);
			return 1;
		}
	}
	return 0;
}
