/*
 * Unit tests for src/media/multipart.c: boundaries from Content-Type values,
 * forms as browsers and curl send them, and every malformed shape refused.
 */
#include <errno.h>
#include <string.h>

#include "multipart.h"
#include "tap.h"

static int parse(arena *a, const char *body, const char *boundary, struct multipart_part *parts, size_t *n)
{
	const char *why = NULL;
	int rc = multipart_parse(a, body, strlen(body), boundary, parts, n, &why);
	ok(rc == 0 || (why && *why), "a failure says why (%s)", why ? why : "-");
	return rc;
}

static void test_boundary(arena *a)
{
	const char *b = NULL;
	is_int(multipart_boundary(a, "multipart/form-data; boundary=----abc123", &b), 0, "plain boundary");
	is_str(b, "----abc123", "its value");
	is_int(multipart_boundary(a, "Multipart/Form-Data;boundary=\"a b:c\"", &b), 0, "quoted, any case");
	is_str(b, "a b:c", "quoted value");
	is_int(multipart_boundary(a, "multipart/form-data; charset=utf-8; boundary=x", &b), 0, "after another parameter");
	is_str(b, "x", "value");
	is_int(multipart_boundary(a, "multipart/form-data", &b), -EINVAL, "no boundary");
	is_int(multipart_boundary(a, "multipart/mixed; boundary=x", &b), -EINVAL, "not form-data");
	is_int(multipart_boundary(a, "multipart/form-data; boundary=", &b), -EINVAL, "empty boundary");
	is_int(multipart_boundary(a, "multipart/form-data; boundary=\"unclosed", &b), -EINVAL, "unclosed quote");
	is_int(multipart_boundary(a, "multipart/form-data; boundary=a\x01", &b), -EINVAL, "control character");
	char longb[100];
	memset(longb, 'a', 71);
	longb[71] = '\0';
	const char *ct = arena_printf(a, "multipart/form-data; boundary=%s", longb);
	is_int(multipart_boundary(a, ct, &b), -EINVAL, "71 characters");
	is_int(multipart_boundary(a, NULL, &b), -EINVAL, "no Content-Type");
}

static void test_forms(arena *a)
{
	struct multipart_part parts[MULTIPART_MAX_PARTS];
	size_t n = 0;
	const char *form = "--XyZ\r\n"
			   "Content-Disposition: form-data; name=\"note\"\r\n\r\n"
			   "hello\r\n"
			   "--XyZ\r\n"
			   "content-disposition: form-data; name=\"file\"; filename=\"dir\\\\my \\\"pic\\\".png\"\r\n"
			   "Content-Type: image/png \r\n\r\n"
			   "\x89PNG\r\n--Xy not the end\r\n"
			   "--XyZ--\r\nepilogue";
	is_int(parse(a, form, "XyZ", parts, &n), 0, "a browser's form");
	is_int((int)n, 2, "two parts");
	is_str(parts[0].name, "note", "first name");
	ok(parts[0].filename == NULL && parts[0].content_type == NULL, "a field has no filename or type");
	ok(parts[0].len == 5 && memcmp(parts[0].data, "hello", 5) == 0, "field data");
	is_str(parts[1].name, "file", "second name");
	is_str(parts[1].filename, "dir\\my \"pic\".png", "quoted filename with escapes");
	is_str(parts[1].content_type, "image/png", "part type, trailing space trimmed");
	ok(parts[1].len == 22 && memcmp(parts[1].data, "\x89PNG\r\n--Xy not the end", 22) == 0,
	   "file data keeps a near-delimiter");

	is_int(parse(a, "preamble\r\n--b\r\n\r\nraw\r\n--b--", "b", parts, &n), 0, "preamble, part without headers");
	ok(n == 1 && strcmp(parts[0].name, "") == 0 && parts[0].len == 3, "nameless part");
	is_int(parse(a, "--b \t\r\nContent-Disposition: form-data; name=file\r\n\r\n\r\n--b--", "b", parts, &n), 0,
	       "transport padding, token name, empty data");
	ok(n == 1 && parts[0].len == 0 && strcmp(parts[0].name, "file") == 0, "empty file part");
}

static void test_malformed(arena *a)
{
	struct multipart_part parts[MULTIPART_MAX_PARTS];
	size_t n = 0;
	static const char *const bad[] = {
		"",
		"no delimiter at all",
		"--b\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\ntruncated",
		"--b\r\nContent-Disposition: form-data; name=\"file\"\r\nno blank line",
		"--b\r\nContent-Disposition: form-data; name=\"file\r\n\r\nunclosed quote\r\n--b--",
		"--b\r\nContent-Disposition: attachment; name=\"file\"\r\n\r\nx\r\n--b--",
		"--b\r\nno colon here\r\n\r\nx\r\n--b--",
		"--bjunk\r\n\r\nx\r\n--b--",
		"--b--",
		"--b\r\n\r\nx\r\n--b",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		is_int(parse(a, bad[i], "b", parts, &n), -EINVAL, "malformed body %zu refused", i);
	/* more parts than allowed */
	char *many = arena_strdup(a, "");
	for (int i = 0; i <= MULTIPART_MAX_PARTS; i++)
		many = arena_printf(a, "%s--b\r\n\r\n%d\r\n", many, i);
	many = arena_printf(a, "%s--b--", many);
	is_int(parse(a, many, "b", parts, &n), -EINVAL, "%d parts refused", MULTIPART_MAX_PARTS + 1);
	/* headers over the limit */
	char *big = arena_alloc(a, MULTIPART_MAX_HEADERS + 200);
	strcpy(big, "--b\r\nX-Pad: ");
	memset(big + strlen(big), 'a', MULTIPART_MAX_HEADERS);
	strcpy(big + 12 + MULTIPART_MAX_HEADERS, "\r\n\r\nx\r\n--b--");
	is_int(parse(a, big, "b", parts, &n), -EINVAL, "headers over 8 KiB refused");
}

int main(void)
{
	arena *a = arena_new(65536);
	test_boundary(a);
	test_forms(a);
	test_malformed(a);
	arena_free(a);
	return tap_done();
}
