// OpenLDAP's client library (Debian's libldap-dev): simple binds and base searches for the `ldap` auth mode.
#include <ldap.h>
