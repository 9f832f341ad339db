/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_pcap.c - a capture's packets through libpcap (pg_pcap.h).
 *
 * libpcap reads both formats and every variant of them (byte order,
 * micro- or nanosecond times, pcapng's blocks); what it hands out is
 * checked here before it is kept, and each error names the record.  The
 * packets are copied once, into one growing buffer; the pointers into it
 * are set when the file is done (the buffer may move while it grows).
 * From memory (the fuzz target, the unit tests), the image is a stream
 * by fmemopen() and libpcap reads it as it reads a file.
 *
 * KPI: pg_pcap_parse, pg_pcap_load, pg_pcap_free.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <pcap/pcap.h>

#include "pg_pcap.h"

#define PCAPNG_MAGIC		0x0a0d0d0au

void pg_pcap_free(struct pg_pcap *pc)
{
	free(pc->pc_pkts);
	free(pc->pc_buf);
	memset(pc, 0, sizeof(*pc));
}

/* Room for one more packet of len bytes.  @return 0 or -ENOMEM. */
static int pcap_grow(struct pg_pcap *pc, uint32_t *cap_pkts, size_t *cap_buf,
		     uint32_t len)
{
	if (pc->pc_npkts == *cap_pkts) {
		uint32_t n = *cap_pkts ? *cap_pkts * 2 : 64;
		void *p = realloc(pc->pc_pkts, n * sizeof(*pc->pc_pkts));

		if (!p)
			return -ENOMEM;
		pc->pc_pkts = p;
		*cap_pkts = n;
	}
	if (pc->pc_bytes + len > *cap_buf) {
		size_t n = *cap_buf ? *cap_buf * 2 : 65536;
		void *p;

		while (n < pc->pc_bytes + len)
			n *= 2;
		p = realloc(pc->pc_buf, n);
		if (!p)
			return -ENOMEM;
		pc->pc_buf = p;
		*cap_buf = n;
	}
	return 0;
}

/* One record: checked, then kept.  @return 0, -EINVAL or -ENOMEM. */
static int pcap_keep(struct pg_pcap *pc, const struct pcap_pkthdr *h,
		     const uint8_t *data, uint32_t max_pkts, uint32_t max_len,
		     uint32_t *cap_pkts, size_t *cap_buf, char *err,
		     size_t errlen)
{
	uint32_t rec = pc->pc_npkts + 1;
	struct pg_pcap_pkt *p;

	if (h->caplen < h->len) {
		snprintf(err, errlen, "record %u: packet cut at capture (%u of "
			 "%u bytes): cannot replay it as it was", rec,
			 h->caplen, h->len);
		return -EINVAL;
	}
	if (h->caplen < PG_PCAP_MIN_PKT) {
		snprintf(err, errlen, "record %u: %u bytes, shorter than an "
			 "Ethernet header", rec, h->caplen);
		return -EINVAL;
	}
	if (h->caplen > max_len) {
		snprintf(err, errlen, "record %u: %u-byte packet, longer than "
			 "the %u bytes this can send", rec, h->caplen, max_len);
		return -EINVAL;
	}
	if (pc->pc_npkts == max_pkts) {
		snprintf(err, errlen, "more than %u packets", max_pkts);
		return -EINVAL;
	}
	if (h->ts.tv_sec < 0 || h->ts.tv_usec < 0 ||
	    h->ts.tv_usec >= 1000000000) {
		snprintf(err, errlen, "record %u: bad timestamp", rec);
		return -EINVAL;
	}
	if (pcap_grow(pc, cap_pkts, cap_buf, h->caplen)) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	p = &pc->pc_pkts[pc->pc_npkts++];
	memcpy(pc->pc_buf + pc->pc_bytes, data, h->caplen);
	/* an offset until the buffer stops moving */
	p->pp_data = (const uint8_t *)(uintptr_t)pc->pc_bytes;
	p->pp_len = h->caplen;
	/* opened with nanosecond precision: tv_usec holds nanoseconds */
	p->pp_ts_ns = (uint64_t)h->ts.tv_sec * 1000000000ull +
		      (uint64_t)h->ts.tv_usec;
	pc->pc_bytes += h->caplen;
	if (h->caplen > pc->pc_max_len)
		pc->pc_max_len = h->caplen;
	return 0;
}

/* Every record of an open capture into pc.  @return 0 or -errno. */
static int pcap_read_all(pcap_t *pt, uint32_t max_pkts, uint32_t max_len,
			 struct pg_pcap *pc, char *err, size_t errlen)
{
	uint32_t cap_pkts = 0;
	size_t cap_buf = 0;
	int dlt = pcap_datalink(pt), rc;

	if (dlt != DLT_EN10MB) {
		const char *name = pcap_datalink_val_to_name(dlt);
		const char *desc = pcap_datalink_val_to_description(dlt);

		snprintf(err, errlen, "link type %s (%s, %d): only Ethernet "
			 "(EN10MB) can be replayed", name ? name : "unknown",
			 desc ? desc : "no description", dlt);
		return -EINVAL;
	}
	for (;;) {
		struct pcap_pkthdr *h;
		const u_char *data;

		rc = pcap_next_ex(pt, &h, &data);
		if (rc == PCAP_ERROR_BREAK)
			break;
		if (rc != 1) {
			snprintf(err, errlen, "record %u: %s", pc->pc_npkts + 1,
				 pcap_geterr(pt));
			return -EINVAL;
		}
		rc = pcap_keep(pc, h, data, max_pkts, max_len, &cap_pkts,
			       &cap_buf, err, errlen);
		if (rc)
			return rc;
	}
	if (pc->pc_npkts == 0) {
		snprintf(err, errlen, "no packets in the file");
		return -EINVAL;
	}
	for (uint32_t i = 0; i < pc->pc_npkts; i++)
		pc->pc_pkts[i].pp_data = pc->pc_buf +
					 (uintptr_t)pc->pc_pkts[i].pp_data;
	return 0;
}

/* The format by the first word, for the summary. */
static void pcap_format(struct pg_pcap *pc, const uint8_t *head, size_t n)
{
	uint32_t magic = 0;

	if (n >= 4)
		memcpy(&magic, head, 4);
	snprintf(pc->pc_format, sizeof(pc->pc_format), "%s",
		 magic == PCAPNG_MAGIC ? "pcapng" : "pcap");
}

/* Reads pt (closed here) into pc.  @return 0 or -errno; on error *pc is
 * empty. */
static int pcap_take(pcap_t *pt, uint32_t max_pkts, uint32_t max_len,
		     struct pg_pcap *pc, char *err, size_t errlen)
{
	int rc = pcap_read_all(pt, max_pkts, max_len, pc, err, errlen);

	pcap_close(pt);
	if (rc)
		pg_pcap_free(pc);
	return rc;
}

int pg_pcap_parse(const uint8_t *buf, size_t len, uint32_t max_pkts,
		  uint32_t max_len, struct pg_pcap *pc, char *err,
		  size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	pcap_t *pt;
	FILE *f;

	memset(pc, 0, sizeof(*pc));
	if (!buf || len < 4) {
		snprintf(err, errlen, "not a pcap or pcapng file: %zu bytes",
			 buf ? len : 0);
		return -EINVAL;
	}
	f = fmemopen((void *)(uintptr_t)buf, len, "rb");
	if (!f) {
		snprintf(err, errlen, "fmemopen: %s", strerror(errno));
		return -ENOMEM;
	}
	/* libpcap owns f once it opened it (pcap_close closes it); on
	 * failure it is still ours */
	pt = pcap_fopen_offline_with_tstamp_precision(f,
			PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!pt) {
		fclose(f);
		snprintf(err, errlen, "not a pcap or pcapng file libpcap can "
			 "read: %s", ebuf);
		return -EINVAL;
	}
	pcap_format(pc, buf, len);
	return pcap_take(pt, max_pkts, max_len, pc, err, errlen);
}

int pg_pcap_load(const char *path, uint32_t max_pkts, uint32_t max_len,
		 struct pg_pcap *pc, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "", why[PCAP_ERRBUF_SIZE + 128];
	uint8_t head[4] = { 0 };
	struct stat sb;
	size_t n = 0;
	pcap_t *pt;
	FILE *f;
	int rc;

	memset(pc, 0, sizeof(*pc));
	f = fopen(path, "rb");
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fileno(f), &sb) == 0 && !S_ISREG(sb.st_mode) &&
	    !S_ISFIFO(sb.st_mode)) {
		fclose(f);
		snprintf(err, errlen, "%s: not a regular file", path);
		return -EINVAL;
	}
	if (S_ISREG(sb.st_mode)) {
		n = fread(head, 1, sizeof(head), f);
		rewind(f);
	}
	if (S_ISREG(sb.st_mode) && n < 4) {
		fclose(f);
		snprintf(err, errlen, "%s: not a pcap or pcapng file: %zu "
			 "bytes", path, n);
		return -EINVAL;
	}
	pt = pcap_fopen_offline_with_tstamp_precision(f,
			PCAP_TSTAMP_PRECISION_NANO, ebuf);
	if (!pt) {
		fclose(f);
		snprintf(err, errlen, "%s: not a pcap or pcapng file libpcap "
			 "can read: %s", path, ebuf);
		return -EINVAL;
	}
	pcap_format(pc, head, n);
	rc = pcap_take(pt, max_pkts, max_len, pc, why, sizeof(why));
	if (rc)
		snprintf(err, errlen, "%s: %s", path, why);
	return rc;
}
