/* tiny.h - public interface of libtiny, the utility library of the tiny
 * example distribution. */
#ifndef TINY_H
#define TINY_H

#define TINY_VERSION "1.2.0"
#define TINY_ABI 1

/* Library version string, e.g. "1.2.0". */
const char *tiny_version(void);

/* A friendly one-line greeting. */
const char *tiny_greeting(void);

/* Remove leading and trailing white space in place; returns the first
 * non-blank character of s. */
char *tiny_trim(char *s);

/* Split line in place on white space into at most max-1 words; argv is
 * NULL-terminated. Returns the number of words. */
int tiny_split(char *line, char **argv, int max);

#endif
