/*
 * fuzz-mime.c - the MIME builder (src/mail/mime.c) on random field values.
 * The input is split at NUL bytes into the message's fields, in struct order.
 * A build must never crash; when it succeeds the message must read back
 * (tests/unit/mime-check.h: CRLF only, no bare CR/LF in headers, lines within
 * limits) to the same subject and parts. The merge tags (render.c) run on the
 * subject and text too.
 */
#include "../unit/mime-check.h"
#include "fuzz.h"
#include "mime.h"
#include "render.h"

enum { F_FROM_NAME, F_FROM, F_REPLY_TO, F_TO_NAME, F_TO, F_SUBJECT, F_TEXT, F_HTML, F_DOMAIN, F_UNSUB, F_MAILTO,
       F_HNAME, F_HVALUE, NFIELDS };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	arena *a = fuzz_arena();
	const char *f[NFIELDS] = { 0 };
	size_t i = 0, start = 0;
	for (size_t k = 0; k <= size && i < NFIELDS; k++) {
		if (k == size || data[k] == '\0') {
			f[i++] = fuzz_cstr(a, data + start, k - start);
			start = k + 1;
		}
	}
	struct mime_header h = { f[F_HNAME], f[F_HVALUE] };
	struct mail_contact c = { f[F_TO], f[F_TO_NAME], f[F_FROM_NAME], NULL };
	const char *subject = f[F_SUBJECT] ? mail_merge(a, f[F_SUBJECT], &c, f[F_UNSUB], false) : NULL;
	const char *text = f[F_TEXT] ? mail_merge(a, f[F_TEXT], &c, f[F_UNSUB], false) : NULL;
	const char *html = f[F_HTML] ? mail_merge(a, f[F_HTML], &c, f[F_UNSUB], true) : NULL;
	struct mime_message m = {
		.from_name = f[F_FROM_NAME], .from_email = f[F_FROM], .reply_to = f[F_REPLY_TO],
		.to_name = f[F_TO_NAME], .to_email = f[F_TO], .subject = subject, .text = text, .html = html,
		.msgid_domain = f[F_DOMAIN], .unsubscribe_url = f[F_UNSUB], .unsubscribe_mailto = f[F_MAILTO],
		.headers = &h, .nheaders = h.name && h.value ? 1 : 0, .date = 1700000000,
	};
	buf out;
	buf_init(&out, a, 4096);
	const char *msgid = NULL;
	if (mime_build(a, &m, &out, &msgid) == 0) {
		struct mime_parsed p;
		buf_cstr(&out);
		if (mime_check(a, out.data, out.len, &p) != 0 || !msgid ||
		    strcmp(p.subject, subject ? subject : "") != 0 || strcmp(p.text, mc_crlf(a, text)) != 0 ||
		    strcmp(p.html, mc_crlf(a, html)) != 0)
			abort();
	}
	arena_reset(a);
	return 0;
}
