/*
 * export.h — which functions libpipec exports. The library is built with
 * hidden visibility; every function of the public headers is marked
 * PIPEC_API, so a plugin or a program linking libpipec can call it and
 * nothing else of pipec's insides is reachable.
 */
#ifndef PIPEC_EXPORT_H
#define PIPEC_EXPORT_H

#if defined(__GNUC__)
#define PIPEC_API __attribute__((visibility("default")))
#else
#define PIPEC_API
#endif

#endif
