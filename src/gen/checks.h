/*
 * checks.h - does a piece of copy read as broken? The word-level tests the
 * quality score (quality.c) and the builtin generator (builtin.c) share.
 *
 * Each returns NULL when the text passes, else a short static phrase saying
 * what is wrong ("ends on \"with\"", "\"for\" before the verb \"save\"").
 * English only, ASCII folding, no locale: same text, same answer.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * Truncation: the text ends on an article, preposition, conjunction,
 * possessive or auxiliary ("Get More Done With", "offer is"); ends in a cut
 * word ("autom-", "..."); has "..." anywhere when it is a headline (or a
 * subject line); or leaves a quote or bracket open. why is written into
 * buf (size n) and returned; NULL when the text is whole.
 */
const char *check_truncation(const char *text, bool headline, char *buf, size_t n);

/*
 * Grammar slips that pasted-in phrases cause: a preposition or article
 * before a bare verb ("built for save time", "around save"), "a" before a
 * vowel sound or "an" before a consonant, two determiners in a row ("the
 * your"), and the same word twice in a row ("the the"). NULL when none.
 */
const char *check_grammar(const char *text, char *buf, size_t n);

/* Either of the two: the text is broken. */
bool check_broken(const char *text, bool headline);

/* Whether word (any case, n bytes) is a common English verb in its bare form ("save", "grow"). */
bool check_is_bare_verb(const char *word, size_t n);

/* Emoji code points in text (pictographs, dingbats, flags, variation selectors not counted). */
int check_count_emoji(const char *text);

/* Links in text: "http://", "https://" and "www." occurrences. */
int check_count_links(const char *text);

/* The Flesch-Kincaid grade level of text (0 when it has no words). */
double check_reading_grade(const char *text);

/* The longest run of consecutive ALL-CAPS words of 2+ letters ("ACT NOW FREE" is 3); acronyms count too. */
int check_caps_run(const char *text);

/*
 * Repetition: a word of 4+ letters (not the product, which is passed as
 * skip, may be NULL) used more than max(3, words/20) times, or a three-word
 * phrase used twice or more. Returns how many such repeats; the worst is
 * described in buf.
 */
int check_repetition(const char *text, const char *skip, char *buf, size_t n);
