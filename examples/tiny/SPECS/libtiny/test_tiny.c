/* test_tiny.c - unit tests of libtiny, run by %check. */
#include <stdio.h>
#include <string.h>
#include "tiny.h"

static int failures;

static void expect(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "FAIL: %s\n", what);
		failures++;
	}
}

int main(void)
{
	char line[] = "  run\tthe  tests \n";
	char trim[] = "\t padded\t\n";
	char *argv[8];
	int argc;

	expect(strcmp(tiny_version(), TINY_VERSION) == 0, "tiny_version");
	expect(strstr(tiny_greeting(), "tiny") != NULL, "tiny_greeting");
	expect(strcmp(tiny_trim(trim), "padded") == 0, "tiny_trim strips tabs");

	argc = tiny_split(line, argv, 8);
	expect(argc == 3, "tiny_split word count");
	expect(argc == 3 && strcmp(argv[1], "the") == 0, "tiny_split splits on tabs");
	expect(argv[argc] == NULL, "tiny_split terminates argv");

	if (failures)
		return 1;
	printf("libtiny %s: all tests passed\n", tiny_version());
	return 0;
}
