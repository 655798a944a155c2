/*
 * fuzz.h - what the libFuzzer harnesses share: the entry point's prototype,
 * one arena reset after every input (so no input leaks into the next), and a
 * request whose FastCGI output stream discards what the API would send.
 */
#pragma once

#include <fcgiapp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The per-input arena: created once, reset by the harness after each input. */
static inline arena *fuzz_arena(void)
{
	static arena *a;
	if (!a)
		a = arena_new(65536);
	return a;
}

/* data[0..size) as a NUL-terminated arena string (inner NULs cut it short, as C would). */
static inline char *fuzz_cstr(arena *a, const uint8_t *data, size_t size)
{
	return arena_strndup(a, (const char *)data, size);
}

/* An output stream that accepts and drops every byte: responses go nowhere. */
static unsigned char fuzz_sink_buf[4096];

static inline void fuzz_sink_empty(FCGX_Stream *s, int close)
{
	(void)close;
	s->wrNext = fuzz_sink_buf;
}

static inline FCGX_Stream *fuzz_sink(void)
{
	static FCGX_Stream s;
	s.wrNext = fuzz_sink_buf;
	s.stop = fuzz_sink_buf + sizeof(fuzz_sink_buf);
	s.emptyBuffProc = fuzz_sink_empty;
	return &s;
}

/* A FastCGI request with no parameters whose responses are discarded. */
static inline FCGX_Request *fuzz_fcgi(void)
{
	static char *no_params[] = { NULL };
	static FCGX_Request req;
	req.out = req.err = fuzz_sink();
	req.envp = no_params;
	return &req;
}
