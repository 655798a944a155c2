/*
 * seed.c - `adcraft seed`: realistic bulk data for benchmarks.
 *
 * Adds N users (seed-<n>@adcraft.test, numbered after any earlier seed, all
 * sharing one argon2id hash of "seed-password-123"), P personas per user and
 * M campaigns per user (H for the first one: the "user with 10k campaigns"
 * the API bench reads), each campaign with K content items stored exactly as
 * the API stores them.
 *
 * Realism: every user markets a few products (themes); a persona is the
 * audience of one theme and a campaign speaks to one of its owner's personas
 * (or none), with a name, description, keywords, dates, budget in one of six
 * currencies, status, tone, generationSettings and content consistent with
 * the theme. Content items start from templates per theme and (type,
 * platform), checked by the same rules as POSTed items (validate_body,
 * content_item_check) and scored once by the real quality scorer
 * (content_item_finish); each stored item then gets its own id, metadata
 * (ai, builtin or manual, job id, slot, tokens) and timestamps. created_at
 * grows with the physical row order over the last two years, as an
 * append-only table's would, and owners are shuffled across it.
 *
 * Speed: rows are built here and streamed with COPY over --jobs connections
 * at once (one per CPU by default), one COPY and one transaction per batch;
 * the client needs about 6 us of CPU per campaign, the server the rest. A
 * server-side INSERT ... SELECT over generate_series building the same jsonb
 * cost the server as much per campaign (measured within 10%), with less
 * varied rows and without the real scorer. What decides the speed is index
 * upkeep (see indexes_drop below) and the jsonb GIN index, which alone is
 * about half of the server's work. Sessions use synchronous_commit off and
 * lz4 TOAST compression when the server has it. VACUUM (ANALYZE) runs at the end.
 * Batches already committed stay when a seed fails or is interrupted.
 */
#include "seed.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "brief.h"
#include "buf.h"
#include "content.h"
#include "db.h"
#include "json.h"
#include "password.h"
#include "platforms.h"
#include "random.h"
#include "validate.h"

#define SEED_PASSWORD "seed-password-123"
#define SPAN_DAYS 730		  /* campaigns are spread over the last two years */
#define COPY_CHUNK (256 * 1024)	  /* bytes handed to libpq at a time */
#define MAX_TOTAL 100000000L	  /* campaigns per run */

struct seed_opts {
	long users, campaigns, content, heavy, personas, batch, jobs;
	bool keep_indexes;
};

/* ---- data: what the seeded accounts market ------------------------------ */

struct theme {
	const char *product, *category, *keywords, *audience, *benefit, *offer, *headline, *domain;
	const char *tags[5];
	/* the persona that is this theme's audience */
	const char *persona, *portrait, *age, *gender, *occupation;
	const char *interests[3], *pains[2], *goals[2], *channels;
};

static const struct theme themes[] = {
	{ "TrailRunner Pro", "trail shoe", "trail running, lightweight shoes, grip", "weekend trail runners",
	  "grip that holds on wet rock", "20% off launch week", "Grip Built for Wet Rock", "trailrunner.example",
	  { "#TrailRunning", "#RunFast", "#Outdoors", "#UltraRunning", "#RunnersOfInstagram" },
	  "Weekend trail runner", "Runs 30-60 km a week, mostly off-road; buys gear after reading reviews.", "25-44",
	  NULL, "Software engineer", { "trail running", "race training", "gear reviews" },
	  { "shoes that slip on wet rock", "blisters on long runs" }, { "finish a first ultra", "run pain-free" },
	  "{instagram,email,facebook}" },
	{ "Nimbus CRM", "CRM", "crm, sales pipeline, automation", "small sales teams", "a pipeline that updates itself",
	  "a free 30-day trial", "The CRM That Updates Itself", "nimbuscrm.example",
	  { "#SalesOps", "#CRM", "#SmallBusiness", "#B2BSales", "#Productivity" },
	  "Small-business sales lead", "Runs a team of 3-10 sellers and still tracks deals in spreadsheets.", "30-50",
	  NULL, "Head of sales", { "sales automation", "pipeline reviews", "team coaching" },
	  { "deals lost in spreadsheets", "hours of manual data entry" }, { "hit the quarterly target", "forecast with confidence" },
	  "{linkedin,email,google_ads}" },
	{ "Brewly", "coffee subscription", "specialty coffee, subscription, fresh roast", "home baristas",
	  "beans roasted the week they ship", "your first bag free", "Fresh Roast, Every Week", "brewly.example",
	  { "#CoffeeLovers", "#FreshRoast", "#HomeBarista", "#SpecialtyCoffee", "#Brewly" },
	  "Home barista", "Owns a grinder that cost more than the machine; tries a new origin every month.", "25-40",
	  NULL, "Designer", { "specialty coffee", "espresso", "latte art" },
	  { "stale supermarket beans", "forgetting to reorder" }, { "cafe-quality coffee at home", "discover new origins" },
	  "{instagram,email}" },
	{ "PixelDesk", "standing desk", "standing desk, ergonomic, home office", "remote workers",
	  "height presets that remember you", "free shipping this month", "Stand Up, Work Better", "pixeldesk.example",
	  { "#HomeOffice", "#Ergonomics", "#RemoteWork", "#DeskSetup", "#WFH" },
	  "Remote professional", "Works from a spare room eight hours a day and feels it in the back.", "28-45",
	  NULL, "Product manager", { "home office", "ergonomics", "productivity" },
	  { "back pain after long days", "a cramped spare room" }, { "work comfortably all day", "a tidy desk setup" },
	  "{linkedin,instagram,email}" },
	{ "GreenLeaf Meals", "meal kit", "meal kit, healthy, plant-based", "busy families",
	  "dinner on the table in 20 minutes", "3 meals free", "Dinner in 20 Minutes", "greenleaf.example",
	  { "#MealPrep", "#PlantBased", "#HealthyEating", "#FamilyDinner", "#EasyRecipes" },
	  "Busy parent", "Two kids, two jobs, and no time to plan a week of healthy dinners.", "30-45",
	  "female", "Nurse", { "healthy eating", "quick recipes", "family time" },
	  { "no time to plan meals", "picky eaters" }, { "eat healthier as a family", "less food waste" },
	  "{facebook,instagram,email}" },
	{ "Ledgerly", "invoicing app", "invoicing, bookkeeping, tax", "freelancers",
	  "invoices that chase themselves", "50% off for 3 months", "Invoices That Chase Payment", "ledgerly.example",
	  { "#Freelance", "#Bookkeeping", "#SmallBiz", "#Invoicing", "#SelfEmployed" },
	  "Freelance consultant", "Bills ten clients a month and dreads tax season.", "28-50",
	  NULL, "Consultant", { "bookkeeping", "cash flow", "tax planning" },
	  { "late payments", "receipts lost before tax time" }, { "get paid on time", "a stress-free tax return" },
	  "{linkedin,email,google_ads}" },
	{ "Lumen Skincare", "serum", "skincare, vitamin c, sensitive skin", "people with sensitive skin",
	  "a serum that calms as it brightens", "a free travel kit", "Calm, Bright Skin", "lumenskin.example",
	  { "#Skincare", "#SensitiveSkin", "#VitaminC", "#GlowUp", "#CleanBeauty" },
	  "Sensitive-skin shopper", "Reads every ingredient list; has been burned by harsh actives before.", "22-38",
	  "female", "Marketing coordinator", { "clean beauty", "skincare routines", "wellness" },
	  { "redness from harsh products", "dull skin in winter" }, { "a simple routine that works", "even skin tone" },
	  "{instagram,facebook}" },
	{ "FitPulse", "fitness app", "workout app, strength training, habit", "beginners",
	  "10-minute plans that adapt to you", "a free month", "Workouts That Fit Your Day", "fitpulse.example",
	  { "#Fitness", "#HomeWorkout", "#StrengthTraining", "#FitnessJourney", "#HealthyHabits" },
	  "Fitness beginner", "Wants to get stronger but gyms feel intimidating and time is short.", "20-35",
	  NULL, "Student", { "home workouts", "strength training", "healthy habits" },
	  { "no time for the gym", "not knowing where to start" }, { "build a habit that sticks", "feel stronger" },
	  "{instagram,twitter,facebook}" },
	{ "Harbor Bank", "savings account", "savings account, high yield, no fees", "first-time savers",
	  "4.1% APY with no monthly fees", "a $50 welcome bonus", "4.1% APY, No Fees", "harborbank.example",
	  { "#PersonalFinance", "#Savings", "#MoneyTips", "#FinancialFreedom", "#Budgeting" },
	  "First-time saver", "Just started a first full-time job and wants savings to actually grow.", "21-30",
	  NULL, "Junior analyst", { "personal finance", "budgeting apps", "investing basics" },
	  { "fees eating small balances", "low interest at the big banks" }, { "an emergency fund", "save for a home" },
	  "{email,google_ads,twitter}" },
	{ "WanderNest", "hotel booking", "boutique hotels, weekend getaways, travel deals", "couples",
	  "hand-picked stays within a short drive", "15% off weekend stays", "Hand-Picked Weekend Stays",
	  "wandernest.example", { "#WeekendGetaway", "#TravelDeals", "#BoutiqueHotel", "#Wanderlust", "#CoupleGoals" },
	  "Weekend traveller", "Plans a getaway every other month and hates sifting through generic chains.", "27-45",
	  NULL, "Teacher", { "boutique hotels", "food travel", "road trips" },
	  { "generic hotel chains", "hours of comparing listings" }, { "a memorable weekend away", "travel on a budget" },
	  "{instagram,email,facebook}" },
	{ "CodeCraft Academy", "bootcamp", "coding bootcamp, career change, web development", "career changers",
	  "a job-ready portfolio in 16 weeks", "a free intro class", "Job-Ready in 16 Weeks", "codecraft.example",
	  { "#LearnToCode", "#CareerChange", "#WebDev", "#100DaysOfCode", "#TechCareers" },
	  "Career changer", "Ten years in retail, teaching themselves JavaScript at night.", "25-40",
	  NULL, "Store manager", { "web development", "online courses", "tech careers" },
	  { "no degree in computer science", "learning alone at night" }, { "a first developer job", "a portfolio to show" },
	  "{linkedin,email,google_ads}" },
	{ "PawPal", "pet insurance", "pet insurance, vet bills, dogs", "new dog owners",
	  "vet bills reimbursed in 2 days", "the first month free", "Vet Bills Paid in 2 Days", "pawpal.example",
	  { "#DogsOfInstagram", "#PuppyLove", "#PetCare", "#DogMom", "#NewPuppy" },
	  "New dog owner", "Just brought home a puppy and is shocked by the first vet bill.", "25-40",
	  NULL, "Accountant", { "dog training", "pet health", "dog-friendly travel" },
	  { "surprise vet bills", "confusing insurance terms" }, { "a healthy, happy dog", "predictable pet costs" },
	  "{instagram,facebook,email}" },
};
#define NTHEMES (sizeof(themes) / sizeof(themes[0]))

