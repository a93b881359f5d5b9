#include "CRE2.h"

#include <re2/re2.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

struct portico_re2 {
  re2::RE2 regex;
  portico_re2(re2::StringPiece pattern, const re2::RE2::Options &options) : regex(pattern, options) {}
};

static char *copy_string(const std::string &text) {
  char *out = static_cast<char *>(std::malloc(text.size() + 1));
  if (out == nullptr) return nullptr;
  std::memcpy(out, text.data(), text.size());
  out[text.size()] = '\0';
  return out;
}

extern "C" portico_re2 *portico_re2_compile(const char *pattern, size_t length, bool ignore_case,
                                            char **error) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_case_sensitive(!ignore_case);
  // Bound the compiled program so that a hostile pattern cannot take unbounded memory.
  options.set_max_mem(8 << 20);
  auto *compiled = new portico_re2(re2::StringPiece(pattern, length), options);
  if (!compiled->regex.ok()) {
    if (error != nullptr) *error = copy_string(compiled->regex.error());
    delete compiled;
    return nullptr;
  }
  return compiled;
}

extern "C" bool portico_re2_full_match(const portico_re2 *re, const char *text, size_t length) {
  return re2::RE2::FullMatch(re2::StringPiece(text, length), re->regex);
}

extern "C" bool portico_re2_partial_match(const portico_re2 *re, const char *text, size_t length) {
  return re2::RE2::PartialMatch(re2::StringPiece(text, length), re->regex);
}

extern "C" bool portico_re2_find(const portico_re2 *re, const char *text, size_t length, size_t from,
                                  size_t *match_start, size_t *match_end) {
  re2::StringPiece input(text, length);
  re2::StringPiece match;
  if (!re->regex.Match(input, from, length, re2::RE2::UNANCHORED, &match, 1)) return false;
  *match_start = static_cast<size_t>(match.data() - text);
  *match_end = *match_start + match.size();
  return true;
}

extern "C" int portico_re2_group_count(const portico_re2 *re) { return re->regex.NumberOfCapturingGroups(); }

extern "C" bool portico_re2_full_match_group(const portico_re2 *re, const char *text, size_t length, int group,
                                             size_t *group_start, size_t *group_end) {
  if (group < 0 || group > re->regex.NumberOfCapturingGroups()) return false;
  std::vector<re2::StringPiece> groups(static_cast<size_t>(group) + 1);
  re2::StringPiece input(text, length);
  if (!re->regex.Match(input, 0, length, re2::RE2::ANCHOR_BOTH, groups.data(), group + 1)) return false;
  const re2::StringPiece &chosen = groups[static_cast<size_t>(group)];
  if (chosen.data() == nullptr) {
    *group_start = SIZE_MAX;
    *group_end = SIZE_MAX;
  } else {
    *group_start = static_cast<size_t>(chosen.data() - text);
    *group_end = *group_start + chosen.size();
  }
  return true;
}

extern "C" void portico_re2_free(portico_re2 *re) { delete re; }

extern "C" void portico_re2_free_error(char *error) { std::free(error); }

extern "C" char *portico_re2_quote(const char *text, size_t length) {
  return copy_string(re2::RE2::QuoteMeta(re2::StringPiece(text, length)));
}
