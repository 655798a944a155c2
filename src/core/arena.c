/*
 * arena.c - bump allocator in a chain of blocks, with deferred cleanups.
 *
 * Large requests get a block of their own so the common block size stays
 * small. Reset keeps the first block, so a process that serves one request
 * after another does not touch malloc on the hot path.
 */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN 16

struct block {
	struct block *next;
	size_t size;
	size_t used;
	_Alignas(ALIGN) unsigned char data[];
};

struct cleanup {
	struct cleanup *next;
	arena_cleanup_fn fn;
	void *data;
};

struct arena {
	struct block *head;	/* current block; older ones follow */
	struct block *first;	/* kept across resets */
	struct cleanup *cleanups;
	size_t block_size;
	size_t used;
	jmp_buf *oom;
};

static void __attribute__((noreturn)) arena_oom(arena *a)
{
	if (a && a->oom)
		longjmp(*a->oom, 1);
	fputs("{\"level\":\"error\",\"msg\":\"out of memory\"}\n", stderr);
	abort();
}

static struct block *block_new(arena *a, size_t size)
{
	struct block *b = malloc(sizeof(*b) + size);
	if (!b)
		arena_oom(a);
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

arena *arena_new(size_t block_size)
{
	arena *a = calloc(1, sizeof(*a));
	if (!a)
		arena_oom(NULL);
	a->block_size = block_size ? block_size : 16384;
	a->first = a->head = block_new(a, a->block_size);
	return a;
}

static void run_cleanups(arena *a)
{
	struct cleanup *c = a->cleanups;
	a->cleanups = NULL;
	for (; c; c = c->next)
		c->fn(c->data);
}

void arena_reset(arena *a)
{
	if (!a)
		return;
	run_cleanups(a);
	for (struct block *b = a->head, *next; b; b = next) {
		next = b->next;
		if (b != a->first)
			free(b);
	}
	a->head = a->first;
	a->first->next = NULL;
	a->first->used = 0;
	a->used = 0;
}

void arena_free(arena *a)
{
	if (!a)
		return;
	arena_reset(a);
	free(a->first);
	free(a);
}

void arena_set_oom(arena *a, jmp_buf *env)
{
	a->oom = env;
}

void *arena_alloc(arena *a, size_t n)
{
	size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	if (need < n)
		arena_oom(a);
	struct block *b = a->head;
	if (b->size - b->used < need) {
		if (need > a->block_size / 4) {
			/* Big allocation: its own block, behind the current one. */
			struct block *big = block_new(a, need);
			big->used = need;
			big->next = b->next;
			b->next = big;
			a->used += need;
			return big->data;
		}
		b = block_new(a, a->block_size);
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;
	b->used += need;
	a->used += need;
	return p;
}

void *arena_zalloc(arena *a, size_t n)
{
	return memset(arena_alloc(a, n), 0, n);
}

char *arena_strndup(arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(arena *a, const char *s)
{
	return s ? arena_strndup(a, s, strlen(s)) : NULL;
}

char *arena_vprintf(arena *a, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		arena_oom(a);
	char *p = arena_alloc(a, (size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *arena_printf(arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void arena_defer(arena *a, arena_cleanup_fn fn, void *data)
{
	struct cleanup *c = arena_alloc(a, sizeof(*c));
	c->fn = fn;
	c->data = data;
	c->next = a->cleanups;
	a->cleanups = c;
}

size_t arena_used(const arena *a)
{
	return a->used;
}