/* One text template per (type, platform) and variant. {P} product, {C} category, {A} audience,
 * {B} benefit, {O} offer, {H} headline, {K} keywords, {D} domain. */
struct pair_template {
	const char *type, *platform;
	const char *subject, *preheader, *body, *cta;
	int ntags;	/* hashtags taken from the theme */
	bool visual;	/* has a visualUrl */
};

static const struct pair_template pair_templates[][2] = {
	{ { "email", "email", "{P}: {O}", "Made for {A}: {B}. See why thousands switched this year.",
	    "Hi there,\n\nYou asked for {B}, and {P} delivers it. We built it for {A} who expect more from every "
	    "{C}.\n\nThis week only: {O}. Thousands of {A} already made the switch, and most of them tell us they "
	    "wish they had done it sooner.\n\nTake a look and see what {P} can do for you.\n\nThe {P} team",
	    "Claim your offer", 0, false },
	  { "email", "email", "Still thinking about {P}?", "Only until Sunday: {O}. Here is why {A} love it.",
	    "Hello again,\n\nA quick reminder: {O} ends on Sunday.\n\nWhy {A} choose {P}:\n- {B}\n- set up in "
	    "minutes, no learning curve\n- friendly support from real people\n\nIf you have questions, just reply "
	    "to this email and we will help you pick the right option.\n\nSee you soon,\nThe {P} team",
	    "Get started today", 0, false } },
	{ { "social_post", "linkedin", NULL, NULL,
	    "Most {A} we talk to say the same thing: the {C} they use holds them back.\n\nThat is why we built "
	    "{P}: {B}.\n\nEarly users report saving hours every week. For a limited time we are offering {O} to "
	    "help more teams try it.\n\nWhat is the one thing you would change about your current {C}?",
	    "Learn more", 2, true },
	  { "social_post", "linkedin", NULL, NULL,
	    "We asked 500 {A} what they want from a {C}. The top answer: {B}.\n\n{P} was designed around that "
	    "answer. Read the full results and see how it works.",
	    "Read the report", 3, true } },
	{ { "social_post", "twitter", NULL, NULL, "{B}. That is {P}. {O} for the next 7 days.", "Try it", 2, false },
	  { "social_post", "twitter", NULL, NULL, "Hey {A}: tired of a {C} that lets you down? Meet {P}.",
	    "Learn more", 1, true } },
	{ { "social_post", "facebook", NULL, NULL,
	    "Meet {P}, made for {A}. {B}, and right now {O}.", "Shop now", 1, true },
	  { "social_post", "facebook", NULL, NULL,
	    "\"I wish I had found {P} sooner.\" We hear it every week from {A}. Find out why.", "Learn more", 0, true } },
	{ { "social_post", "instagram", NULL, NULL,
	    "New season, new {C}. {P} brings {B}, so you can focus on what you love.\n\nTap the link in bio: {O} "
	    "for a limited time only. Tag a friend who needs this!",
	    "Tap the link in bio", 5, true },
	  { "social_post", "instagram", NULL, NULL,
	    "Behind the scenes at {P}: how we made {B} possible. Swipe to see the process, from the first sketch "
	    "to the version you can get today with {O}.",
	    "Swipe to see more", 4, true } },
	{ { "ad_copy", "google_ads", NULL, NULL, "{P}: {B}. {O}. Order today.", NULL, 0, false },
	  { "ad_copy", "google_ads", NULL, NULL, "Looking for a better {C}? Try {P}. {O}.", NULL, 0, false } },
	{ { "ad_copy", "facebook", NULL, NULL, "{A}, meet {P}: {B}. {O} when you order this week.", "Shop now", 0, true },
	  { "ad_copy", "facebook", NULL, NULL, "Still putting up with a {C} that holds you back? Switch to {P} today.",
	    "Sign up", 0, true } },
	{ { "ad_copy", "instagram", NULL, NULL, "{B}. {P}, made for {A}. {O}.", "Shop now", 3, true },
	  { "ad_copy", "instagram", NULL, NULL, "Your new favourite {C} is here. {P}: {O}.", "Learn more", 3, true } },
	{ { "ad_copy", "linkedin", NULL, NULL,
	    "Teams of {A} use {P} for {B}. Start with {O} and see the difference in your first week.",
	    "Request a demo", 0, true },
	  { "ad_copy", "linkedin", NULL, NULL, "{P}: the {C} built for {A}. {O}.", "Learn more", 0, true } },
};
#define NPAIRS (sizeof(pair_templates) / sizeof(pair_templates[0]))
#define NVARIANTS 2

