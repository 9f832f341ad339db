// SPDX-License-Identifier: BSD-2-Clause
/*
 * test_pktgen_plot.c - the plot command's parts: the JSON reader
 * (examples/pktgen/pg_json.c) takes what the tool writes and refuses
 * what is not JSON, saying where; the plotter (pg_plot.c) finds the
 * --json-stream intervals and rfc2544 results among other values and
 * writes an SVG with a line per series and a row per result, text
 * escaped (the integration test has an XML parser read a real one);
 * and the interval histograms (pg_hist_sub) are the values in between.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../../examples/pktgen/pg_json.h"
#include "../../examples/pktgen/pg_meter.h"
#include "../../examples/pktgen/pg_plot.h"

TestSuite(pktgen_plot, .timeout = 30);

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

Test(pktgen_plot, json_values_parse)
{
	const char *t = " {\"a\":[1,-2.5e3,true,false,null,\"x\\\"y\\u0041\\n\"],"
			"\"b\":{\"c\":{}} , \"d\":[]} [3]";
	struct pg_jval v;
	size_t pos = 0;
	char err[128];
	const struct pg_jval *a;

	cr_assert_eq(pg_json_parse(t, strlen(t), &pos, &v, err, sizeof(err)),
		     0, "%s", err);
	a = pg_json_get(&v, "a");
	cr_assert(a && a->t == PG_J_ARR && a->n == 6);
	cr_assert_eq(a->kids[1].num, -2500);
	cr_assert(a->kids[2].t == PG_J_BOOL && a->kids[2].b);
	cr_assert(a->kids[3].t == PG_J_BOOL && !a->kids[3].b);
	cr_assert_eq(a->kids[4].t, PG_J_NULL);
	cr_assert_str_eq(a->kids[5].str, "x\"yA\n");
	cr_assert_eq(pg_json_get(pg_json_get(&v, "b"), "c")->t, PG_J_OBJ);
	cr_assert_null(pg_json_get(&v, "zz"));
	cr_assert_eq(pg_json_num(&v, "a", 7), 7);
	pg_json_free(&v);
	/* the next value follows */
	cr_assert_eq(pg_json_parse(t, strlen(t), &pos, &v, err, sizeof(err)),
		     0);
	cr_assert(v.t == PG_J_ARR && v.n == 1 && v.kids[0].num == 3);
	pg_json_free(&v);
}

Test(pktgen_plot, bad_json_says_where)
{
	static const char *const bad[] = {
		"{", "{\"a\"}", "{\"a\":}", "[1,]", "[1 2]", "\"abc", "tru",
		"{\"a\":1,}", "-", "\"\\x\"", "\"\\u12\"", "{1:2}",
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	};

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct pg_jval v;
		size_t pos = 0;
		char err[128] = "";

		cr_assert_eq(pg_json_parse(bad[i], strlen(bad[i]), &pos, &v,
					   err, sizeof(err)), -EINVAL,
			     "'%s' accepted", bad[i]);
		cr_assert(strstr(err, "at byte"), "'%s': '%s'", bad[i], err);
		cr_assert_eq(v.n, 0);
	}
}

static const char stream[] =
	"{\"type\":\"interval\",\"t\":0.5,\"sent\":10,\"tx_pps\":20,"
	"\"received\":10,\"rx_pps\":20,\"latency_ns\":{\"count\":10,"
	"\"p50\":2000,\"p99\":9000},\"last\":false}\n"
	"{\"type\":\"interval\",\"t\":1.0,\"sent\":10,\"tx_pps\":40,"
	"\"received\":10,\"rx_pps\":39,\"latency_ns\":{\"count\":10,"
	"\"p50\":3000,\"p99\":8000},\"last\":true}\n"
	"{\"type\":\"summary\",\"command\":\"tx\",\"sent\":20}\n";

