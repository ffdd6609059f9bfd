/* main.c: command-line entry point (filled in by the foundation work). */
#include <stdio.h>

int
main(void)
{
	puts("convex-provisioner " CP_VERSION);
	return 0;
}
