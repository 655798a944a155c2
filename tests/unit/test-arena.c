/* Unit tests for src/core/arena.c */
#include <setjmp.h>
#include <stdint.h>

#include "arena.h"
#include "tap.h"

static int cleaned;
static void count_cleanup(void *p)
{
	cleaned += *(int *)p;
}

int main(void)
{
	arena *a = arena_new(1024);
	char *s = arena_strdup(a, "hello");
	is_str(s, "hello", "strdup copies");
	ok(((uintptr_t)arena_alloc(a, 3) & 15) == 0, "allocations are 16-byte aligned");
	ok(((uintptr_t)arena_alloc(a, 5) & 15) == 0, "and stay aligned");

	/* Many small and one big allocation spanning blocks. */
	for (int i = 0; i < 1000; i++)
		arena_alloc(a, 100);
	char *big = arena_alloc(a, 100000);
	memset(big, 'x', 100000);
	ok(arena_used(a) >= 200000, "used counts every allocation");
	is_str(arena_printf(a, "%d-%s", 42, "x"), "42-x", "printf formats");

	int one = 1, ten = 10;
	arena_defer(a, count_cleanup, &one);
	arena_defer(a, count_cleanup, &ten);
	arena_reset(a);
	is_int(cleaned, 11, "reset runs every cleanup once");
	is_int(arena_used(a), 0, "reset empties the arena");
	arena_reset(a);
	is_int(cleaned, 11, "a second reset runs nothing again");

	char *z = arena_zalloc(a, 64);
	int zero = 1;
	for (int i = 0; i < 64; i++)
		zero &= z[i] == 0;
	ok(zero, "zalloc zeroes");

	jmp_buf env;
	arena_set_oom(a, &env);
	volatile int jumped = 0;
	if (setjmp(env) == 0)
		arena_alloc(a, SIZE_MAX - 8);
	else
		jumped = 1;
	ok(jumped, "exhaustion jumps to the owner's handler instead of returning NULL");
	arena_set_oom(a, NULL);

	arena_free(a);
	arena_free(NULL);
	ok(1, "free accepts NULL");
	return tap_done();
}
