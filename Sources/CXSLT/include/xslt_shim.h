#ifndef PORTICO_XSLT_SHIM_H
#define PORTICO_XSLT_SHIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// A compiled stylesheet: read-only once made, used by any number of threads at once.
typedef struct portico_xslt portico_xslt;

/// Compiles `text`. Anything libxslt reports while compiling refuses the stylesheet, warnings included. On failure returns NULL and sets `*error` to what went wrong, with line numbers (free it with
/// `portico_xslt_free_text`).
portico_xslt *portico_xslt_compile(const char *text, size_t length, char **error);

void portico_xslt_free(portico_xslt *stylesheet);

/// Why a document could not be transformed.
enum portico_xslt_failure {
  PORTICO_XSLT_OK = 0,
  /// Not well-formed XML, or deeper than the parser allows.
  PORTICO_XSLT_MALFORMED = 1,
  /// A document type declaration: refused before any of it is read (entities, external subsets).
  PORTICO_XSLT_DOCTYPE = 2,
  /// The stylesheet failed at run time (`xsl:message terminate="yes"`, a forbidden `document()`...).
  PORTICO_XSLT_RUNTIME = 3,
};

/// Parses `input` with no DTD, no entities and no network, applies the stylesheet and serializes the
/// result as its `xsl:output` says. On success `*output` holds `*output_length` bytes (free it with
/// `portico_xslt_free_text`); otherwise `*error` says why.
int portico_xslt_apply(
  const portico_xslt *stylesheet, const char *input, size_t length, char **output, size_t *output_length,
  char **error);

/// The media type the stylesheet's `xsl:output` names, or NULL.
const char *portico_xslt_media_type(const portico_xslt *stylesheet);

void portico_xslt_free_text(char *text);

#ifdef __cplusplus
}
#endif

#endif