/* Channel mixes: which (type, platform) pairs a campaign's content uses, in order. */
static const struct mix {
	int pairs[6], npairs;
	const char *types, *platforms; /* generationSettings, as JSON */
} mixes[] = {
	{ { 0 }, 1, "[\"email\"]", "[\"email\"]" },
	{ { 1, 2 }, 2, "[\"social_post\"]", "[\"linkedin\",\"twitter\"]" },
	{ { 4, 3 }, 2, "[\"social_post\"]", "[\"instagram\",\"facebook\"]" },
	{ { 5, 6 }, 2, "[\"ad_copy\"]", "[\"google_ads\",\"facebook\"]" },
	{ { 0, 1, 5 }, 3, "[\"email\",\"social_post\",\"ad_copy\"]", "[\"email\",\"linkedin\",\"google_ads\"]" },
	{ { 4, 7, 0 }, 3, "[\"social_post\",\"ad_copy\",\"email\"]", "[\"instagram\",\"email\"]" },
	{ { 8, 1 }, 2, "[\"ad_copy\",\"social_post\"]", "[\"linkedin\"]" },
	{ { 0, 1, 2, 3, 4, 5 }, 6, "[\"email\",\"social_post\",\"ad_copy\"]",
	  "[\"email\",\"linkedin\",\"twitter\",\"facebook\",\"instagram\",\"google_ads\"]" },
};
#define NMIXES (sizeof(mixes) / sizeof(mixes[0]))

static const char *const first_names[] = { "Ana", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines",
					   "Jonas", "Kemi", "Liam", "Maya", "Nico", "Olga", "Priya", "Quinn", "Rosa",
					   "Sam", "Tariq", "Uma", "Victor", "Wen", "Yara", "Zoe" };
static const char *const last_names[] = { "Almeida", "Brown", "Chen", "Dubois", "Eriksen", "Fischer", "Garcia",
					  "Haddad", "Ito", "Jensen", "Kowalski", "Lopez", "Martin", "Nakamura",
					  "Okafor", "Petrov", "Rossi", "Schmidt", "Tanaka", "Walsh" };
static const char *const locations[] = { "New York, US", "London, UK", "Berlin, DE", "Toronto, CA", "Sydney, AU",
					 "Austin, US", "Manchester, UK", "Paris, FR", "Osaka, JP", NULL };
static const char *const name_prefixes[] = { "Spring", "Summer", "Autumn", "Winter", "Back to School", "Black Friday",
					     "Holiday", "New Year", "Q1", "Q2", "Q3", "Q4", "Launch", "Always-on" };
static const char *const name_suffixes[] = { "Campaign", "Promo", "Retargeting", "Awareness Push", "Newsletter",
					     "Giveaway", "Webinar Series", "Flash Sale", "Referral Drive", "Relaunch" };
static const char *const tones[] = { "friendly, confident", "playful", "professional", "urgent", "warm and reassuring",
				     "bold", "informative", "witty", NULL };
static const char *const objectives[] = { "awareness", "consideration", "conversion" };
static const char *const instructions[] = { "Mention the offer in the first sentence.", "Avoid exclamation marks.",
					    "Keep it under three sentences where possible.", NULL, NULL, NULL };
/* currency, share in percent, budget multiplier, whole units only */
static const struct {
	const char *code;
	int percent, factor;
	bool whole;
} currencies[] = {
	{ "USD", 50, 1, false }, { "EUR", 20, 1, false }, { "GBP", 14, 1, false },
	{ "CAD", 6, 1, false },	 { "AUD", 5, 1, false },  { "JPY", 5, 150, true },
};

/* ---- randomness, ids and time ------------------------------------------- */

struct rng {
	uint64_t s[4];
};

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256**: fast and good enough for test data; seeded from getrandom. */
static uint64_t rng_next(struct rng *r)
{
	uint64_t out = rotl(r->s[1] * 5, 7) * 9, t = r->s[1] << 17;
	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = rotl(r->s[3], 45);
	return out;
}

static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) / 9007199254740992.0;
}

static bool rng_percent(struct rng *r, uint32_t p)
{
	return rng_below(r, 100) < p;
}

static int rng_seed(struct rng *r)
{
	return random_bytes(r->s, sizeof(r->s));
}

struct uuid {
	unsigned char b[16];
};

