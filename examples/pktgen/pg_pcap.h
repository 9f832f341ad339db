/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_pcap.h - a bounds-checked reader of classic pcap files, for packet
 * templates (the generator replays them byte for byte).
 *
 *   file:   global header (24 bytes)  record  record  ...
 *   header: magic, version 2.4, thiszone, sigfigs, snaplen, linktype
 *   record: ts_sec, ts_frac, incl_len, orig_len (16 bytes), incl_len
 *           bytes of packet
 *
 * magic 0xa1b2c3d4 (microseconds) or 0xa1b23c4d (nanoseconds), in either
 * byte order (a file written on a big-endian host is swapped).  Only
 * Ethernet (linktype 1) can be replayed.  pcapng is recognised and
 * refused by name.
 *
 * Every length is checked against the bytes that are really there before
 * it is used; a file that ends inside a header or a packet, a packet
 * longer than the snap length or the caller's limit, a packet cut short
 * at capture (incl_len < orig_len: it cannot be replayed as it was) are
 * errors that name the record and its offset.  tests/fuzz/fuzz_pcap.c
 * holds the parser to that under libFuzzer.
 */
#ifndef PG_PCAP_H
#define PG_PCAP_H

#include <stddef.h>
#include <stdint.h>

#define PG_PCAP_LINKTYPE_ETHERNET 1
#define PG_PCAP_MIN_PKT		14	/* an Ethernet header */

struct pg_pcap_pkt {
	const uint8_t *pp_data;		/* into the buffer parsed */
	uint32_t pp_len;		/* incl_len (= orig_len) */
	uint64_t pp_ts_ns;		/* capture time */
};

struct pg_pcap {
	struct pg_pcap_pkt *pc_pkts;	/* in file order */
	uint32_t pc_npkts;
	uint32_t pc_snaplen;
	uint32_t pc_linktype;
	int pc_nsec;			/* nanosecond timestamps */
	int pc_swapped;			/* written in the other byte order */
	uint32_t pc_max_len;		/* longest packet */
	uint8_t *pc_buf;		/* file contents (pg_pcap_load) */
};

/**
 * Parses a pcap image of len bytes.  Packets point into buf, which must
 * outlive the result.
 * @param max_pkts stop with an error past this many packets
 * @param max_len longest packet accepted (the generator's frame limit)
 * @return 0; -EINVAL (bad file: err says what and where), -ENOMEM.
 * On error *pc is empty.
 */
int pg_pcap_parse(const uint8_t *buf, size_t len, uint32_t max_pkts,
		  uint32_t max_len, struct pg_pcap *pc, char *err,
		  size_t errlen);

/**
 * Reads and parses a file (at most 1 GiB).  @return as pg_pcap_parse(),
 * or -errno of the read (err names the file).
 */
int pg_pcap_load(const char *path, uint32_t max_pkts, uint32_t max_len,
		 struct pg_pcap *pc, char *err, size_t errlen);

void pg_pcap_free(struct pg_pcap *pc);

#endif /* PG_PCAP_H */
