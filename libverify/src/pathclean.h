/* pathclean.h - Go's path.Clean (filepath.Clean on Unix), lexically
 * (internal). containerd and its hosts.toml reader clean every path they
 * join, so sigil must clean the same way to name the same files. Shared
 * with cli/, which compiles this file in. */
#ifndef SIGIL_PATHCLEAN_H
#define SIGIL_PATHCLEAN_H

/* sigil__path_clean - in place: collapse "//", drop ".", resolve ".."
 * lexically (a rooted path cannot climb above "/"; a relative one keeps
 * its leading ".." run); "" becomes ".". p must have room for
 * strlen(p) + 2 bytes (the result is never longer, except "" -> "."). */
void sigil__path_clean(char *p);

#endif