static void uuid_random(struct rng *r, struct uuid *u)
{
	uint64_t hi = rng_next(r), lo = rng_next(r);
	memcpy(u->b, &hi, 8);
	memcpy(u->b + 8, &lo, 8);
	u->b[6] = (unsigned char)((u->b[6] & 0x0f) | 0x40); /* version 4 */
	u->b[8] = (unsigned char)((u->b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

static void put_uuid(buf *b, const struct uuid *u)
{
	static const char hex[] = "0123456789abcdef";
	buf_reserve(b, 36);
	char *p = b->data + b->len;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[u->b[i] >> 4];
		*p++ = hex[u->b[i] & 15];
	}
	b->len += 36;
}

static void put_new_uuid(buf *b, struct rng *r)
{
	struct uuid u;
	uuid_random(r, &u);
	put_uuid(b, &u);
}

/* RFC 3339 UTC with milliseconds, as the API prints timestamps (24 characters). */
static void put_time(buf *b, int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	buf_printf(b, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		   tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static void put_date(buf *b, int64_t ms)
{
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&s, &tm);
	buf_printf(b, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- content item templates --------------------------------------------- */

/* COPY text format: backslash, newline, carriage return and tab are escaped. */
static void put_copy_text(buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '\\': buf_putn(b, "\\\\", 2); break;
		case '\n': buf_putn(b, "\\n", 2); break;
		case '\r': buf_putn(b, "\\r", 2); break;
		case '\t': buf_putn(b, "\\t", 2); break;
		default: buf_putc(b, s[i]);
		}
	}
}

static const char *expand(arena *a, const char *tpl, const struct theme *t)
{
	buf b;
	buf_init(&b, a, 512);
	for (const char *p = tpl; *p; p++) {
		const char *v = NULL;
		if (p[0] == '{' && p[1] && p[2] == '}') {
			switch (p[1]) {
			case 'P': v = t->product; break;
			case 'C': v = t->category; break;
			case 'A': v = t->audience; break;
			case 'B': v = t->benefit; break;
			case 'O': v = t->offer; break;
			case 'H': v = t->headline; break;
			case 'K': v = t->keywords; break;
			case 'D': v = t->domain; break;
			}
		}
		if (v) {
			buf_puts(&b, v);
			p += 2;
		} else {
			buf_putc(&b, *p);
		}
	}
	return buf_cstr(&b);
}

static json_object *string_array(const char *const *items, size_t n)
{
	json_object *arr = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, json_object_new_string(items[i]));
	return arr;
}

static void add_opt_str(json_object *o, const char *key, const char *v)
{
	if (v)
		json_object_object_add(o, key, json_object_new_string(v));
}

/* The item a client would POST for this theme and template. */
static json_object *template_item(arena *a, const struct theme *t, const struct pair_template *pt, int variant)
{
	json_object *item = json_object_new_object();
	json_object_object_add(item, "contentType", json_object_new_string(pt->type));
	json_object_object_add(item, "platform", json_object_new_string(pt->platform));
	add_opt_str(item, "subjectLine", pt->subject ? expand(a, pt->subject, t) : NULL);
	add_opt_str(item, "preheader", pt->preheader ? expand(a, pt->preheader, t) : NULL);
	json_object_object_add(item, "contentBody", json_object_new_string(expand(a, pt->body, t)));
	add_opt_str(item, "callToAction", pt->cta);
	if (pt->ntags)
		json_object_object_add(item, "hashtags", string_array(t->tags, (size_t)pt->ntags));
	if (pt->visual)
		add_opt_str(item, "visualUrl", arena_printf(a, "https://cdn.%s/%s/%s-%d.jpg", t->domain, pt->type,
							    pt->platform, variant + 1));
	if (platform_find(pt->platform)->headlines_max) { /* a search ad */
		const char *heads[] = { t->headline, t->product, arena_printf(a, "Try %s Today", t->product) };
		const char *descs[] = { expand(a, "{P} gives you {B}.", t), expand(a, "Limited time: {O}. Order online.", t) };
		json_object_object_add(item, "headlines", string_array(heads, 3));
		json_object_object_add(item, "descriptions", string_array(descs, 2));
	}
	return item;
}

/* Scored item as stored, COPY-escaped, without its closing brace: the row writer appends
 * id, metadata and timestamps. */
struct item_template {
	const char *text;
	size_t len;
};

/* [theme][pair][variant][with persona] */
typedef struct item_template templates_t[NTHEMES][NPAIRS][NVARIANTS][2];

static int template_build(arena *a, const struct theme *t, int pair, int variant, bool persona,
			  struct item_template *out, char *err, size_t errlen)
{
	json_object *item = json_own(a, template_item(a, t, &pair_templates[pair][variant], variant));
	struct verrors errs;
	verrors_init(&errs, a);
	if (validate_body(item, content_item_fields, &errs) == 0)
		content_item_check(item, &errs);
	if (errs.count) {
		snprintf(err, errlen, "template %s %s/%s/%d is invalid: %s %s", t->product, pair_templates[pair][variant].type,
			 pair_templates[pair][variant].platform, variant, errs.head->field, errs.head->message);
		return -EINVAL;
	}
	json_object *terms = persona ? json_own(a, json_object_new_array()) : NULL;
	for (size_t i = 0; persona && i < 3; i++)
		json_object_array_add(terms, json_object_new_string(t->interests[i]));
	struct content_context ctx = { .keywords = t->keywords, .persona_terms = terms, .product = t->product };
	const char *json = content_item_finish(a, item, &ctx, NULL);
	size_t n = strlen(json);
	if (n < 2 || json[n - 1] != '}') {
		snprintf(err, errlen, "template %s: unexpected item JSON", t->product);
		return -EINVAL;
	}
	buf b;
	buf_init(&b, a, n + 64);
	put_copy_text(&b, json, n - 1);
	out->len = b.len;
	out->text = buf_cstr(&b);
	return 0;
}

static int templates_build(arena *a, templates_t *tpl, char *err, size_t errlen)
{
	for (size_t t = 0; t < NTHEMES; t++)
		for (int p = 0; p < (int)NPAIRS; p++)
			for (int v = 0; v < NVARIANTS; v++)
				for (int with = 0; with < 2; with++) {
					int r = template_build(a, &themes[t], p, v, with, &(*tpl)[t][p][v][with], err,
							       errlen);
					if (r < 0)
						return r;
				}
	return 0;
}

/* ---- progress on stderr ------------------------------------------------- */

struct progress {
	const char *what;
	long total, done;
	double start, next_draw;
	int next_decile;
	bool tty;
};

static void progress_start(struct progress *p, const char *what, long total)
{
	*p = (struct progress){ .what = what, .total = total, .start = mono_s(), .next_decile = 1,
				.tty = isatty(STDERR_FILENO) };
}

static void progress_line(const struct progress *p, double now, const char *end)
{
	double secs = now - p->start, rate = secs > 0 ? p->done / secs : 0;
	double pct = p->total ? 100.0 * p->done / p->total : 100;
	char eta[32] = "-:--";
	if (rate > 0) {
		long left = (long)((p->total - p->done) / rate + 0.5);
		snprintf(eta, sizeof(eta), "%ld:%02ld", left / 60, left % 60);
	}
	fprintf(stderr, "%s%-10s %5.1f%%  %ld/%ld  %.0f rows/s  ETA %s%s", p->tty ? "\r" : "", p->what, pct, p->done,
		p->total, rate, eta, end);
	fflush(stderr);
}

/* Redraws at most 5 times a second on a terminal; otherwise prints one line per 10%. */
static void progress_update(struct progress *p, long done)
{
	p->done = done;
	double now = mono_s();
	if (p->tty) {
		if (now >= p->next_draw) {
			progress_line(p, now, "\033[K");
			p->next_draw = now + 0.2;
		}
		return;
	}
	if (p->total == 0)
		return;
	int reached = (int)(done * 10 / p->total);
	if (reached >= p->next_decile && reached < 10)
		progress_line(p, now, "\n"); /* 100% is progress_finish's line */
	if (reached >= p->next_decile)
		p->next_decile = reached + 1;
}

static double progress_finish(struct progress *p)
{
	p->done = p->total;
	double now = mono_s();
	progress_line(p, now, p->tty ? "\033[K\n" : "\n");
	return now - p->start;
}

/* ---- COPY ---------------------------------------------------------------- */

struct copy {
	db *db;
	arena *a;
	buf b;
	char *err;
	size_t errlen;
};

static int copy_fail(struct copy *c, const char *what, const char *msg)
{
	snprintf(c->err, c->errlen, "%s: %s", what, msg);
	size_t n = strlen(c->err);
	while (n && (c->err[n - 1] == '\n' || c->err[n - 1] == ' '))
		c->err[--n] = '\0';
	return -EIO;
}

/* Starts "COPY table (columns) FROM STDIN" on c->db. */
static int copy_begin(struct copy *c, const char *sql)
{
	PGconn *conn = db_conn(c->db);
	PGresult *r = PQexec(conn, sql);
	bool ok = PQresultStatus(r) == PGRES_COPY_IN;
	if (!ok)
		copy_fail(c, sql, PQresultErrorMessage(r));
	PQclear(r);
	arena_reset(c->a);
	buf_init(&c->b, c->a, COPY_CHUNK + 65536);
	return ok ? 0 : -EIO;
}

static int copy_flush(struct copy *c)
{
	if (c->b.len == 0)
		return 0;
	if (PQputCopyData(db_conn(c->db), c->b.data, (int)c->b.len) != 1)
		return copy_fail(c, "COPY", PQerrorMessage(db_conn(c->db)));
	c->b.len = 0;
	return 0;
}

/* Hands the buffer to libpq once it is big enough. */
static int copy_maybe_flush(struct copy *c)
{
	return c->b.len >= COPY_CHUNK ? copy_flush(c) : 0;
}

/* Ends the COPY; with cancel, makes the server roll it back. */
static int copy_end(struct copy *c, bool cancel)
{
	PGconn *conn = db_conn(c->db);
	int rc = cancel ? -ECANCELED : copy_flush(c);
	if (PQputCopyEnd(conn, rc < 0 ? "adcraft seed stopped" : NULL) != 1 && rc == 0)
		rc = copy_fail(c, "COPY end", PQerrorMessage(conn));
	PGresult *r;
	while ((r = PQgetResult(conn))) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0)
			rc = copy_fail(c, "COPY", PQresultErrorMessage(r));
		PQclear(r);
	}
	return rc;
}

/* ---- the rows ------------------------------------------------------------ */

struct seed {
	struct seed_opts o;
	struct config *cfg;
	struct loader *loaders; /* [o.jobs]: one connection and thread each */
	atomic_int failed;	/* a loader failed: the others stop */
	atomic_int running;	/* loader threads still working on the current step */
	struct rng rng;
	templates_t *tpl;
	char hash[PASSWORD_HASH_MAX];
	long first_number;	     /* seed-<first_number>@adcraft.test is the first new user */
	struct uuid *users;	     /* [users] */
	struct uuid *personas;	     /* [users * personas] */
	unsigned char *persona_theme; /* [users * personas] */
	uint32_t *owner;	     /* [total]: user index of each campaign, shuffled */
	long total, items;
	int64_t now_ms, span_start_ms;
	char err[1024];
};

static int fail(struct seed *s, int rc, const char *what, const char *detail)
{
	snprintf(s->err, sizeof(s->err), "%s: %s", what, detail);
	return rc;
}

static void put_user_row(const struct seed *s, struct rng *rng, buf *b, long i)
{
	int64_t created = s->span_start_ms - (int64_t)rng_below(rng, 365) * 86400000 - rng_below(rng, 86400000);
	long n = s->first_number + i;
	put_uuid(b, &s->users[i]);
	buf_printf(b, "\tseed-%ld@adcraft.test\t%s %s\t", n, first_names[n % (sizeof(first_names) / sizeof(first_names[0]))],
		   last_names[(n / 25) % (sizeof(last_names) / sizeof(last_names[0]))]);
	put_copy_text(b, s->hash, strlen(s->hash));
	buf_putc(b, '\t');
	put_time(b, created);
	buf_putc(b, '\t');
	put_time(b, created);
	buf_putc(b, '\n');
}

static void put_opt(buf *b, const char *v)
{
	if (v)
		buf_puts(b, v);
	else
		buf_putn(b, "\\N", 2);
}

