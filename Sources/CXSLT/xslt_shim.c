#include "xslt_shim.h"

#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <libexslt/exslt.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/xmlerror.h>
#include <libxslt/documents.h>
#include <libxslt/security.h>
#include <libxslt/transform.h>
#include <libxslt/xslt.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/xsltutils.h>

struct portico_xslt {
  xsltStylesheetPtr style;
};

/// What libxml2 and libxslt reported during one call, kept short: the first lines say what went wrong.
typedef struct {
  char *text;
  size_t length;
} report;

enum { report_limit = 2048 };

static void report_append(report *into, const char *text) {
  size_t count = strlen(text);
  if (into == NULL || count == 0 || into->length >= report_limit) return;
  if (into->length + count > report_limit) count = report_limit - into->length;
  char *grown = xmlRealloc(into->text, into->length + count + 1);
  if (grown == NULL) return;
  memcpy(grown + into->length, text, count);
  into->length += count;
  grown[into->length] = 0;
  into->text = grown;
}

static void report_formatted(void *context, const char *format, ...) {
  char line[1024];
  va_list arguments;
  va_start(arguments, format);
  vsnprintf(line, sizeof line, format, arguments);
  va_end(arguments);
  report_append(context, line);
}

static void report_structured(void *context, xmlErrorPtr error) {
  if (error == NULL || error->level == XML_ERR_WARNING) return;
  char line[1200];
  snprintf(line, sizeof line, "line %d: %s", error->line, error->message ? error->message : "error\n");
  report_append(context, line);
}

/// Where libxslt's process-wide error function writes on this thread: the report of the call in
/// progress, or nowhere.
static __thread report *thread_report;

static void report_to_thread(void *context, const char *format, ...) {
  (void)context;
  if (thread_report == NULL) return;
  char line[1024];
  va_list arguments;
  va_start(arguments, format);
  vsnprintf(line, sizeof line, format, arguments);
  va_end(arguments);
  report_append(thread_report, line);
}

/// Every error libxml2 and libxslt report on this thread goes to `into` (nothing to stderr). libxml2's
/// handlers are per thread; libxslt's is one for the process, set once to `report_to_thread`.
static void report_to(report *into) {
  xmlSetStructuredErrorFunc(into, into ? report_structured : NULL);
  xmlSetGenericErrorFunc(into, into ? report_formatted : NULL);
  thread_report = into;
}

static char *report_text(report *from, const char *otherwise) {
  if (from->text != NULL) {
    // Without the last newline: the caller puts the text in a sentence of its own.
    while (from->length > 0 && from->text[from->length - 1] == '\n') from->text[--from->length] = 0;
    return from->text;
  }
  size_t count = strlen(otherwise) + 1;
  char *text = xmlMalloc(count);
  if (text != NULL) memcpy(text, otherwise, count);
  return text;
}

// No entity, DTD, stylesheet import or document() reads anything: the loaders refuse every resource.
static xmlParserInputPtr refuse_entity(const char *url, const char *id, xmlParserCtxtPtr context) {
  (void)url;
  (void)id;
  (void)context;
  return NULL;
}

static xmlDocPtr refuse_document(
  const xmlChar *uri, xmlDictPtr dictionary, int options, void *context, xsltLoadType type) {
  (void)uri;
  (void)dictionary;
  (void)options;
  (void)context;
  (void)type;
  return NULL;
}

static xsltSecurityPrefsPtr forbidding;
static pthread_once_t initialized = PTHREAD_ONCE_INIT;

/// Once per process. The entity loader and libxslt's error function are process-wide: every libxml2 user in
/// the gateway loads no external entity, which is what the gateway wants everywhere.
static void initialize(void) {
  xmlInitParser();
  exsltRegisterAll();
  xmlSetExternalEntityLoader(refuse_entity);
  xsltSetLoaderFunc(refuse_document);
  xsltSetGenericErrorFunc(NULL, report_to_thread);
  forbidding = xsltNewSecurityPrefs();
  xsltSetSecurityPrefs(forbidding, XSLT_SECPREF_READ_FILE, xsltSecurityForbid);
  xsltSetSecurityPrefs(forbidding, XSLT_SECPREF_WRITE_FILE, xsltSecurityForbid);
  xsltSetSecurityPrefs(forbidding, XSLT_SECPREF_CREATE_DIRECTORY, xsltSecurityForbid);
  xsltSetSecurityPrefs(forbidding, XSLT_SECPREF_READ_NETWORK, xsltSecurityForbid);
  xsltSetSecurityPrefs(forbidding, XSLT_SECPREF_WRITE_NETWORK, xsltSecurityForbid);
}

/// A document type declaration stops the parser where it starts: no internal subset (entities, so no
/// billion laughs or quadratic blowup) and no external one is ever read.
static void refuse_doctype(void *context, const xmlChar *name, const xmlChar *public_id, const xmlChar *system_id) {
  (void)name;
  (void)public_id;
  (void)system_id;
  xmlParserCtxtPtr parser = context;
  parser->_private = (void *)1;
  xmlStopParser(parser);
}

