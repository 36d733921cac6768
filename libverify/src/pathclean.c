/* pathclean.c - Go's path.Clean, lexically; see pathclean.h. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include "pathclean.h"

void sigil__path_clean(char *p)
{
	bool rooted = p[0] == '/';
	/* r reads, w writes; w never passes r: every byte written stands for
	 * one read, so the cleaning can be done in place */
	size_t r = 0, w = 0, n = strlen(p);
	size_t dotdot = 0; /* where a leading ".." run ends: ".." cannot backtrack past it */
	if (rooted) {
		p[w++] = '/';
		r = 1;
		dotdot = 1;
	}
	while (r < n) {
		if (p[r] == '/') {
			r++;
		} else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
			r++;
		} else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
			r += 2;
			if (w > dotdot) {
				/* drop the last element */
				w--;
				while (w > dotdot && p[w] != '/')
					w--;
			} else if (!rooted) {
				if (w > 0)
					p[w++] = '/';
				p[w++] = '.';
				p[w++] = '.';
				dotdot = w;
			}
		} else {
			if ((rooted && w != 1) || (!rooted && w != 0))
				p[w++] = '/';
			while (r < n && p[r] != '/')
				p[w++] = p[r++];
		}
	}
	if (w == 0)
		p[w++] = '.';
	p[w] = '\0';
}