static void put_persona_row(const struct seed *s, struct rng *rng, buf *b, long i)
{
	const struct theme *t = &themes[s->persona_theme[i]];
	int64_t created = s->span_start_ms + (int64_t)rng_below(rng, 30) * 86400000;
	put_uuid(b, &s->personas[i]);
	buf_putc(b, '\t');
	put_uuid(b, &s->users[i / s->o.personas]);
	buf_printf(b, "\t%s\t%s\t%s\t", t->persona, t->portrait, t->age);
	put_opt(b, t->gender);
	buf_putc(b, '\t');
	put_opt(b, locations[rng_below(rng, sizeof(locations) / sizeof(locations[0]))]);
	buf_printf(b, "\t%s\t{\"%s\",\"%s\",\"%s\"}\t{\"%s\",\"%s\"}\t{\"%s\",\"%s\"}\t%s\t", t->occupation, t->interests[0],
		   t->interests[1], t->interests[2], t->pains[0], t->pains[1], t->goals[0], t->goals[1], t->channels);
	put_time(b, created);
	buf_putc(b, '\t');
	put_time(b, created);
	buf_putc(b, '\n');
}

/* What a campaign row is made of, decided before it is written. */
struct campaign {
	long user;
	int persona; /* index among the user's personas, -1 for none */
	const struct theme *theme;
	int theme_index;
	const struct mix *mix;
	int64_t created, updated;
	const char *origin; /* ai | builtin | manual: who wrote its content */
	struct uuid job;
};

static void put_metadata(struct rng *rng, buf *b, const struct campaign *c, int pair, int variant, int64_t at)
{
	const struct pair_template *pt = &pair_templates[pair][0];
	if (strcmp(c->origin, "manual") == 0) {
		buf_puts(b, ",\"metadata\":{\"generatedBy\":\"manual\",\"model\":null,\"promptVersion\":null,\"jobId\":null,"
			    "\"generatedAt\":\"");
		put_time(b, at);
		buf_puts(b, "\",\"tokens\":0}");
		return;
	}
	bool ai = strcmp(c->origin, "ai") == 0;
	buf_printf(b, ",\"metadata\":{\"generatedBy\":\"%s\",\"model\":\"%s\",\"promptVersion\":\"%s\",\"jobId\":\"",
		   c->origin, ai ? "gpt-4o-mini" : "builtin", PROMPT_VERSION);
	put_uuid(b, &c->job);
	buf_printf(b, "\",\"slot\":\"%s/%s/%d\",\"generatedAt\":\"", pt->type, pt->platform, variant);
	put_time(b, at);
	buf_printf(b, "\",\"tokens\":%d}", ai ? 250 + (int)rng_below(rng, 650) : 0);
}

/* The content array; item ids land in ids[0..1] for the A/B test. */
static void put_content(const struct seed *s, struct rng *rng, buf *b, const struct campaign *c, struct uuid ids[2])
{
	buf_putc(b, '[');
	for (long k = 0; k < s->o.content; k++) {
		int pair = c->mix->pairs[k % c->mix->npairs];
		int round = (int)(k / c->mix->npairs), variant = (int)rng_below(rng, NVARIANTS);
		const struct item_template *it = &(*s->tpl)[c->theme_index][pair][variant][c->persona >= 0];
		int64_t at = c->created + (k + 1) * 41000;
		struct uuid id;
		uuid_random(rng, &id);
		if (k < 2)
			ids[k] = id;
		if (k)
			buf_putc(b, ',');
		buf_putn(b, it->text, it->len);
		buf_puts(b, ",\"id\":\"");
		put_uuid(b, &id);
		buf_putc(b, '"');
		put_metadata(rng, b, c, pair, round, at);
		buf_puts(b, ",\"createdAt\":\"");
		put_time(b, at);
		buf_puts(b, "\",\"updatedAt\":\"");
		put_time(b, at);
		buf_puts(b, "\"}");
	}
	buf_putc(b, ']');
}

static void put_ab_tests(const struct seed *s, struct rng *rng, buf *b, const struct campaign *c, const struct uuid ids[2])
{
	if (s->o.content < 2 || !rng_percent(rng, 15)) {
		buf_puts(b, "[]");
		return;
	}
	static const char *const states[] = { "draft", "running", "completed" };
	const char *state = states[rng_below(rng, 3)];
	buf_puts(b, "[{\"id\":\"");
	put_new_uuid(b, rng);
	buf_printf(b, "\",\"testName\":\"%s vs %s\",\"testType\":\"content\",\"status\":\"%s\",\"variantA\":{\"contentId\":\"",
		   pair_templates[c->mix->pairs[0]][0].platform, pair_templates[c->mix->pairs[1 % c->mix->npairs]][0].platform,
		   state);
	put_uuid(b, &ids[0]);
	buf_puts(b, "\",\"description\":\"Variant A\",\"content\":null},\"variantB\":{\"contentId\":\"");
	put_uuid(b, &ids[1]);
	buf_printf(b, "\",\"description\":\"Variant B\",\"content\":null},\"winner\":%s,\"startDate\":\"",
		   strcmp(state, "completed") == 0 ? (rng_percent(rng, 50) ? "\"A\"" : "\"B\"") : "null");
	put_date(b, c->created + 86400000);
	buf_puts(b, "\",\"endDate\":null}]");
}

static void put_settings(struct rng *rng, buf *b, const struct campaign *c)
{
	if (rng_percent(rng, 10)) {
		buf_puts(b, "{}");
		return;
	}
	const char *extra = instructions[rng_below(rng, sizeof(instructions) / sizeof(instructions[0]))];
	buf_printf(b, "{\"contentTypes\":%s,\"platforms\":%s,\"creativityLevel\":%d,\"includeVisuals\":false,"
		      "\"customInstructions\":%s%s%s,\"variations\":%d}",
		   c->mix->types, c->mix->platforms, 3 + (int)rng_below(rng, 6),
		   extra ? "\"" : "", extra ? extra : "null", extra ? "\"" : "",
		   1 + (int)rng_below(rng, 3));
}

static void put_budget(struct rng *rng, buf *b)
{
	uint32_t pick = rng_below(rng, 100), acc = 0;
	size_t i = 0;
	while (i + 1 < sizeof(currencies) / sizeof(currencies[0]) && pick >= acc + (uint32_t)currencies[i].percent)
		acc += (uint32_t)currencies[i++].percent;
	if (rng_percent(rng, 15)) {
		buf_printf(b, "\\N\t%s\t", currencies[i].code);
		return;
	}
	static const double decades[] = { 100, 1000, 10000, 25000 }; /* roughly log-uniform, 100 to 250,000 */
	double amount = decades[rng_below(rng, 4)] * (1 + 9 * rng_unit(rng)) * currencies[i].factor;
	if (currencies[i].whole)
		buf_printf(b, "%.0f\t%s\t", amount, currencies[i].code);
	else
		buf_printf(b, "%.2f\t%s\t", amount, currencies[i].code);
}

static void campaign_plan(const struct seed *s, struct rng *rng, long g, struct campaign *c)
{
	const struct seed_opts *o = &s->o;
	c->user = s->owner[g];
	c->persona = o->personas && rng_percent(rng, 80) ? (int)rng_below(rng, (uint32_t)o->personas) : -1;
	int pick = o->personas ? (int)rng_below(rng, (uint32_t)o->personas) : -1;
	c->theme_index = c->persona >= 0 ? s->persona_theme[c->user * o->personas + c->persona]
			 : pick >= 0	 ? s->persona_theme[c->user * o->personas + pick]
					 : (int)rng_below(rng, NTHEMES);
	c->theme = &themes[c->theme_index];
	c->mix = &mixes[rng_below(rng, NMIXES)];
	/* created_at grows with the row order, as in a table filled over time */
	int64_t step = (s->now_ms - s->span_start_ms) / (s->total ? s->total : 1);
	c->created = s->span_start_ms + g * step + (step > 1 ? (int64_t)rng_below(rng, (uint32_t)step) : 0);
	int64_t last_item = c->created + (o->content + 1) * 41000;
	int64_t room = s->now_ms - last_item;
	c->updated = last_item + (room > 0 ? (int64_t)(rng_unit(rng) * (double)(room < 2592000000 ? room : 2592000000)) : 0);
	uint32_t who = rng_below(rng, 100);
	c->origin = who < 55 ? "ai" : who < 80 ? "builtin" : "manual";
	uuid_random(rng, &c->job);
}

