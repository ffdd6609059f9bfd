/* inventory.h: what `show` prints (SPEC section 13): the declared projects
 * as observed, each with its id and slug, and each of its live cloud
 * deployments with name, URL, type, region, class, default flag, expiry,
 * the declared custom domains still pending verification and the files of
 * the declared deploy keys, for people (text) or for other automation
 * (one JSON object; docs/gitops.md shows both). Pure: it only appends to
 * the buffer it is given. No secret is in it: the key files are named, not
 * read. */
#ifndef CP_INVENTORY_H
#define CP_INVENTORY_H

#include <stdint.h>

#include "buf.h"
#include "model.h"

struct inventory {
	const struct desired_state *ds;
	const struct observed_state *os;
	const char *keys_dir;     /* where the deploy key files are */
	int64_t team_id;
};

/* One JSON object (a line per project: built and freed one at a time) and
 * a newline; ids exact whatever their size (jsonint.h). 0, -ENOMEM or
 * -E2BIG. */
int inventory_print_json(const struct inventory *inv, struct buf *out);
/* 0, -ENOMEM or -E2BIG. */
int inventory_print_text(const struct inventory *inv, struct buf *out);

#endif
