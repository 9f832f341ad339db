// SPDX-License-Identifier: BSD-2-Clause
/*
 * version.c - the library's version, for programs that want to say which
 * xmbuf they run with (the tools' --version).  The string comes from the
 * top-level VERSION file through the Makefile, the one place the version
 * is written: xmbuf.pc, the shared library's file name and this function
 * all read it there, so they cannot disagree.
 *
 * KPI: xm_version.
 */
#include "xm_common_int.h"

#ifndef XM_LIB_VERSION
#error "XM_LIB_VERSION comes from the Makefile (the VERSION file)"
#endif

XM_API const char *xm_version(void)
{
	return XM_LIB_VERSION;
}
