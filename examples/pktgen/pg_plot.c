/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pg_plot.c - the plot command (pg_plot.h).
 *
 *   files --pg_json--> values --kind--> series (one per file: interval
 *                                       points in time order)
 *                                       rows (rfc2544 results)
 *         --> SVG: two charts sharing the time axis, then the table
 *
 * Axes run from 0 to a round number above the largest value (1, 2 or 5
 * times a power of ten), five or fewer ticks; time is --json-stream's
 * "t", seconds since the process began, so the trials of one rfc2544 run
 * follow each other.  Text is escaped for XML; numbers are written with
 * "%.6g" in the C locale the tool runs in, so the file is the same
 * wherever it is made.
 *
 * KPI (pg_plot.h): pg_plot_new, pg_plot_free, pg_plot_add,
 * pg_plot_points, pg_plot_rows, pg_plot_write, pg_plot_main.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xm_example.h"

#include "pg_json.h"
#include "pg_plot.h"

#define PLOT_W		960
#define CHART_H		260
#define MARGIN_L	90
#define MARGIN_R	200	/* the legend */
#define ROW_H		20
#define PLOT_FILE_MAX	(256u << 20)

struct plot_pt {
	double t, tx_pps, rx_pps, p50_us, p99_us;
	int has_tx, has_rx, has_lat;
};

struct plot_series {
	char *name;
	struct plot_pt *pts;
	size_t n, cap;
};

struct plot_row {
	char *name;
	double frame, pps, l2, l1, trials, p50, p99;
	int imix;
};

struct pg_plot {
	struct plot_series *series;
	size_t nseries;
	struct plot_row *rows;
	size_t nrows;
};

static const char *const plot_colors[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
	"#e377c2", "#17becf",
};

struct pg_plot *pg_plot_new(void)
{
	return calloc(1, sizeof(struct pg_plot));
}

void pg_plot_free(struct pg_plot *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nseries; i++) {
		free(p->series[i].name);
		free(p->series[i].pts);
	}
	for (size_t i = 0; i < p->nrows; i++)
		free(p->rows[i].name);
	free(p->series);
	free(p->rows);
	free(p);
}

size_t pg_plot_points(const struct pg_plot *p)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nseries; i++)
		n += p->series[i].n;
	return n;
}

size_t pg_plot_rows(const struct pg_plot *p)
{
	return p->nrows;
}

/* ------------------------------------------------------------- input */

static int plot_point(struct plot_series *s, const struct pg_jval *v)
{
	const struct pg_jval *lat = pg_json_get(v, "latency_ns");
	struct plot_pt *pt;

	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		struct plot_pt *np = realloc(s->pts, nc * sizeof(*np));

		if (!np)
			return -ENOMEM;
		s->pts = np;
		s->cap = nc;
	}
	pt = &s->pts[s->n++];
	memset(pt, 0, sizeof(*pt));
	pt->t = pg_json_num(v, "t", 0);
	pt->has_tx = pg_json_get(v, "tx_pps") != NULL;
	pt->tx_pps = pg_json_num(v, "tx_pps", 0);
	pt->has_rx = pg_json_get(v, "rx_pps") != NULL;
	pt->rx_pps = pg_json_num(v, "rx_pps", 0);
	pt->has_lat = lat && pg_json_num(lat, "count", 0) > 0;
	pt->p50_us = pg_json_num(lat, "p50", 0) / 1e3;
	pt->p99_us = pg_json_num(lat, "p99", 0) / 1e3;
	return 0;
}

