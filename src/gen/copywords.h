/*
 * copywords.h - reading a brief as a copywriter would, for the builtin
 * generator: which persona phrases are verb phrases and which are noun
 * phrases, how a keyword fits a sentence, what the custom instructions ask
 * to include, the register a tone calls for, headline title case.
 *
 * Every function is pure (same input, same output); strings returned are
 * arena-owned.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "arena.h"

/* How the copy addresses its reader; picked from the tone. */
enum copy_register { REG_FRIENDLY, REG_FORMAL, REG_PLAYFUL, N_REGISTERS };

/* The register a free-text tone ("professional", "playful", ...) calls for; friendly by default. */
enum copy_register copy_register_of(const char *tone);

/* A persona or keyword phrase for use mid-sentence: trimmed, no final stop, first letter lowered
 * unless the word is an acronym or a name with inner capitals ("CRM", "iPhone"). */
const char *copy_phrase(arena *a, const char *s);

/* Whether a phrase starts with a bare verb ("save time", "book more demos"). */
bool copy_is_verb_phrase(const char *s);

/*
 * A goal as a verb phrase that reads after "to" or "helps you": verb
 * phrases as they are, "To ship on time" without its "to", a gerund kept
 * going ("keep growing revenue"), a noun phrase gotten ("get more leads"),
 * the persona's own words turned to the reader's ("protect your dog").
 */
const char *copy_goal_verb_phrase(arena *a, const char *goal);

/* Whether a keyword reads as a verb phrase ("save time", "deploy faster"), not a noun phrase
 * ("sleep", "lead nurturing", "travel planning"): two words or more, a verb first, no -ing noun last. */
bool copy_is_verb_keyword(const char *kw);

/* Whether a pain point reads as a noun phrase in "Tired of ...?" and "without ...":
 * not negated ("No time for ..."), not a sentence ("I never ..."), at most max characters. */
bool copy_pain_usable(const char *pain, size_t max);

/* Comma-separated keywords, trimmed, non-empty, up to max, as copy_phrase()s; returns how many. */
size_t copy_split_keywords(arena *a, const char *keywords, const char **out, size_t max);

/*
 * What custom instructions ask the copy to include, as whole sentences in
 * the register: each quoted phrase ("No credit card required") as it is,
 * each "mention X" as a sentence about X ("Don't forget our 14-day free
 * trial."). Up to max; returns how many.
 */
size_t copy_instructions(arena *a, const char *instructions, enum copy_register reg, const char **out,
			 size_t max);

/* "a" or "an" for the word that starts s. */
const char *copy_article(const char *s);

/* Headline title case: every word capitalised but short function words (not first); words with
 * capitals of their own ("iPhone", "CRM") are kept. */
char *copy_title_case(arena *a, const char *s);

/* s with its first letter capitalised, unless the first word has capitals of its own. */
char *copy_capitalise(arena *a, const char *s);
