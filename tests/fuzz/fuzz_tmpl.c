/* fuzz_tmpl.c: libFuzzer target: parse arbitrary bytes as a template, render what parses */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"
#include "util.h"

static struct arena *arena;
static struct tvars *vars;

/* A small fixed scope: a few values and a loop of three rows, one nested loop. */
static void build_vars(void)
{
	static const char *const names[] = {"a", "b", "x"};

	arena = arena_new();
	vars = tvars_new(arena);
	tvars_set(vars, "a", "<A & 'a'>");
	tvars_set(vars, "b", "0");
	tvars_set(vars, "empty", "");
	tvars_set(vars, "url", "a b/c?d=e&f");
	for (int i = 0; i < 3; i++) {
		struct tvars *r = tvars_loop_add(vars, "rows");

		tvars_set_int(r, "n", i);
		tvars_set(r, names[i], "row");
		if (i == 1) {
			tvars_loop_add(r, "rows");
			tvars_set(tvars_loop_add(r, "inner"), "x", "in");
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	struct tmpl *t;
	struct buf out;
	/* an exact-size copy so reads past size are caught */
	char *text = malloc(size ? size : 1);

	if (text == NULL)
		return 0;
	if (size)
		memcpy(text, data, size);
	if (vars == NULL)
		build_vars();
	t = tmpl_parse("fuzz", text, size, "/nonexistent/tmpl-fuzz", err, sizeof(err));
	if (t != NULL) {
		buf_init(&out);
		tmpl_render(t, vars, &out);
		buf_free(&out);
		tmpl_free(t);
	} else if (memchr(err, '\0', sizeof(err)) == NULL || strncmp(err, "fuzz:", 5) != 0) {
		abort();        /* every failure must say where */
	}
	free(text);
	return 0;
}
