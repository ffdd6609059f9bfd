/* loopback.h: is a URL's host this machine? The one rule behind "plain
 * http:// only to a loopback host" (settings.c checks the setting, api.c
 * the URL a client is made with). */
#ifndef CP_LOOPBACK_H
#define CP_LOOPBACK_H

#include <stdbool.h>
#include <stddef.h>

/* host (n bytes, no port): "localhost" (any case), an IPv4 address in
 * 127.0.0.0/8, or the IPv6 loopback with or without its brackets. */
bool loopback_host(const char *host, size_t n);

#endif
