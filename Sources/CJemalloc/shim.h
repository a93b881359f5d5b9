// Debian's jemalloc (libjemalloc-dev): the gateway's allocator. Linked into the executable ahead of the C
// library, its malloc and free serve every allocation in the process (Swift's, and the C and C++
// libraries', libmodsecurity's among them).
#include <jemalloc/jemalloc.h>