static int plot_rows(struct pg_plot *p, const char *name,
		     const struct pg_jval *results)
{
	for (size_t i = 0; i < results->n; i++) {
		const struct pg_jval *r = &results->kids[i];
		const struct pg_jval *lat = pg_json_get(pg_json_get(r, "latency"),
							"latency_ns");
		const struct pg_jval *imix = pg_json_get(r, "imix");
		struct plot_row *nr = realloc(p->rows, (p->nrows + 1) *
					      sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		p->rows = nr;
		nr = &p->rows[p->nrows];
		memset(nr, 0, sizeof(*nr));
		nr->name = strdup(name);
		if (!nr->name)
			return -ENOMEM;
		p->nrows++;
		nr->frame = pg_json_num(r, "frame_bytes", 0);
		nr->pps = pg_json_num(r, "throughput_pps", 0);
		nr->l2 = pg_json_num(r, "throughput_bps_l2", 0) / 1e6;
		nr->l1 = pg_json_num(r, "throughput_bps_l1", 0) / 1e6;
		nr->trials = pg_json_num(r, "trials_run", 0);
		nr->p50 = pg_json_num(lat, "p50", 0);
		nr->p99 = pg_json_num(lat, "p99", 0);
		nr->imix = imix && imix->t == PG_J_BOOL && imix->b;
	}
	return 0;
}

int pg_plot_add(struct pg_plot *p, const char *name, const char *text,
		size_t len, char *err, size_t errlen)
{
	struct plot_series *s;
	size_t pos = 0;
	int rc = 0;

	s = realloc(p->series, (p->nseries + 1) * sizeof(*s));
	if (!s)
		return -ENOMEM;
	p->series = s;
	s = &p->series[p->nseries];
	memset(s, 0, sizeof(*s));
	s->name = strdup(name);
	if (!s->name)
		return -ENOMEM;
	p->nseries++;
	for (;;) {
		struct pg_jval v;
		const char *type, *cmd;
		const struct pg_jval *res;

		while (pos < len && strchr(" \t\r\n", text[pos]))
			pos++;
		if (pos >= len)
			break;
		rc = pg_json_parse(text, len, &pos, &v, err, errlen);
		if (rc)
			return rc;
		type = pg_json_str(&v, "type");
		cmd = pg_json_str(&v, "command");
		res = pg_json_get(&v, "results");
		if (type && !strcmp(type, "interval"))
			rc = plot_point(s, &v);
		else if (cmd && !strcmp(cmd, "rfc2544") && res &&
			 res->t == PG_J_ARR)
			rc = plot_rows(p, name, res);
		pg_json_free(&v);
		if (rc)
			return rc;
	}
	return 0;
}

/* ------------------------------------------------------------ output */

/* A round number at or above v: 1, 2 or 5 times a power of ten. */
static double plot_nice(double v)
{
	double e, f;

	if (!(v > 0))
		return 1;
	e = pow(10, floor(log10(v)));
	f = v / e;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * e;
}

static void plot_text(FILE *o, double x, double y, const char *anchor,
		      const char *extra, const char *s)
{
	fprintf(o, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s>", x, y,
		anchor, extra);
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", o); break;
		case '<': fputs("&lt;", o); break;
		case '>': fputs("&gt;", o); break;
		case '"': fputs("&quot;", o); break;
		default:
			/* XML 1.0 has no place for control characters */
			fputc((unsigned char)*s < 0x20 ? ' ' : *s, o);
		}
	}
	fputs("</text>\n", o);
}

static void plot_textf(FILE *o, double x, double y, const char *anchor,
		       const char *fmt, double v)
{
	char b[64];

	snprintf(b, sizeof(b), fmt, v);
	plot_text(o, x, y, anchor, "", b);
}

/* Which value of a point a chart line draws. */
enum plot_field { F_TX, F_RX, F_P50, F_P99 };

static bool plot_has(const struct plot_pt *pt, enum plot_field f)
{
	return f == F_TX ? pt->has_tx : f == F_RX ? pt->has_rx : pt->has_lat;
}

static double plot_val(const struct plot_pt *pt, enum plot_field f)
{
	return f == F_TX ? pt->tx_pps : f == F_RX ? pt->rx_pps :
	       f == F_P50 ? pt->p50_us : pt->p99_us;
}

struct plot_chart {
	const char *title, *ylabel;
	enum plot_field f[2];
	const char *fname[2];
	const char *dash[2];
};

