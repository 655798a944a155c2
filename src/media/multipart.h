/*
 * multipart.h - a small multipart/form-data reader (RFC 7578) for uploads.
 *
 * It reads a whole body held in memory (nginx wrote it to a file, the API
 * read it back) and points into it: no part is copied. Only what an upload
 * needs is understood: each part's name, filename and Content-Type from its
 * headers; other headers are skipped. Limits keep a hostile body cheap:
 * MULTIPART_MAX_PARTS parts, MULTIPART_MAX_HEADERS bytes of headers a part.
 * Pure C, no I/O, never logs; tests/fuzz/fuzz-multipart.c drives it.
 */
#pragma once

#include <stddef.h>

#include "arena.h"

#define MULTIPART_MAX_PARTS 16
#define MULTIPART_MAX_HEADERS 8192
#define MULTIPART_MAX_BOUNDARY 70

struct multipart_part {
	const char *name;	  /* the form field's name (arena copy), "" when absent */
	const char *filename;	  /* arena copy, NULL when the part has none */
	const char *content_type; /* arena copy, NULL when absent */
	const char *data;	  /* into the body; not NUL-terminated */
	size_t len;
};

/*
 * The boundary parameter of a multipart/form-data Content-Type value (quoted
 * or not, 1 to 70 characters) into *ret (arena copy). -EINVAL when the value
 * is not multipart/form-data or has no usable boundary.
 */
int multipart_boundary(arena *a, const char *content_type, const char **ret);

/*
 * Reads every part of body (len bytes) delimited by boundary into parts
 * (room for MULTIPART_MAX_PARTS), *n_out of them. 0, or -EINVAL with *why
 * (a constant sentence) when the body is malformed: no opening delimiter, a
 * part without the blank line after its headers, headers too long, a part
 * not closed by a delimiter, more than MULTIPART_MAX_PARTS parts, or no
 * closing "--boundary--".
 */
int multipart_parse(arena *a, const char *body, size_t len, const char *boundary, struct multipart_part *parts,
		    size_t *n_out, const char **why);