static const char rfc[] =
	"{\"program\":\"x\",\"command\":\"rfc2544\",\"results\":["
	"{\"frame_bytes\":64,\"imix\":false,\"throughput_pps\":1000,"
	"\"throughput_bps_l2\":512000,\"throughput_bps_l1\":672000,"
	"\"trials_run\":4,\"latency\":{\"latency_ns\":{\"p50\":1500,"
	"\"p99\":2500}}},"
	"{\"frame_bytes\":1518,\"imix\":false,\"throughput_pps\":10,"
	"\"throughput_bps_l2\":121440,\"throughput_bps_l1\":123040,"
	"\"trials_run\":2,\"latency\":{\"latency_ns\":{\"p50\":1,"
	"\"p99\":2}}}]}";

Test(pktgen_plot, intervals_and_rfc2544_rows_make_an_svg)
{
	struct pg_plot *p = pg_plot_new();
	char err[128], *svg = NULL;
	size_t len = 0;
	FILE *o;

	cr_assert(p);
	cr_assert_eq(pg_plot_add(p, "run<1>&", stream, strlen(stream), err,
				 sizeof(err)), 0, "%s", err);
	cr_assert_eq(pg_plot_add(p, "search", rfc, strlen(rfc), err,
				 sizeof(err)), 0, "%s", err);
	cr_assert_eq(pg_plot_points(p), 2);
	cr_assert_eq(pg_plot_rows(p), 2);
	o = open_memstream(&svg, &len);
	cr_assert(o);
	cr_assert_eq(pg_plot_write(p, o), 0);
	fclose(o);
	cr_assert(strstr(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\""));
	cr_assert(strstr(svg, "</svg>\n"));
	/* tx and rx on the rate chart, p50 and p99 on the latency chart:
	 * four lines of the first file (the second has no intervals) */
	cr_assert_eq(count(svg, "<polyline"), 4, "%s", svg);
	/* the file name escaped, never raw */
	cr_assert(strstr(svg, "run&lt;1&gt;&amp; rx pps"), "%s", svg);
	cr_assert(!strstr(svg, "run<1>"));
	/* the table's rows */
	cr_assert(strstr(svg, ">1000</text>"), "%s", svg);
	cr_assert(strstr(svg, ">0.672</text>"), "%s", svg);
	cr_assert(strstr(svg, ">1518</text>"), "%s", svg);
	free(svg);
	pg_plot_free(p);

	/* a file that is not JSON names the byte */
	p = pg_plot_new();
	cr_assert_eq(pg_plot_add(p, "bad", "{\"type\":", 8, err, sizeof(err)),
		     -EINVAL);
	cr_assert(strstr(err, "at byte 8"), "%s", err);
	pg_plot_free(p);
}

Test(pktgen_plot, interval_histograms_are_the_values_in_between)
{
	static struct pg_hist a, b, d;

	pg_hist_init(&a);
	for (uint64_t v = 100; v < 200; v++)
		pg_hist_add(&a, v);
	b = a;
	for (int i = 0; i < 99; i++)
		pg_hist_add(&b, 5000);
	pg_hist_add(&b, 90000);
	pg_hist_sub(&d, &b, &a);
	cr_assert_eq(d.h_n, 100);
	cr_assert_eq(d.h_sum, 99 * 5000 + 90000);
	/* within a bucket (1/128) of the truth */
	cr_assert_leq(d.h_min, 5000);
	cr_assert_geq(d.h_min, 5000 - 5000 / 128);
	cr_assert_geq(d.h_max, 90000);
	cr_assert_leq(d.h_max, 90000 + 90000 / 128);
	cr_assert_lt(llabs((long long)pg_hist_quantile(&d, 0.5) - 5000), 40);
	cr_assert_geq(pg_hist_quantile(&d, 0.999), 90000 - 90000 / 128);
	/* nothing in between: empty */
	pg_hist_sub(&d, &a, &a);
	cr_assert_eq(d.h_n, 0);
	cr_assert_eq(pg_hist_quantile(&d, 0.99), 0);
}
