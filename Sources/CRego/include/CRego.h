// The part of rego-cpp's C API Portico uses, loaded at run time from its shared library (librego_shared.so,
// which PyPI's `regopy` wheel ships): the gateway runs without it, and only opaAuth steps need it.
#ifndef CREGO_H
#define CREGO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
  void *(*regoNew)(void);
  void (*regoFree)(void *rego);
  uint32_t (*regoSetLogLevel)(void *rego, uint32_t level);
  uint32_t (*regoAddModule)(void *rego, const char *name, const char *source);
  uint32_t (*regoSetQuery)(void *rego, const char *query);
  void *(*regoBuild)(void *rego);
  bool (*regoBundleOk)(void *bundle);
  void (*regoFreeBundle)(void *bundle);
  uint32_t (*regoSetInputTerm)(void *rego, const char *term);
  void *(*regoBundleQuery)(void *rego, void *bundle);
  bool (*regoOutputOk)(void *output);
  uint32_t (*regoOutputJSONSize)(void *output);
  uint32_t (*regoOutputJSON)(void *output, char *buffer, uint32_t size);
  void (*regoFreeOutput)(void *output);
  uint32_t (*regoErrorSize)(void *rego);
  uint32_t (*regoError)(void *rego, char *buffer, uint32_t size);
} CRegoAPI;

/// Loads the library at `path` (a bare file name is looked up the way the dynamic linker does) and every
/// function above. NULL when something is missing, with the reason in `error`.
const CRegoAPI *crego_load(const char *path, char *error, size_t error_size);

#endif
