/* token.h: finding and reading the Management API token (SPEC section 3).
 * The token is never logged; only where it came from is. */
#ifndef CP_TOKEN_H
#define CP_TOKEN_H

#include <stddef.h>

#define TOKEN_MAX 4096                 /* bytes, before trimming */
#define TOKEN_CREDENTIAL "convex-token" /* name under $CREDENTIALS_DIRECTORY */
#define TOKEN_ENV "CONVEX_ACCESS_TOKEN"

struct token {
	char *value;            /* trimmed, NUL-terminated; never logged */
	char source[320];       /* "file /etc/x", "credential /run/...",
	                         * "environment CONVEX_ACCESS_TOKEN" */
};

/*
 * First found wins: token_file (when not NULL: it must exist);
 * $CREDENTIALS_DIRECTORY/convex-token; $CONVEX_ACCESS_TOKEN.
 * A token file readable or writable by group or others is refused (as ssh
 * refuses a private key); a systemd credential only when others can reach it
 * (systemd grants the service user access through an ACL, which shows in
 * the group bits). Surrounding white space is trimmed; an empty token, one
 * over TOKEN_MAX bytes, or one holding control characters or spaces (which
 * could smuggle a header) is refused.
 * Returns 0, or a negative errno with the reason in err (which never holds
 * the token). A token loaded is registered in secrets.h, so every output
 * edge masks it from then on (an API error that echoes it, say).
 */
int token_load(const char *token_file, struct token *out, char *err,
    size_t errlen);
/* Wipes and frees the value; accepts NULL. */
void token_free(struct token *t);

#endif
