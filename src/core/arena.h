/*
 * arena.h - region allocator owned by one lifetime (a request, a job attempt).
 *
 * Everything allocated from an arena is released at once by arena_reset() or
 * arena_free(). Resources that are not memory (a PGresult, a json_object, a
 * curl handle) register a cleanup that runs, newest first, at the same moment.
 * Allocation never returns NULL: on exhaustion the arena jumps to the owner's
 * out-of-memory handler (arena_set_oom) or, without one, aborts the process.
 */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

typedef struct arena arena;
typedef void (*arena_cleanup_fn)(void *data);

/* Returns a new arena; blocks are at least block_size bytes. Aborts on OOM. */
arena *arena_new(size_t block_size);
/* Runs cleanups, releases every block; accepts NULL. */
void arena_free(arena *a);
/* Runs cleanups and keeps the first block for reuse: the per-request fast path. */
void arena_reset(arena *a);

/* Where to jump when memory runs out; NULL to abort instead. */
void arena_set_oom(arena *a, jmp_buf *env);

void *arena_alloc(arena *a, size_t n);            /* 16-byte aligned, uninitialised */
void *arena_zalloc(arena *a, size_t n);           /* zeroed */
char *arena_strdup(arena *a, const char *s);
char *arena_strndup(arena *a, const char *s, size_t n);
char *arena_printf(arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *arena_vprintf(arena *a, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Registers fn(data) to run when the arena is reset or freed. */
void arena_defer(arena *a, arena_cleanup_fn fn, void *data);

/* Bytes handed out since the last reset (for tests and metrics). */
size_t arena_used(const arena *a);
