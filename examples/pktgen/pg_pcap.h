/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_pcap.h - the packets of a capture file, for replay: read once
 * through libpcap (pcap_open_offline: classic pcap in either byte order
 * and precision, and pcapng), copied into one buffer in file order, with
 * their capture times in nanoseconds.
 *
 *   file --libpcap--> record 1, 2, ... --checks--> pc_buf: bytes of every
 *                                                  packet, back to back
 *                                                  pc_pkts[i]: where, how
 *                                                  long, when
 *
 * Only Ethernet (DLT_EN10MB) can be replayed; any other link type is
 * refused by its name (libpcap's).  A record cut at capture (caplen <
 * len: it cannot be sent as it was), shorter than an Ethernet header or
 * longer than the caller's limit, and a file that ends inside a record
 * (libpcap's error) are errors that name the record.  tests/fuzz/
 * fuzz_pcap.c holds the reader to that under libFuzzer.
 */
#ifndef PG_PCAP_H
#define PG_PCAP_H

#include <stddef.h>
#include <stdint.h>

#define PG_PCAP_MIN_PKT		14	/* an Ethernet header */

struct pg_pcap_pkt {
	const uint8_t *pp_data;		/* into pc_buf */
	uint32_t pp_len;		/* captured = original length */
	uint64_t pp_ts_ns;		/* capture time */
};

struct pg_pcap {
	struct pg_pcap_pkt *pc_pkts;	/* in file order */
	uint32_t pc_npkts;
	uint32_t pc_max_len;		/* longest packet */
	uint64_t pc_bytes;		/* all packets' bytes */
	uint8_t *pc_buf;		/* the packets, back to back */
	char pc_format[16];		/* "pcap" or "pcapng" */
};

/**
 * Reads a file image of len bytes (as pg_pcap_load, from memory).
 * @param max_pkts an error past this many packets
 * @param max_len longest packet accepted (the generator's frame limit)
 * @return 0; -EINVAL (bad file: err says what and where), -ENOMEM.  On
 * error *pc is empty.
 */
int pg_pcap_parse(const uint8_t *buf, size_t len, uint32_t max_pkts,
		  uint32_t max_len, struct pg_pcap *pc, char *err,
		  size_t errlen);

/**
 * Reads a file.  @return as pg_pcap_parse(), or -errno of the open (err
 * names the file either way).
 */
int pg_pcap_load(const char *path, uint32_t max_pkts, uint32_t max_len,
		 struct pg_pcap *pc, char *err, size_t errlen);

void pg_pcap_free(struct pg_pcap *pc);

#endif /* PG_PCAP_H */
