// Debian's libxml2 and libxslt (libxml2-dev, libxslt1-dev), for XSLT transformations. Portico links the
// system libxml2 only: it does not use FoundationXML, whose own copy of libxml2 would otherwise share
// these symbols in one process.
#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxslt/xslt.h>
#include <libxslt/xsltInternals.h>
#include <libxslt/transform.h>
#include <libxslt/security.h>
#include <libxslt/xsltutils.h>
#include <libxslt/documents.h>
#include <libexslt/exslt.h>