/// Parses `text` as a document without DTDs, entities or network access; the parser's own bounds (depth,
/// node sizes) hold. NULL when it is not a well-formed document; `*doctype` says a DTD was refused.
static xmlDocPtr parse(const char *text, size_t length, int *doctype) {
  *doctype = 0;
  if (length > INT_MAX) return NULL;
  xmlParserCtxtPtr parser = xmlCreateMemoryParserCtxt(text, (int)length);
  if (parser == NULL) return NULL;
  xmlCtxtUseOptions(parser, XML_PARSE_NONET);
  parser->sax->internalSubset = refuse_doctype;
  parser->_private = NULL;
  xmlParseDocument(parser);
  xmlDocPtr document = parser->myDoc;
  *doctype = parser->_private != NULL;
  if (!parser->wellFormed || *doctype) {
    if (document != NULL) xmlFreeDoc(document);
    document = NULL;
  }
  xmlFreeParserCtxt(parser);
  return document;
}

portico_xslt *portico_xslt_compile(const char *text, size_t length, char **error) {
  pthread_once(&initialized, initialize);
  report errors = {0};
  report_to(&errors);
  portico_xslt *made = NULL;
  int doctype = 0;
  xmlDocPtr document = parse(text, length, &doctype);
  if (doctype) {
    xmlFree(errors.text);
    errors = (report){0};
    report_append(&errors, "a stylesheet may not have a document type declaration");
  }
  if (document != NULL) {
    // Named, so that libxslt's reports say "file stylesheet line N".
    document->URL = xmlStrdup((const xmlChar *)"stylesheet");
    xsltStylesheetPtr style = xsltParseStylesheetDoc(document);
    if (style == NULL) {
      xmlFreeDoc(document);
    } else if (style->errors > 0 || style->warnings > 0 || errors.length > 0) {
      // Whatever libxslt reports while compiling (an unknown xsl: instruction is only a warning to it)
      // would be a surprise at run time: the stylesheet is refused.
      xsltFreeStylesheet(style);
    } else if ((made = xmlMalloc(sizeof *made)) != NULL) {
      made->style = style;
    } else {
      xsltFreeStylesheet(style);
    }
  }
  report_to(NULL);
  if (made == NULL) {
    *error = report_text(&errors, "the stylesheet does not compile");
  } else {
    xmlFree(errors.text);
    *error = NULL;
  }
  return made;
}

void portico_xslt_free(portico_xslt *stylesheet) {
  if (stylesheet == NULL) return;
  xsltFreeStylesheet(stylesheet->style);
  xmlFree(stylesheet);
}

int portico_xslt_apply(
  const portico_xslt *stylesheet, const char *input, size_t length, char **output, size_t *output_length,
  char **error) {
  pthread_once(&initialized, initialize);
  *output = NULL;
  *output_length = 0;
  *error = NULL;
  report errors = {0};
  report_to(&errors);
  int failure = PORTICO_XSLT_OK;
  int doctype = 0;
  xmlDocPtr document = parse(input, length, &doctype);
  if (document == NULL) {
    failure = doctype ? PORTICO_XSLT_DOCTYPE : PORTICO_XSLT_MALFORMED;
    if (doctype) {
      xmlFree(errors.text);
      errors = (report){0};
    }
  } else {
    xsltTransformContextPtr context = xsltNewTransformContext(stylesheet->style, document);
    if (context == NULL) {
      failure = PORTICO_XSLT_RUNTIME;
    } else {
      xsltSetCtxtSecurityPrefs(forbidding, context);
      xsltSetTransformErrorFunc(context, &errors, report_formatted);
      xmlDocPtr result = xsltApplyStylesheetUser(stylesheet->style, document, NULL, NULL, NULL, context);
      if (result == NULL || context->state != XSLT_STATE_OK) {
        failure = PORTICO_XSLT_RUNTIME;
      } else {
        xmlChar *bytes = NULL;
        int count = 0;
        if (xsltSaveResultToString(&bytes, &count, result, stylesheet->style) != 0) {
          failure = PORTICO_XSLT_RUNTIME;
        } else {
          *output = (char *)bytes;
          *output_length = (size_t)count;
        }
      }
      if (result != NULL) xmlFreeDoc(result);
      xsltFreeTransformContext(context);
    }
    xmlFreeDoc(document);
  }
  report_to(NULL);
  if (failure == PORTICO_XSLT_OK) {
    xmlFree(errors.text);
  } else {
    const char *otherwise = failure == PORTICO_XSLT_DOCTYPE ? "a document type declaration is not accepted"
      : failure == PORTICO_XSLT_MALFORMED ? "the body is not well-formed XML"
      : "the stylesheet failed";
    *error = report_text(&errors, otherwise);
  }
  return failure;
}

const char *portico_xslt_media_type(const portico_xslt *stylesheet) {
  return (const char *)stylesheet->style->mediaType;
}

void portico_xslt_free_text(char *text) { xmlFree(text); }
