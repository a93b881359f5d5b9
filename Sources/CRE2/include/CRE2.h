// A minimal C interface to RE2, the linear-time regular expression engine Envoy uses.
#ifndef PORTICO_CRE2_H
#define PORTICO_CRE2_H

#include <stddef.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct portico_re2 portico_re2;

/// Compiles `pattern`. On failure returns NULL and, if `error` is not NULL, stores a message that the
/// caller frees with `portico_re2_free_error`.
portico_re2 *portico_re2_compile(const char *pattern, size_t length, bool ignore_case, char **error);

/// True when the whole of `text` matches.
bool portico_re2_full_match(const portico_re2 *re, const char *text, size_t length);

/// True when some part of `text` matches.
bool portico_re2_partial_match(const portico_re2 *re, const char *text, size_t length);

/// The first match in `text` at or after byte `from`: its bounds in `match_start` and `match_end`.
bool portico_re2_find(const portico_re2 *re, const char *text, size_t length, size_t from,
                      size_t *match_start, size_t *match_end);

void portico_re2_free(portico_re2 *re);
void portico_re2_free_error(char *error);

/// Escapes every regex metacharacter of `text`; the caller frees the result with `portico_re2_free_error`.
char *portico_re2_quote(const char *text, size_t length);

#ifdef __cplusplus
}
#endif

#endif