static void put_campaign_row(const struct seed *s, struct rng *rng, buf *b, long g)
{
	struct campaign c;
	campaign_plan(s, rng, g, &c);
	const struct theme *t = c.theme;
	put_new_uuid(b, rng);
	buf_putc(b, '\t');
	put_uuid(b, &s->users[c.user]);
	buf_putc(b, '\t');
	if (c.persona >= 0)
		put_uuid(b, &s->personas[c.user * s->o.personas + c.persona]);
	else
		buf_putn(b, "\\N", 2);
	const char *prefix = name_prefixes[rng_below(rng, sizeof(name_prefixes) / sizeof(name_prefixes[0]))];
	buf_printf(b, "\t%s %s %s", prefix, t->product, name_suffixes[rng_below(rng, sizeof(name_suffixes) / sizeof(name_suffixes[0]))]);
	if (rng_percent(rng, 30))
		buf_printf(b, " %d", 2024 + (int)rng_below(rng, 3));
	buf_printf(b, "\t%s", t->product);
	buf_printf(b, "\t%s campaign for %s, aimed at %s. Key message: %s. Offer: %s.\t%s\t", prefix, t->product,
		   t->audience, t->benefit, t->offer, objectives[rng_below(rng, 3)]);
	uint32_t st = rng_below(rng, 100);
	buf_puts(b, st < 30 ? "draft\t" : st < 72 ? "active\t" : "completed\t");
	put_budget(rng, b);
	if (rng_percent(rng, 80)) {
		int64_t start = c.created + (int64_t)rng_below(rng, 21) * 86400000;
		put_date(b, start);
		buf_putc(b, '\t');
		if (rng_percent(rng, 75))
			put_date(b, start + (7 + (int64_t)rng_below(rng, 84)) * 86400000);
		else
			buf_putn(b, "\\N", 2);
	} else {
		buf_putn(b, "\\N\t\\N", 5);
	}
	buf_putc(b, '\t');
	put_opt(b, tones[rng_below(rng, sizeof(tones) / sizeof(tones[0]))]);
	buf_putc(b, '\t');
	put_opt(b, rng_percent(rng, 90) ? t->keywords : NULL);
	buf_putc(b, '\t');
	struct uuid ids[2];
	put_content(s, rng, b, &c, ids);
	buf_putc(b, '\t');
	put_ab_tests(s, rng, b, &c, ids);
	buf_putc(b, '\t');
	put_settings(rng, b, &c);
	buf_putc(b, '\t');
	put_time(b, c.created);
	buf_putc(b, '\t');
	put_time(b, c.updated);
	buf_putc(b, '\n');
}

/* ---- connections and their threads ------------------------------------- */

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

/* A connection and the thread that drives it. */
struct loader {
	struct seed *s;
	db *db;
	struct rng rng;
	struct copy c;
	void *job; /* what the current parallel step works on */
	pthread_t thread;
	char err[512];
	int rc;
};

static bool stopping(const struct seed *s)
{
	return interrupted || atomic_load(&s->failed);
}

/*
 * Runs fn on up to n loaders at once and calls tick every 50 ms until all are
 * done. 0, or the first loader's error (its message in s->err).
 */
static int run_parallel(struct seed *s, const char *what, int n, void *job, void *(*fn)(void *),
			void (*tick)(void *job, void *arg), void *arg)
{
	int started = 0, rc = 0;
	atomic_store(&s->running, n);
	for (int i = 0; i < n; i++) {
		struct loader *l = &s->loaders[i];
		l->job = job;
		l->rc = 0;
		if (pthread_create(&l->thread, NULL, fn, l) != 0) {
			atomic_store(&s->failed, 1);
			atomic_fetch_sub(&s->running, n - i);
			rc = fail(s, -EAGAIN, what, "could not start a thread");
			break;
		}
		started++;
	}
	while (atomic_load(&s->running) > 0) {
		if (tick)
			tick(job, arg);
		usleep(50000);
	}
	for (int i = 0; i < started; i++) {
		pthread_join(s->loaders[i].thread, NULL);
		if (rc == 0 && s->loaders[i].rc < 0)
			rc = fail(s, s->loaders[i].rc, what, s->loaders[i].err);
	}
	return rc;
}

static void loader_done(struct loader *l)
{
	if (l->rc < 0)
		atomic_store(&l->s->failed, 1);
	atomic_fetch_sub(&l->s->running, 1);
}

/* ---- loading: one COPY stream per connection ---------------------------- */

typedef void (*row_fn)(const struct seed *s, struct rng *rng, buf *b, long i);

/* One table being loaded: loaders take batches of rows [next, next + batch) until none is left. */
struct table_load {
	const char *copy_sql;
	long n;
	row_fn put_row;
	atomic_long next;
	atomic_long sent; /* rows handed to libpq, for the progress display */
};

static int copy_batch(struct loader *l, struct table_load *t, long lo, long hi)
{
	int rc = copy_begin(&l->c, t->copy_sql);
	if (rc < 0)
		return rc;
	for (long i = lo; i < hi && rc == 0; i++) {
		t->put_row(l->s, &l->rng, &l->c.b, i);
		rc = copy_maybe_flush(&l->c);
		if ((i & 255) == 255) {
			atomic_fetch_add(&t->sent, 256);
			if (stopping(l->s))
				rc = copy_fail(&l->c, "COPY", "interrupted");
		}
	}
	int end = copy_end(&l->c, rc < 0);
	if (rc == 0 && end == 0)
		atomic_fetch_add(&t->sent, hi - lo - (hi / 256 - lo / 256) * 256);
	return rc < 0 ? rc : end;
}

static void *load_main(void *arg)
{
	struct loader *l = arg;
	struct table_load *t = l->job;
	long batch = l->s->o.batch;
	while (l->rc == 0 && !stopping(l->s)) {
		long lo = atomic_fetch_add(&t->next, batch);
		if (lo >= t->n)
			break;
		l->rc = copy_batch(l, t, lo, lo + batch < t->n ? lo + batch : t->n);
	}
	loader_done(l);
	return NULL;
}

static void load_tick(void *job, void *arg)
{
	progress_update(arg, atomic_load(&((struct table_load *)job)->sent));
}

/* Loads rows [0, n) of one table over every connection at once, showing progress; 0 or the first error. */
static int load_table(struct seed *s, const char *what, const char *copy_sql, long n, row_fn put_row)
{
	struct table_load t = { .copy_sql = copy_sql, .n = n, .put_row = put_row };
	long batches = (n + s->o.batch - 1) / s->o.batch;
	struct progress p;
	progress_start(&p, what, n);
	int rc = run_parallel(s, what, batches < s->o.jobs ? (int)batches : (int)s->o.jobs, &t, load_main, load_tick, &p);
	if (rc == 0 && interrupted)
		rc = fail(s, -EINTR, what, "interrupted");
	if (rc == 0)
		progress_finish(&p);
	else if (p.tty)
		fputc('\n', stderr);
	return rc;
}

static int exec(struct seed *s, db *d, arena *a, const char *sql, PGresult **ret)
{
	PGresult *dummy;
	int r = db_exec_sql(d, a, sql, ret ? ret : &dummy);
	return r < 0 ? fail(s, r, sql, db_error(d)) : 0;
}

/* ---- secondary indexes: dropped for a big load, rebuilt after ------------ */

/*
 * Keeping the table's b-tree and trigram indexes up to date row by row made
 * a load of a million campaigns two to three times slower (random pages of
 * indexes far larger than shared_buffers, each written to the WAL whole after
 * every checkpoint); building them afterwards takes seconds. The
 * jsonb GIN index is the exception (cheaper to maintain than to build), as
 * are unique and primary-key indexes (constraints). Which indexes were
 * dropped is recorded, in the same transaction as the drop, in DROPPED: if
 * the seed dies before rebuilding them, the next `adcraft seed` does it first.
 */
