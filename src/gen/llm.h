/*
 * llm.h - the OpenAI-compatible chat-completions protocol, without transport:
 * request bodies (prompts, JSON schemas, temperature) and response parsing.
 *
 * Pure functions over arenas, so every branch is unit-testable; generate.c
 * moves the bytes with libcurl.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "arena.h"
#include "brief.h"
#include "validate.h"

/* Body of POST {base}/chat/completions asking for brief's item (structured output, strict schema). */
const char *llm_request_body(arena *a, const char *model, const struct gen_brief *b);

/*
 * Body of the one repair request for an item that broke limits (errs says
 * which: "Shorten this copy ...") and/or used terms the brand profile forbids
 * (brand_errs, may be NULL: "Rewrite this copy ..." when errs is empty).
 */
const char *llm_repair_body(arena *a, const char *model, const struct gen_brief *b, json_object *item,
			    const struct verrors *errs, const struct verrors *brand_errs);

enum llm_verdict {
	LLM_OK,		/* *ret_item holds the item */
	LLM_RETRY,	/* worth another attempt: 408/409/429/5xx, schema break, cut off */
	LLM_FAIL,	/* never retry: 400/401/403/404/422, refusal */
};

struct llm_answer {
	enum llm_verdict verdict;
	const char *outcome;	/* for llm_usage: ok, retry, error, refused, length, schema */
	const char *error;	/* human-readable, when not OK */
	long prompt_tokens, completion_tokens;
	json_object *item;	/* arena-owned: contentType/platform from the brief plus the model's fields */
};

/* Interprets an HTTP answer (status, body). */
void llm_parse(arena *a, const struct gen_brief *b, long http_status, const char *body, size_t len,
	       struct llm_answer *out);

/* Sampling temperature for a creativity level 1..10. */
double llm_temperature(int creativity);
