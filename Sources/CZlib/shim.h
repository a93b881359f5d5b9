// zlib (Debian's zlib1g-dev): inflating gzip and deflate response bodies so that DLP can mask them.
#include <zlib.h>

// inflateInit2 is a macro; Swift sees this function instead.
static inline int portico_inflate_init(z_stream *stream) {
  // 15 + 32: the largest window, with a gzip or zlib header detected from the data.
  return inflateInit2(stream, 15 + 32);
}