/* One chart at y0: axes, ticks, a line per series and field, legend. */
static void plot_chart(FILE *o, const struct pg_plot *p,
		       const struct plot_chart *c, double y0, double tmax)
{
	double x0 = MARGIN_L, w = PLOT_W - MARGIN_L - MARGIN_R;
	double h = CHART_H - 60, top = y0 + 30, vmax = 0, ymax, xmax;
	double ly = top;

	for (size_t i = 0; i < p->nseries; i++)
		for (size_t k = 0; k < p->series[i].n; k++)
			for (int f = 0; f < 2; f++)
				if (plot_has(&p->series[i].pts[k], c->f[f]) &&
				    plot_val(&p->series[i].pts[k], c->f[f]) >
				    vmax)
					vmax = plot_val(&p->series[i].pts[k],
							c->f[f]);
	ymax = plot_nice(vmax);
	xmax = plot_nice(tmax);
	plot_text(o, x0, y0 + 18, "start", " font-weight=\"bold\"", c->title);
	fprintf(o, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		"fill=\"none\" stroke=\"#888\"/>\n", x0, top, w, h);
	for (int i = 0; i <= 5; i++) {
		double yv = ymax * i / 5, yy = top + h - h * i / 5;
		double xv = xmax * i / 5, xx = x0 + w * i / 5;

		fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			"y2=\"%.1f\" stroke=\"#ddd\"/>\n", x0, yy, x0 + w, yy);
		plot_textf(o, x0 - 6, yy + 4, "end", "%.6g", yv);
		plot_textf(o, xx, top + h + 16, "middle", "%.6g", xv);
	}
	plot_text(o, x0 + w / 2, top + h + 32, "middle", "", "time (s)");
	fprintf(o, "<text x=\"16\" y=\"%.1f\" text-anchor=\"middle\" "
		"transform=\"rotate(-90 16 %.1f)\">%s</text>\n", top + h / 2,
		top + h / 2, c->ylabel);
	for (size_t i = 0; i < p->nseries; i++) {
		const struct plot_series *s = &p->series[i];
		const char *col = plot_colors[i % (sizeof(plot_colors) /
						   sizeof(plot_colors[0]))];

		for (int f = 0; f < 2; f++) {
			char label[300];
			size_t drawn = 0;

			for (size_t k = 0; k < s->n; k++) {
				const struct plot_pt *pt = &s->pts[k];

				if (!plot_has(pt, c->f[f]))
					continue;
				if (!drawn++)
					fprintf(o, "<polyline fill=\"none\" "
						"stroke=\"%s\" stroke-width="
						"\"1.5\"%s points=\"", col,
						c->dash[f]);
				fprintf(o, "%.1f,%.1f ",
					x0 + w * pt->t / xmax,
					top + h - h * plot_val(pt, c->f[f]) /
					ymax);
			}
			if (!drawn)
				continue;
			fputs("\"/>\n", o);
			fprintf(o, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
				"y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\""
				"%s/>\n", x0 + w + 10, ly - 4, x0 + w + 30,
				ly - 4, col, c->dash[f]);
			snprintf(label, sizeof(label), "%s %s", s->name,
				 c->fname[f]);
			plot_text(o, x0 + w + 34, ly, "start",
				  " font-size=\"11\"", label);
			ly += 16;
		}
	}
}

static void plot_table(FILE *o, const struct pg_plot *p, double y0)
{
	static const char *const head[] = {
		"file", "frame bytes", "throughput pps", "L2 Mbit/s",
		"L1 Mbit/s", "trials", "latency p50 ns", "latency p99 ns",
	};
	static const double col[] = { 20, 300, 400, 520, 620, 720, 780, 880 };
	double y = y0 + 18;

	plot_text(o, 20, y, "start", " font-weight=\"bold\"",
		  "RFC 2544 throughput (highest rate carried within the loss "
		  "tolerance) and latency at it");
	y += ROW_H + 4;
	for (int i = 0; i < 8; i++)
		plot_text(o, col[i], y, i ? "end" : "start",
			  " font-weight=\"bold\"", head[i]);
	fprintf(o, "<line x1=\"20\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" "
		"stroke=\"#888\"/>\n", y + 5, PLOT_W - 20, y + 5);
	for (size_t r = 0; r < p->nrows; r++) {
		const struct plot_row *w = &p->rows[r];
		char b[64];

		y += ROW_H;
		plot_text(o, col[0], y, "start", "", w->name);
		snprintf(b, sizeof(b), "%.0f%s", w->frame, w->imix ? " (IMIX)" :
			 "");
		plot_text(o, col[1], y, "end", "", b);
		plot_textf(o, col[2], y, "end", "%.0f", w->pps);
		plot_textf(o, col[3], y, "end", "%.3f", w->l2);
		plot_textf(o, col[4], y, "end", "%.3f", w->l1);
		plot_textf(o, col[5], y, "end", "%.0f", w->trials);
		plot_textf(o, col[6], y, "end", "%.0f", w->p50);
		plot_textf(o, col[7], y, "end", "%.0f", w->p99);
	}
}

