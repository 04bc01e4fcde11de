/* tinylint - style and syntax checker for tiny-language (.tc) programs.
 *
 *   tinylint FILE...     check each FILE, report problems as FILE:LINE: msg
 *   tinylint --version
 *
 * Problems: unknown statements, "say" without text, trailing white space,
 * lines longer than 79 characters. Exit status 1 if any problem was found.
 */
#include <stdio.h>
#include <string.h>

static int problems;

static void report(const char *file, int line, const char *msg)
{
	printf("%s:%d: %s\n", file, line, msg);
	problems++;
}

static void lint(const char *file)
{
	char buf[1024];
	int lineno = 0;
	FILE *f = fopen(file, "r");

	if (!f) {
		perror(file);
		problems++;
		return;
	}
	while (fgets(buf, sizeof buf, f)) {
		size_t len;
		char *s = buf;

		lineno++;
		buf[strcspn(buf, "\n")] = '\0';
		len = strlen(buf);
		if (len > 79)
			report(file, lineno, "line longer than 79 characters");
		if (len > 0 && (buf[len - 1] == ' ' || buf[len - 1] == '\t'))
			report(file, lineno, "trailing white space");
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			continue;
		if (strcmp(s, "say") == 0 || strcmp(s, "say ") == 0)
			report(file, lineno, "say without text");
		else if (strncmp(s, "say ", 4) && strncmp(s, "run ", 4) &&
			 strncmp(s, "exit ", 5))
			report(file, lineno, "unknown statement");
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	int i;

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		puts("tinylint 1.0.0");
		return 0;
	}
	if (argc < 2) {
		fputs("usage: tinylint FILE...\n", stderr);
		return 2;
	}
	for (i = 1; i < argc; i++)
		lint(argv[i]);
	return problems ? 1 : 0;
}
