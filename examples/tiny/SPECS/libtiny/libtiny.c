/* libtiny.c - the utility library of the tiny example distribution. */
#include <string.h>
#include "tiny.h"

const char *tiny_version(void)
{
	return TINY_VERSION;
}

const char *tiny_greeting(void)
{
	return "hello from tiny " TINY_VERSION;
}

static int tiny_blank(char c)
{
	return c == ' ';
}

char *tiny_trim(char *s)
{
	char *end;

	while (*s && tiny_blank(*s))
		s++;
	end = s + strlen(s);
	while (end > s && (tiny_blank(end[-1]) || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

int tiny_split(char *line, char **argv, int max)
{
	int argc = 0;
	char *p = line;

	while (*p && argc < max - 1) {
		while (*p && tiny_blank(*p))
			p++;
		if (!*p)
			break;
		argv[argc++] = p;
		while (*p && !tiny_blank(*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	argv[argc] = NULL;
	return argc;
}
