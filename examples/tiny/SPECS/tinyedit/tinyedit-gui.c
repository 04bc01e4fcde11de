/* tinyedit-gui - the full-screen viewer of the tiny editor.
 *
 *   tinyedit-gui FILE    show FILE full-screen with a title bar; Enter quits.
 *
 * "GUI" is generous: it draws with ANSI escape sequences on the terminal.
 */
#include <stdio.h>
#include <string.h>
#include <tiny.h>

int main(int argc, char **argv)
{
	char buf[1024];
	int n = 0;
	FILE *f;

	if (argc != 2) {
		fputs("usage: tinyedit-gui FILE\n", stderr);
		return 2;
	}
	if (!(f = fopen(argv[1], "r"))) {
		perror(argv[1]);
		return 1;
	}
	printf("\033[2J\033[H\033[7m tinyedit-gui: %-40s %s \033[0m\n",
	       argv[1], tiny_greeting());
	while (fgets(buf, sizeof buf, f))
		printf("\033[2m%4d\033[0m %s", ++n, buf);
	fclose(f);
	printf("\n\033[7m %d lines -- press Enter \033[0m", n);
	fflush(stdout);
	fgets(buf, sizeof buf, stdin);
	return 0;
}
