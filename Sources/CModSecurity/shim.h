// ModSecurity v3's C API (Debian's libmodsecurity-dev): rule sets, transactions and interventions for the
// WAF. Only the C half of each header is seen here; the C++ half is behind `__cplusplus`.
#include <modsecurity/modsecurity.h>
#include <modsecurity/rules_set.h>
#include <modsecurity/transaction.h>
#include <modsecurity/intervention.h>
