// SPDX-License-Identifier: BSD-2-Clause
/*
 * xm_redirect_kf.bpf.c - one build of bpf/xm_redirect_prog.h (xm_redirect.bpf.c
 * explains the four builds).
 */
#define XM_KFUNCS 1
#include "xm_redirect_prog.h"
