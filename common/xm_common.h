/* SPDX-License-Identifier: BSD-2-Clause */
/**
 * @file
 * xm_common.h - what every public header of xmbuf shares (public KPI of
 * common/): the export macro, the options-struct idiom and the message
 * sink.  It sits below every layer:
 *
 *   port      xm_port.h     AF_XDP sockets            (umem, mbuf)
 *   mbuf      xm_mbuf.h     mbufs                     (umem)
 *   umem      xm_umem.h     the region and its zones
 *   pkt       xm_pkt.h      packet headers, on plain bytes
 *   live      xm_live.h     live-frames transmit engine
 *   common    xm_common.h   this file: nothing of ours
 *
 * Each layer includes only headers of the layers under it (in brackets
 * where that is more than this file); tests/check_layers.sh holds the
 * rules.  An application includes the header of the layer it uses; this
 * one comes along.
 */
#ifndef XM_COMMON_H
#define XM_COMMON_H

#include <stdarg.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef XM_API
#define XM_API __attribute__((visibility("default")))
#endif

/* Declare and initialise an options struct, libbpf's LIBBPF_OPTS idiom. */
#define XM_OPTS(TYPE, NAME, ...)					\
	struct TYPE NAME = ({						\
		memset(&NAME, 0, sizeof(struct TYPE));			\
		(struct TYPE){ .sz = sizeof(struct TYPE), __VA_ARGS__ }; \
	})

/* Messages: the library never prints on its own; replace the sink here. */
enum xm_print_level {
	XM_PRINT_WARN,
	XM_PRINT_INFO,
	XM_PRINT_DEBUG,
};
typedef int (*xm_print_fn_t)(enum xm_print_level level, const char *fmt,
			     va_list args);

/**
 * @brief **xm_set_print()** replaces the message sink.
 * @param fn the new sink; NULL silences the library.
 * @return the previous sink.  The default prints WARN and INFO to stderr.
 */
XM_API xm_print_fn_t xm_set_print(xm_print_fn_t fn);

/**
 * @brief **xm_version()** is the version of the library the program runs
 * with (the shared object's, which may be newer than the headers it was
 * built with).
 * @return a static string such as "0.1.0", the Version of xmbuf.pc.
 */
XM_API const char *xm_version(void);

#ifdef __cplusplus
}
#endif

#endif /* XM_COMMON_H */
