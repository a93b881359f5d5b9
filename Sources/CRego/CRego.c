#include "CRego.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#define LOAD(name)                                                                                   \
  do {                                                                                               \
    *(void **)(&api->name) = dlsym(library, #name);                                                  \
    if (api->name == NULL) {                                                                         \
      snprintf(error, error_size, "%s has no %s", path, #name);                                      \
      free(api);                                                                                     \
      dlclose(library);                                                                              \
      return NULL;                                                                                   \
    }                                                                                                \
  } while (0)

const CRegoAPI *crego_load(const char *path, char *error, size_t error_size) {
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (library == NULL) {
    snprintf(error, error_size, "%s", dlerror());
    return NULL;
  }
  CRegoAPI *api = calloc(1, sizeof(CRegoAPI));
  if (api == NULL) {
    snprintf(error, error_size, "out of memory");
    dlclose(library);
    return NULL;
  }
  LOAD(regoNew);
  LOAD(regoFree);
  LOAD(regoSetLogLevel);
  LOAD(regoAddModule);
  LOAD(regoSetQuery);
  LOAD(regoBuild);
  LOAD(regoBundleOk);
  LOAD(regoFreeBundle);
  LOAD(regoSetInputTerm);
  LOAD(regoBundleQuery);
  LOAD(regoOutputOk);
  LOAD(regoOutputJSONSize);
  LOAD(regoOutputJSON);
  LOAD(regoFreeOutput);
  LOAD(regoErrorSize);
  LOAD(regoError);
  // Kept loaded for the process's life: the API points into it.
  return api;
}