#define DROPPED "adcraft_seed_dropped_indexes"

static const char drop_sql[] =
	"CREATE TABLE IF NOT EXISTS " DROPPED " (name text PRIMARY KEY, definition text NOT NULL);"
	"COMMENT ON TABLE " DROPPED " IS 'Indexes of campaigns that adcraft seed dropped for a bulk load and has not"
	" rebuilt yet; the next adcraft seed rebuilds them.';"
	"INSERT INTO " DROPPED
	" SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
	"  WHERE i.indrelid = 'campaigns'::regclass AND NOT i.indisunique AND NOT i.indisprimary"
	"    AND NOT i.indisexclusion AND NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = i.indrelid"
	"    AND a.attnum = ANY (i.indkey) AND a.atttypid = 'jsonb'::regtype);"
	"DO $$ DECLARE n text; BEGIN"
	"  FOR n IN SELECT name FROM " DROPPED " LOOP EXECUTE format('DROP INDEX %I', n); END LOOP;"
	" END $$";

struct rebuild {
	PGresult *list; /* name, definition */
	atomic_int next;
};

static void *rebuild_main(void *arg)
{
	struct loader *l = arg;
	struct rebuild *rb = l->job;
	for (int i; l->rc == 0 && (i = atomic_fetch_add(&rb->next, 1)) < PQntuples(rb->list);) {
		const char *p[] = { PQgetvalue(rb->list, i, 0) };
		PGresult *res;
		arena_reset(l->c.a);
		if (db_exec_sql(l->db, l->c.a, "BEGIN", &res) < 0 ||
		    db_exec_sql(l->db, l->c.a, PQgetvalue(rb->list, i, 1), &res) < 0 ||
		    db_exec_params(l->db, l->c.a, "DELETE FROM " DROPPED " WHERE name = $1", 1, p, &res) < 0 ||
		    db_exec_sql(l->db, l->c.a, "COMMIT", &res) < 0) {
			snprintf(l->err, sizeof(l->err), "%s: %s", p[0], db_error(l->db));
			PQclear(PQexec(db_conn(l->db), "ROLLBACK"));
			l->rc = -EIO;
		}
	}
	loader_done(l);
	return NULL;
}

/* Rebuilds what DROPPED lists, over every connection at once, then drops DROPPED. */
static int indexes_rebuild(struct seed *s, db *d, arena *a, const char *why)
{
	PGresult *res;
	int r = exec(s, d, a, "SELECT to_regclass('" DROPPED "') IS NOT NULL", &res);
	if (r < 0 || strcmp(PQgetvalue(res, 0, 0), "t") != 0)
		return r;
	struct rebuild rb;
	r = exec(s, d, a, "SELECT name, definition FROM " DROPPED " ORDER BY definition LIKE '%USING gin%' DESC, name",
		 &rb.list);
	if (r < 0)
		return r;
	atomic_store(&rb.next, 0);
	int n = PQntuples(rb.list);
	double t0 = mono_s();
	fprintf(stderr, "indexes    rebuilding %d on campaigns%s ...", n, why);
	fflush(stderr);
	atomic_store(&s->failed, 0);
	r = run_parallel(s, "rebuilding indexes", n < s->o.jobs ? n : (int)s->o.jobs, &rb, rebuild_main, NULL, NULL);
	if (r == 0)
		r = exec(s, d, a, "DROP TABLE " DROPPED, NULL);
	fprintf(stderr, r == 0 ? " %.1f s\n" : " failed after %.1f s\n", mono_s() - t0);
	return r;
}

/* Drops the indexes worth rebuilding when the load at least doubles the table; 1 when it did. */
static int indexes_drop(struct seed *s, db *d, arena *a)
{
	if (s->o.keep_indexes || s->total < 100000)
		return 0;
	char sql[160];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM (SELECT FROM campaigns LIMIT %ld) AS x", s->total);
	PGresult *res;
	int r = exec(s, d, a, sql, &res);
	if (r < 0 || atol(PQgetvalue(res, 0, 0)) >= s->total)
		return r;
	r = exec(s, d, a, "BEGIN", NULL);
	if (r == 0 && (r = exec(s, d, a, drop_sql, NULL)) == 0)
		r = exec(s, d, a, "COMMIT", NULL);
	if (r < 0) {
		PQclear(PQexec(db_conn(d), "ROLLBACK"));
		return r;
	}
	return 1;
}

/* ---- sessions ------------------------------------------------------------ */

/* Session settings that make bulk loading cheaper; lz4 only if the server was built with it. */
static int session_setup(struct seed *s, db *d, arena *a, bool quiet)
{
	if (!db_connected(d))
		return fail(s, -ENOTCONN, "connect", db_error(d));
	int r = exec(s, d, a, "SET synchronous_commit = off", NULL);
	if (r == 0)
		r = exec(s, d, a, "SET maintenance_work_mem = '256MB'", NULL);
	if (r == 0 && exec(s, d, a, "SET default_toast_compression = lz4", NULL) < 0 && !quiet)
		fprintf(stderr, "adcraft seed: no lz4 on this server; TOAST uses pglz\n");
	return r;
}

static int loaders_open(struct seed *s, arena *a)
{
	s->loaders = calloc((size_t)s->o.jobs, sizeof(*s->loaders));
	if (!s->loaders)
		return fail(s, -ENOMEM, "loaders", "out of memory");
	for (long i = 0; i < s->o.jobs; i++) {
		struct loader *l = &s->loaders[i];
		*l = (struct loader){ .s = s };
		l->c = (struct copy){ .a = arena_new(COPY_CHUNK + 131072), .err = l->err, .errlen = sizeof(l->err) };
		l->db = l->c.db = db_new(s->cfg->migrate_database_url, s->cfg->database_password, false);
		int r = session_setup(s, l->db, a, i > 0);
		if (r == 0 && rng_seed(&l->rng) < 0)
			r = fail(s, -EIO, "getrandom", strerror(errno));
		if (r < 0)
			return r;
	}
	return 0;
}

static void loaders_close(struct seed *s)
{
	for (long i = 0; s->loaders && i < s->o.jobs; i++) {
		db_free(s->loaders[i].db);
		arena_free(s->loaders[i].c.a);
	}
	free(s->loaders);
}

static int alloc_plan(struct seed *s)
{
	const struct seed_opts *o = &s->o;
	s->users = calloc((size_t)o->users, sizeof(*s->users));
	s->personas = calloc((size_t)(o->users * o->personas) + 1, sizeof(*s->personas));
	s->persona_theme = calloc((size_t)(o->users * o->personas) + 1, 1);
	s->owner = calloc((size_t)s->total + 1, sizeof(*s->owner));
	if (!s->users || !s->personas || !s->persona_theme || !s->owner)
		return fail(s, -ENOMEM, "planning", "out of memory");
	for (long u = 0; u < o->users; u++) {
		uuid_random(&s->rng, &s->users[u]);
		unsigned char pool[NTHEMES];
		for (size_t t = 0; t < NTHEMES; t++)
			pool[t] = (unsigned char)t;
		for (long p = 0; p < o->personas; p++) { /* distinct themes per user */
			uint32_t j = (uint32_t)p + rng_below(&s->rng, (uint32_t)(NTHEMES - (size_t)p));
			unsigned char tmp = pool[p];
			pool[p] = pool[j];
			pool[j] = tmp;
			s->persona_theme[u * o->personas + p] = pool[p];
			uuid_random(&s->rng, &s->personas[u * o->personas + p]);
		}
	}
	long g = 0;
	for (long u = 0; u < o->users; u++)
		for (long k = 0, n = u == 0 ? o->heavy : o->campaigns; k < n; k++)
			s->owner[g++] = (uint32_t)u;
	for (long i = s->total - 1; i > 0; i--) { /* owners interleaved, as in a shared table */
		long j = (long)rng_below(&s->rng, (uint32_t)(i + 1));
		uint32_t tmp = s->owner[i];
		s->owner[i] = s->owner[j];
		s->owner[j] = tmp;
	}
	return 0;
}

