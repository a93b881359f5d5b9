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

/// The number of capturing groups in the pattern.
int portico_re2_group_count(const portico_re2 *re);

/// Whether the whole of `text` matches; if it does, the bounds of group `group` (0: the whole match) in
/// `group_start` and `group_end`, or SIZE_MAX in both when the group took no part in the match.
bool portico_re2_full_match_group(const portico_re2 *re, const char *text, size_t length, int group,
                                  size_t *group_start, size_t *group_end);

void portico_re2_free(portico_re2 *re);
void portico_re2_free_error(char *error);

/// Escapes every regex metacharacter of `text`; the caller frees the result with `portico_re2_free_error`.
char *portico_re2_quote(const char *text, size_t length);

#ifdef __cplusplus
}
#endif

#endif
