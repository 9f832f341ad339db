/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_pcap.c - the pcap reader of pg_pcap.h: no libpcap, because its
 * reader trusts a record's length enough to allocate it and says little
 * about where a file went wrong; here every field is checked against the
 * bytes left and an error names the record number and file offset.
 *
 * Two passes: the first validates and counts, the second fills the packet
 * array, so an error never leaves a half-built result.
 *
 * KPI: pg_pcap_parse, pg_pcap_load, pg_pcap_free.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pg_pcap.h"

#define PCAP_MAGIC_US		0xa1b2c3d4u
#define PCAP_MAGIC_NS		0xa1b23c4du
#define PCAPNG_MAGIC		0x0a0d0d0au
#define PCAP_HDR_LEN		24
#define PCAP_REC_LEN		16
#define PCAP_FILE_MAX		(1ull << 30)

static uint32_t rd32(const uint8_t *p, int swapped)
{
	uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
		     (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;

	if (swapped)
		v = __builtin_bswap32(v);
	return v;
}

static uint16_t rd16(const uint8_t *p, int swapped)
{
	uint16_t v = (uint16_t)(p[0] | p[1] << 8);

	return swapped ? __builtin_bswap16(v) : v;
}

void pg_pcap_free(struct pg_pcap *pc)
{
	free(pc->pc_pkts);
	free(pc->pc_buf);
	memset(pc, 0, sizeof(*pc));
}

/*
 * Walks the records; with out == NULL only validates and counts.
 * @return the number of packets, or -EINVAL with err set.
 */
static int64_t pcap_walk(const uint8_t *buf, size_t len, int swapped,
			 int nsec, uint32_t snaplen, uint32_t max_pkts,
			 uint32_t max_len, struct pg_pcap_pkt *out,
			 uint32_t *longest, char *err, size_t errlen)
{
	size_t off = PCAP_HDR_LEN;
	uint32_t n = 0;

	*longest = 0;
	while (off < len) {
		uint32_t sec, frac, incl, orig;
		size_t left = len - off;

		if (left < PCAP_REC_LEN) {
			snprintf(err, errlen, "truncated file: record %u header "
				 "at offset %zu has %zu of %d bytes", n + 1, off,
				 left, PCAP_REC_LEN);
			return -EINVAL;
		}
		sec = rd32(buf + off, swapped);
		frac = rd32(buf + off + 4, swapped);
		incl = rd32(buf + off + 8, swapped);
		orig = rd32(buf + off + 12, swapped);
		if (frac >= (nsec ? 1000000000u : 1000000u)) {
			snprintf(err, errlen, "bad record %u at offset %zu: "
				 "sub-second field %u out of range", n + 1, off,
				 frac);
			return -EINVAL;
		}
		if (incl > snaplen) {
			snprintf(err, errlen, "bad record %u at offset %zu: "
				 "%u bytes captured, more than the snap length "
				 "%u", n + 1, off, incl, snaplen);
			return -EINVAL;
		}
		if (incl < PG_PCAP_MIN_PKT) {
			snprintf(err, errlen, "bad record %u at offset %zu: "
				 "%u bytes, shorter than an Ethernet header",
				 n + 1, off, incl);
			return -EINVAL;
		}
		if (incl > max_len) {
			snprintf(err, errlen, "record %u at offset %zu: %u-byte "
				 "packet, longer than the %u bytes this can send",
				 n + 1, off, incl, max_len);
			return -EINVAL;
		}
		if (incl < orig) {
			snprintf(err, errlen, "record %u at offset %zu: packet "
				 "cut at capture (%u of %u bytes): cannot replay "
				 "it as it was", n + 1, off, incl, orig);
			return -EINVAL;
		}
		if (incl > orig) {
			snprintf(err, errlen, "bad record %u at offset %zu: %u "
				 "bytes captured of a %u-byte packet", n + 1,
				 off, incl, orig);
			return -EINVAL;
		}
		if (left - PCAP_REC_LEN < incl) {
			snprintf(err, errlen, "truncated file: record %u at "
				 "offset %zu needs %u bytes, %zu left", n + 1,
				 off, incl, left - PCAP_REC_LEN);
			return -EINVAL;
		}
		if (n == max_pkts) {
			snprintf(err, errlen, "more than %u packets", max_pkts);
			return -EINVAL;
		}
		if (out) {
			out[n].pp_data = buf + off + PCAP_REC_LEN;
			out[n].pp_len = incl;
			out[n].pp_ts_ns = (uint64_t)sec * 1000000000ull +
					  (uint64_t)frac * (nsec ? 1 : 1000);
		}
		if (incl > *longest)
			*longest = incl;
		n++;
		off += PCAP_REC_LEN + incl;
	}
	return n;
}

int pg_pcap_parse(const uint8_t *buf, size_t len, uint32_t max_pkts,
		  uint32_t max_len, struct pg_pcap *pc, char *err,
		  size_t errlen)
{
	uint32_t magic, snaplen, linktype, longest;
	int swapped, nsec;
	int64_t n;

	memset(pc, 0, sizeof(*pc));
	if (!buf && len) {
		snprintf(err, errlen, "no data");
		return -EINVAL;
	}
	if (len < 4) {
		snprintf(err, errlen, "not a pcap file: %zu bytes", len);
		return -EINVAL;
	}
	magic = rd32(buf, 0);
	if (magic == PCAPNG_MAGIC) {
		snprintf(err, errlen, "pcapng files are not supported "
			 "(convert with: editcap -F pcap IN OUT)");
		return -EINVAL;
	}
	if (magic == PCAP_MAGIC_US || magic == PCAP_MAGIC_NS) {
		swapped = 0;
	} else if (magic == __builtin_bswap32(PCAP_MAGIC_US) ||
		   magic == __builtin_bswap32(PCAP_MAGIC_NS)) {
		swapped = 1;
	} else {
		snprintf(err, errlen, "not a pcap file (magic 0x%08x)", magic);
		return -EINVAL;
	}
	nsec = rd32(buf, swapped) == PCAP_MAGIC_NS;
	if (len < PCAP_HDR_LEN) {
		snprintf(err, errlen, "truncated file: global header has %zu of "
			 "%d bytes", len, PCAP_HDR_LEN);
		return -EINVAL;
	}
	if (rd16(buf + 4, swapped) != 2 || rd16(buf + 6, swapped) != 4) {
		snprintf(err, errlen, "unsupported pcap version %u.%u (2.4 only)",
			 rd16(buf + 4, swapped), rd16(buf + 6, swapped));
		return -EINVAL;
	}
	snaplen = rd32(buf + 16, swapped);
	/* The link type sits in the low 16 bits; the rest are FCS flags. */
	linktype = rd32(buf + 20, swapped) & 0xffff;
	if (linktype != PG_PCAP_LINKTYPE_ETHERNET) {
		snprintf(err, errlen, "link type %u: only Ethernet (1) can be "
			 "replayed", linktype);
		return -EINVAL;
	}
	if (snaplen == 0)
		snaplen = UINT32_MAX;

	n = pcap_walk(buf, len, swapped, nsec, snaplen, max_pkts, max_len,
		      NULL, &longest, err, errlen);
	if (n < 0)
		return (int)n;
	if (n == 0) {
		snprintf(err, errlen, "no packets in the file");
		return -EINVAL;
	}
	pc->pc_pkts = calloc((size_t)n, sizeof(*pc->pc_pkts));
	if (!pc->pc_pkts) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pcap_walk(buf, len, swapped, nsec, snaplen, max_pkts, max_len,
		  pc->pc_pkts, &longest, err, errlen);
	pc->pc_npkts = (uint32_t)n;
	pc->pc_snaplen = snaplen;
	pc->pc_linktype = linktype;
	pc->pc_nsec = nsec;
	pc->pc_swapped = swapped;
	pc->pc_max_len = longest;
	return 0;
}

int pg_pcap_load(const char *path, uint32_t max_pkts, uint32_t max_len,
		 struct pg_pcap *pc, char *err, size_t errlen)
{
	struct stat sb;
	uint8_t *buf;
	size_t got = 0;
	int fd, rc;
	char why[200];

	memset(pc, 0, sizeof(*pc));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fd, &sb) < 0) {
		rc = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-rc));
		close(fd);
		return rc;
	}
	if (!S_ISREG(sb.st_mode) || (uint64_t)sb.st_size > PCAP_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most 1 GiB",
			 path);
		close(fd);
		return -EINVAL;
	}
	buf = malloc(sb.st_size ? (size_t)sb.st_size : 1);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)sb.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = r < 0 ? -errno : -EIO;
			snprintf(err, errlen, "%s: read: %s", path,
				 r < 0 ? strerror(-rc) : "file shrank");
			free(buf);
			close(fd);
			return rc;
		}
		got += (size_t)r;
	}
	close(fd);
	rc = pg_pcap_parse(buf, got, max_pkts, max_len, pc, why, sizeof(why));
	if (rc) {
		snprintf(err, errlen, "%s: %s", path, why);
		free(buf);
		return rc;
	}
	pc->pc_buf = buf;
	return 0;
}
