/*
 * mailtest.c - `adcraft mail-test` (see mailtest.h): the sending path of a
 * campaign email, minus the database. The ids in its tokens are random: the
 * unsubscribe and tracking links it carries lead nowhere.
 */
#include "mailtest.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "compose.h"
#include "mime.h"
#include "random.h"
#include "render.h"
#include "smtp.h"

#define EX_TEMPFAIL 75

static const struct mail_item sample = {
	.subject = "{{firstName}}, your adcraft test — Grüße ✨",
	.preheader = "A test message from adcraft mail-test",
	.body = "Hi {{firstName}} {{lastName}},\n\n"
		"This is a test message sent by adcraft mail-test to {{email}}. If you can read it, the SMTP "
		"configuration works: the text part and the HTML part were built from the same content item, "
		"the way a campaign email is.\n\n"
		"Your plan: {{attr.plan}}.",
	.cta_text = "Open adcraft",
	.cta_url = "https://adcraft.example/start?utm_source=mail-test&utm_medium=email",
};

static void uuid_v4(char out[37])
{
	unsigned char b[16];
	if (random_bytes(b, sizeof(b)) < 0)
		memset(b, 0, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
		 b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Renders and builds the message for fresh random ids; -EINVAL when a field is refused. */
static int build(arena *a, struct config *cfg, const struct mail_item *item, const struct mail_contact *contact,
		 buf *out, const char **ret_msgid)
{
	struct mail_sender sender;
	mail_sender_from_config(cfg, &sender);
	struct mailtoken ids = { 0 };
	uuid_v4(ids.recipient);
	uuid_v4(ids.send);
	uuid_v4(ids.contact);
	return mail_compose(a, &sender, item, contact, &ids, out, ret_msgid);
}

/* Builds one message (new ids, new Message-ID) in a and delivers it; an exit status. */
static int send_one(arena *a, struct config *cfg, struct smtp_pool *pool, const struct mail_item *item,
		    const struct mail_contact *contact)
{
	buf out;
	buf_init(&out, a, 16384);
	const char *msgid = NULL;
	int r = build(a, cfg, item, contact, &out, &msgid);
	if (r < 0) {
		fprintf(stderr, "adcraft mail-test: the message was refused: %s\n", strerror(-r));
		return 1;
	}
	struct smtp_result res;
	double wait;
	while ((r = smtp_pool_send(pool, now_seconds(), cfg->mail_from, contact->email, out.data, out.len, &res,
				   &wait)) == -EAGAIN)
		usleep((useconds_t)(wait * 1e6) + 100);
	if (r < 0) {
		fprintf(stderr, "adcraft mail-test: %s\n", strerror(-r));
		return 1;
	}
	if (res.outcome != SMTP_SENT) {
		fprintf(stderr, "adcraft mail-test: %s failure (%ld): %s\n",
			res.outcome == SMTP_TRANSIENT ? "transient" : "permanent", res.code, res.reply);
		return res.outcome == SMTP_TRANSIENT ? EX_TEMPFAIL : 1;
	}
	printf("sent %s to %s (%zu bytes): %s\n", msgid, contact->email, out.len, res.reply);
	return 0;
}

int cmd_mail_test(struct config *cfg, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, NULL, 't' },
		{ "subject", required_argument, NULL, 's' },
		{ "first-name", required_argument, NULL, 'f' },
		{ "last-name", required_argument, NULL, 'l' },
		{ "count", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct mail_item item = sample;
	struct mail_contact contact = { NULL, "Ada", "Lovelace", NULL };
	long count = 1;
	char *end;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 't': contact.email = optarg; break;
		case 's': item.subject = optarg; break;
		case 'f': contact.first_name = optarg; break;
		case 'l': contact.last_name = optarg; break;
		case 'n':
			count = strtol(optarg, &end, 10);
			if (*end || count < 1 || count > 100000)
				goto usage;
			break;
		default: goto usage;
		}
	}
	if (!contact.email || optind != argc)
		goto usage;
	if (!cfg->smtp_server_count) {
		fputs("adcraft mail-test: smtp_servers is not set in the configuration\n", stderr);
		return 1;
	}
	if (!mime_address_valid(contact.email)) {
		fprintf(stderr, "adcraft mail-test: \"%s\" is not a plain address like someone@example.com\n",
			contact.email);
		return 2;
	}
	arena *a = arena_new(65536);
	contact.attributes = json_tokener_parse("{\"plan\": \"Pro & <Team>\"}");
	struct smtp_pool *pool;
	smtp_pool_new(a, cfg->smtp_server_list, cfg->smtp_server_count, &pool);
	int status = 0;
	double start = now_seconds();
	arena *msg = arena_new(65536); /* one message's memory, reset after each */
	for (long i = 0; i < count && status == 0; i++) {
		status = send_one(msg, cfg, pool, &item, &contact);
		arena_reset(msg);
	}
	arena_free(msg);
	if (status == 0 && count > 1)
		printf("%ld messages in %.3f s\n", count, now_seconds() - start);
	json_object_put(contact.attributes);
	arena_free(a);
	return status;
usage:
	fputs("usage: adcraft mail-test --to ADDR [--subject S] [--first-name N] [--last-name N] [--count N]\n", stderr);
	return 2;
}
