/* loopback.c: the loopback-host rule (loopback.h). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <strings.h>

#include "loopback.h"

bool
loopback_host(const char *h, size_t n)
{
	char host[64];
	struct in_addr a4;
	struct in6_addr a6;

	if (h == NULL || n == 0 || n >= sizeof(host) || memchr(h, '\0', n) != NULL)
		return false;
	memcpy(host, h, n);
	host[n] = '\0';
	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
		host[n - 1] = '\0';
		h = host + 1;
	} else {
		h = host;
	}
	return inet_pton(AF_INET6, h, &a6) == 1 &&
	    memcmp(&a6, &in6addr_loopback, sizeof(a6)) == 0;
}
