/*
 * imageref.h — container image references as podman and docker accept
 * them ("localhost/bio-tools:1.2", "docker.io/library/debian:12",
 * "ghcr.io/org/tool@sha256:<64 hex>"), checked the way the
 * distribution/reference grammar reads them:
 *
 *   reference  = name [":" tag] ["@" digest]
 *   name       = [domain "/"] component ("/" component)*
 *   domain     = label ("." label)* [":" port]   (a first part with a "."
 *                or a ":", or "localhost", is a domain)
 *   component  = [a-z0-9]+ (separator [a-z0-9]+)*, separator = "." | "_"
 *                | "__" | "-"+
 *   tag        = [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
 *   digest     = "sha256:" 64 lowercase hex digits (or another algorithm:
 *                [a-z0-9]+ ":" at least 32 hex digits)
 *
 * and a name of at most 255 characters. Pure: no lookup, no I/O.
 */
#ifndef PIPEC_IMAGEREF_H
#define PIPEC_IMAGEREF_H

#include <stdbool.h>
#include <stddef.h>

/* Whether ref is a valid reference. If not, why says what is wrong and
 * where ("the tag '' is empty", "'F' at 1: repository names are
 * lowercase"), as one sentence without a trailing period. */
bool imageref_check(const char *ref, char *why, size_t whylen);

#endif
