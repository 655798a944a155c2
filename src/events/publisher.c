/*
 * publisher.c - nchan publisher client over a unix socket (publisher.h).
 */
#include "publisher.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "json.h"

#define PUBLISH_TIMEOUT_MS 2000L
#define INFO_MAX_BYTES 4096

struct publisher {
	CURL *h;
	char *path;
	struct curl_slist *json_headers;
	char error[CURL_ERROR_SIZE + 64];
};

struct publisher *publisher_new(const char *path)
{
	struct publisher *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	if (!path || !*path)
		return p;
	p->path = strdup(path);
	p->h = curl_easy_init();
	p->json_headers = curl_slist_append(NULL, "Content-Type: application/json");
	p->json_headers = curl_slist_append(p->json_headers, "Accept: application/json");
	if (!p->path || !p->h || !p->json_headers) {
		publisher_free(p);
		return NULL;
	}
	curl_easy_setopt(p->h, CURLOPT_UNIX_SOCKET_PATH, p->path);
	curl_easy_setopt(p->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->h, CURLOPT_TIMEOUT_MS, PUBLISH_TIMEOUT_MS);
	curl_easy_setopt(p->h, CURLOPT_CONNECTTIMEOUT_MS, PUBLISH_TIMEOUT_MS);
	curl_easy_setopt(p->h, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(p->h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(p->h, CURLOPT_HTTPHEADER, p->json_headers);
	curl_easy_setopt(p->h, CURLOPT_ERRORBUFFER, p->error);
	curl_easy_setopt(p->h, CURLOPT_USERAGENT, "adcraft/" ADCRAFT_VERSION);
	return p;
}

void publisher_free(struct publisher *p)
{
	if (!p)
		return;
	if (p->h)
		curl_easy_cleanup(p->h);
	curl_slist_free_all(p->json_headers);
	free(p->path);
	free(p);
}

int publisher_enabled(const struct publisher *p)
{
	return p && p->h;
}

const char *publisher_error(const struct publisher *p)
{
	return p && p->error[0] ? p->error : "no error";
}

struct sink {
	buf *b;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;
	if (!s->b)
		return len; /* the publish response: not needed */
	if (s->b->len + len > INFO_MAX_BYTES)
		return 0; /* aborts the transfer */
	buf_putn(s->b, data, len);
	return len;
}

/* One request on the reused handle; *status gets the HTTP status. */
static int perform(struct publisher *p, const char *channel, struct sink *sink, long *status)
{
	if (!publisher_enabled(p))
		return -ENOTCONN;
	char url[160];
	int n = snprintf(url, sizeof(url), "http://localhost/pub/%s", channel);
	if (n < 0 || (size_t)n >= sizeof(url))
		return -EINVAL;
	p->error[0] = '\0';
	curl_easy_setopt(p->h, CURLOPT_URL, url);
	curl_easy_setopt(p->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(p->h, CURLOPT_WRITEDATA, sink);
	CURLcode rc = curl_easy_perform(p->h);
	if (rc != CURLE_OK) {
		if (!p->error[0])
			snprintf(p->error, sizeof(p->error), "%s", curl_easy_strerror(rc));
		return -EIO;
	}
	curl_easy_getinfo(p->h, CURLINFO_RESPONSE_CODE, status);
	return 0;
}

int publisher_post(struct publisher *p, const char *channel, const char *json, size_t len)
{
	if (!publisher_enabled(p))
		return -ENOTCONN;
	struct sink sink = { NULL };
	long status = 0;
	curl_easy_setopt(p->h, CURLOPT_POST, 1L);
	curl_easy_setopt(p->h, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(p->h, CURLOPT_POSTFIELDSIZE, (long)len);
	int rc = perform(p, channel, &sink, &status);
	if (rc < 0)
		return rc;
	if (status < 200 || status > 299) {
		snprintf(p->error, sizeof(p->error), "nchan answered HTTP %ld", status);
		return -EPROTO;
	}
	return 0;
}

int publisher_info(struct publisher *p, arena *a, const char *channel, struct channel_info *ret)
{
	if (!publisher_enabled(p))
		return -ENOTCONN;
	buf b;
	buf_init(&b, a, 256);
	struct sink sink = { &b };
	long status = 0;
	curl_easy_setopt(p->h, CURLOPT_HTTPGET, 1L);
	int rc = perform(p, channel, &sink, &status);
	if (rc < 0)
		return rc;
	if (status == 404)
		return -ENOENT;
	if (status != 200) {
		snprintf(p->error, sizeof(p->error), "nchan answered HTTP %ld", status);
		return -EPROTO;
	}
	/* {"messages": 2, "requested": 5, "subscribers": 1, "last_message_id": "1700000000:1" } */
	while (b.len > 0 && (b.data[b.len - 1] == '\0' || b.data[b.len - 1] == '\n' || b.data[b.len - 1] == '\r'))
		b.len--; /* nchan 1.3.6 sends its format string's terminating NUL */
	json_object *info;
	const char *reason;
	if (json_parse_strict(a, b.data, b.len, 4, &info, &reason) < 0 || !json_object_is_type(info, json_type_object)) {
		snprintf(p->error, sizeof(p->error), "nchan channel info is not JSON");
		return -EPROTO;
	}
	json_object *v;
	ret->messages = json_object_object_get_ex(info, "messages", &v) ? json_object_get_int64(v) : 0;
	ret->subscribers = json_object_object_get_ex(info, "subscribers", &v) ? json_object_get_int64(v) : 0;
	ret->last_time = 0;
	if (json_object_object_get_ex(info, "last_message_id", &v) && json_object_is_type(v, json_type_string))
		ret->last_time = strtoll(json_object_get_string(v), NULL, 10);
	return 0;
}