static void free_plan(struct seed *s)
{
	free(s->users);
	free(s->personas);
	free(s->persona_theme);
	free(s->owner);
}

static int first_seed_number(struct seed *s, db *d, arena *a)
{
	PGresult *res;
	int r = exec(s, d, a,
		     "SELECT coalesce(max(substring(email FROM '^seed-([0-9]{1,9})@adcraft\\.test$')::bigint), 0) + 1"
		     "  FROM users WHERE email LIKE 'seed-%@adcraft.test'",
		     &res);
	if (r == 0)
		s->first_number = atol(PQgetvalue(res, 0, 0));
	return r;
}

static int run(struct seed *s, double *load_secs)
{
	arena *a = arena_new(8192);
	int r = loaders_open(s, a), dropped = 0;
	db *d = s->loaders ? s->loaders[0].db : NULL;
	if (r == 0)
		r = indexes_rebuild(s, d, a, " (left by an interrupted seed)");
	if (r == 0)
		r = first_seed_number(s, d, a);
	if (r == 0)
		r = load_table(s, "users", "COPY users (id, email, name, password_hash, created_at, updated_at) FROM STDIN",
			       s->o.users, put_user_row);
	if (r == 0)
		r = load_table(s, "personas",
			       "COPY personas (id, user_id, name, description, age_range, gender, location, occupation,"
			       " interests, pain_points, goals, preferred_channels, created_at, updated_at) FROM STDIN",
			       s->o.users * s->o.personas, put_persona_row);
	double t0 = mono_s();
	if (r == 0)
		r = dropped = indexes_drop(s, d, a);
	if (r >= 0)
		r = load_table(s, "campaigns",
			       "COPY campaigns (id, user_id, persona_id, name, product, description, objective, status, budget,"
			       " currency, start_date, end_date, tone, keywords, content, ab_tests, generation_settings,"
			       " created_at, updated_at) FROM STDIN",
			       s->total, put_campaign_row);
	if (dropped > 0) { /* whatever happened */
		if (r < 0)
			fprintf(stderr, "adcraft seed: stopping; first the indexes dropped for the load are rebuilt\n");
		int rr = indexes_rebuild(s, d, a, "");
		r = r < 0 ? r : rr;
	}
	*load_secs = mono_s() - t0;
	if (r == 0) {
		double t1 = mono_s();
		/* VACUUM too: the summary triggers rewrote each owner's few owner_summary and
		 * owner_budget rows once per campaign inside every batch's transaction, where
		 * no row version can be pruned; left to autovacuum, the dashboard read
		 * hundreds of dead versions of them for its first minutes (0.44 ms a stats
		 * call against 0.08 ms after VACUUM). */
		fprintf(stderr, "vacuum     users, personas, campaigns, owner_summary, owner_budget ...");
		fflush(stderr);
		r = exec(s, d, a, "VACUUM (ANALYZE) users, personas, campaigns, owner_summary, owner_budget", NULL);
		fprintf(stderr, " %.1f s\n", mono_s() - t1);
	}
	loaders_close(s);
	arena_free(a);
	return r;
}

/* ---- the command --------------------------------------------------------- */

static int parse_count(const char *arg, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int usage_error(const char *msg)
{
	fprintf(stderr,
		"adcraft seed: %s\n"
		"usage: adcraft seed --users N --campaigns M [--content K (2)] [--heavy-user-campaigns H (M)]\n"
		"                    [--personas P (3)] [--batch B (10000)] [--jobs J (CPUs)] [--keep-indexes]\n",
		msg);
	return 2;
}

static int parse_opts(int argc, char **argv, struct seed_opts *o)
{
	static const struct option longopts[] = {
		{ "users", required_argument, NULL, 'u' },	 { "campaigns", required_argument, NULL, 'm' },
		{ "content", required_argument, NULL, 'k' },	 { "heavy-user-campaigns", required_argument, NULL, 'H' },
		{ "personas", required_argument, NULL, 'p' },	 { "batch", required_argument, NULL, 'b' },
		{ "jobs", required_argument, NULL, 'j' },	 { "keep-indexes", no_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	*o = (struct seed_opts){ .users = -1, .campaigns = -1, .content = 2, .heavy = -1, .personas = 3,
				 .batch = 10000, .jobs = cpus < 1 ? 1 : cpus > 8 ? 8 : cpus };
	optind = 0; /* main() already ran getopt over its own options */
	int c;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'K') {
			o->keep_indexes = true;
			continue;
		}
		long *dst = c == 'u' ? &o->users : c == 'm' ? &o->campaigns : c == 'k' ? &o->content
			    : c == 'H' ? &o->heavy : c == 'p' ? &o->personas : c == 'b' ? &o->batch
			    : c == 'j' ? &o->jobs : NULL;
		long hi = c == 'k' ? 500 : c == 'p' ? (long)NTHEMES : c == 'u' ? 10000000 : c == 'j' ? 64 : MAX_TOTAL;
		if (!dst || parse_count(optarg, c == 'u' || c == 'b' || c == 'j' ? 1 : 0, hi, dst) < 0)
			return usage_error(dst ? "bad number" : "unknown option");
	}
	if (optind != argc)
		return usage_error("unexpected argument");
	if (o->users < 0 || o->campaigns < 0)
		return usage_error("--users and --campaigns are required");
	if (o->heavy < 0)
		o->heavy = o->campaigns;
	if (o->heavy + (o->users - 1) * o->campaigns > MAX_TOTAL)
		return usage_error("too many campaigns for one run");
	return 0;
}

int cmd_seed(struct config *cfg, int argc, char **argv)
{
	struct seed s = { .cfg = cfg };
	int r = parse_opts(argc, argv, &s.o);
	if (r)
		return r;
	s.total = s.o.heavy + (s.o.users - 1) * s.o.campaigns;
	s.items = s.total * s.o.content;
	s.now_ms = wall_ms();
	s.span_start_ms = s.now_ms - (int64_t)SPAN_DAYS * 86400000;
	arena *a = arena_new(1 << 20);
	s.tpl = arena_alloc(a, sizeof(*s.tpl));
	struct password_cost cost = { (uint32_t)cfg->argon2_memory_kib, (uint32_t)cfg->argon2_iterations };
	double t0 = mono_s(), load = 0;
	if (rng_seed(&s.rng) < 0)
		r = fail(&s, -EIO, "getrandom", strerror(errno));
	if (r == 0)
		r = templates_build(a, s.tpl, s.err, sizeof(s.err));
	if (r == 0 && password_hash(&cost, SEED_PASSWORD, strlen(SEED_PASSWORD), s.hash) < 0)
		r = fail(&s, -EIO, "password hash", "argon2 failed");
	if (r == 0)
		r = alloc_plan(&s);
	if (r == 0) {
		/* the first Ctrl-C stops loading and rebuilds dropped indexes; a second one ends the process */
		struct sigaction sa = { .sa_handler = on_interrupt, .sa_flags = SA_RESETHAND }, old_int, old_term;
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		r = run(&s, &load);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	double secs = mono_s() - t0;
	if (r == 0) {
		long personas = s.o.users * s.o.personas;
		printf("seeded %ld users, %ld personas, %ld campaigns, %ld content items in %.1f s\n", s.o.users, personas,
		       s.total, s.items, secs);
		printf("campaigns: %.1f s, %.0f campaigns/s (%.0f rows/s over all %ld rows)\n", load,
		       load > 0 ? s.total / load : 0, secs > 0 ? (s.o.users + personas + s.total) / secs : 0,
		       s.o.users + personas + s.total);
		printf("users seed-%ld..seed-%ld@adcraft.test, password %s; seed-%ld owns %ld campaigns\n", s.first_number,
		       s.first_number + s.o.users - 1, SEED_PASSWORD, s.first_number, s.o.heavy);
	} else {
		fprintf(stderr, "adcraft seed: %s\n", s.err);
	}
	free_plan(&s);
	arena_free(a);
	return r == 0 ? 0 : 1;
}
