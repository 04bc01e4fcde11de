/* hello: the greeting of a distribution built with slipway.
 * hello.spec defines DISTRO_NAME when it compiles this file. */
#include <stdio.h>

#ifndef DISTRO_NAME
#define DISTRO_NAME "a slipway distribution"
#endif

int main(void)
{
	printf("Hello from %s!\n", DISTRO_NAME);
	return fflush(stdout) == 0 ? 0 : 1;
}