int pg_plot_write(const struct pg_plot *p, FILE *o)
{
	static const struct plot_chart rate = {
		"Rate over time", "packets per second", { F_TX, F_RX },
		{ "tx pps", "rx pps" }, { " stroke-dasharray=\"5,3\"", "" },
	};
	static const struct plot_chart lat = {
		"Latency over time (each interval)", "latency (us)",
		{ F_P50, F_P99 }, { "p50", "p99" },
		{ "", " stroke-dasharray=\"5,3\"" },
	};
	size_t npts = pg_plot_points(p);
	double tmax = 0, y = 10, height;

	for (size_t i = 0; i < p->nseries; i++)
		for (size_t k = 0; k < p->series[i].n; k++)
			if (p->series[i].pts[k].t > tmax)
				tmax = p->series[i].pts[k].t;
	height = 20 + (npts ? 2 * CHART_H : 40) +
		 (p->nrows ? (double)(p->nrows + 3) * ROW_H : 0);
	fprintf(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		"width=\"%d\" height=\"%.0f\" viewBox=\"0 0 %d %.0f\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n"
		"<title>xmbuf-pktgen</title>\n"
		"<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		PLOT_W, height, PLOT_W, height);
	if (npts) {
		plot_chart(o, p, &rate, y, tmax);
		y += CHART_H;
		plot_chart(o, p, &lat, y, tmax);
		y += CHART_H;
	} else {
		plot_text(o, 20, y + 20, "start", "", "no --json-stream "
			  "intervals in the files: no rate or latency over "
			  "time");
		y += 40;
	}
	if (p->nrows)
		plot_table(o, p, y);
	fputs("</svg>\n", o);
	return fflush(o) || ferror(o) ? -EIO : 0;
}

/* ------------------------------------------------------------ command */

/* A whole file into memory.  @return the text (free it) or NULL. */
static char *plot_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 65536, n = 0;
	char *b = NULL;

	if (!f)
		return NULL;
	b = malloc(cap);
	while (b) {
		size_t got = fread(b + n, 1, cap - n, f);

		n += got;
		if (got == 0)
			break;
		if (n == cap) {
			char *nb = cap < PLOT_FILE_MAX ? realloc(b, cap * 2) :
				   NULL;

			if (!nb) {
				free(b);
				b = NULL;
				errno = EFBIG;
				break;
			}
			b = nb;
			cap *= 2;
		}
	}
	if (b && ferror(f)) {
		free(b);
		b = NULL;
	}
	fclose(f);
	*len = n;
	return b;
}

static int plot_usage(void)
{
	printf("usage: %s plot FILE.json... -o OUT.svg\n\n"
	       "Draws the --json-stream intervals of each FILE (tx and rx "
	       "packets per\nsecond, latency p50 and p99 over time) and the "
	       "results of rfc2544\n--json summaries (a table) as one SVG "
	       "file.\n", xm_ex_prog());
	return XM_EX_OK;
}

int pg_plot_main(int argc, char **argv)
{
	const char *out = NULL;
	struct pg_plot *p;
	int nfiles = 0, ret = XM_EX_OK;
	FILE *o;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return plot_usage();
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
			if (i + 1 == argc)
				return xm_ex_usage_error("plot: -o needs a "
							 "file name");
			out = argv[++i];
		} else if (argv[i][0] == '-' && argv[i][1]) {
			return xm_ex_usage_error("plot: invalid option '%s'",
						 argv[i]);
		} else {
			nfiles++;
		}
	}
	if (!out || !nfiles)
		return xm_ex_usage_error("plot needs FILE.json... and -o "
					 "OUT.svg");
	p = pg_plot_new();
	if (!p)
		return xm_ex_error("out of memory");
	for (int i = 1; i < argc && !ret; i++) {
		char err[256];
		size_t len;
		char *text;
		const char *base;

		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output")) {
			i++;
			continue;
		}
		text = plot_read(argv[i], &len);
		if (!text) {
			ret = xm_ex_error("%s: %s", argv[i], strerror(errno));
			break;
		}
		base = strrchr(argv[i], '/');
		if (pg_plot_add(p, base ? base + 1 : argv[i], text, len, err,
				sizeof(err)))
			ret = xm_ex_error("%s: %s", argv[i], err);
		free(text);
	}
	if (!ret && !pg_plot_points(p) && !pg_plot_rows(p))
		ret = xm_ex_error("nothing to plot: no --json-stream intervals "
				  "and no rfc2544 results in the files");
	if (!ret) {
		o = fopen(out, "w");
		if (!o)
			ret = xm_ex_error("%s: %s", out, strerror(errno));
		else if (pg_plot_write(p, o) | fclose(o))
			ret = xm_ex_error("%s: write failed", out);
	}
	pg_plot_free(p);
	return ret;
}
