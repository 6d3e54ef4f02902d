// SPDX-License-Identifier: MIT
/* The demo's sections: which configurations, and running them in the simulator. */
#include <errno.h>
#include <stdio.h>

#include "demo.h"
#include "runctl.h"

#define DAY_S		86400ull
#define YEAR_S		(365ull * DAY_S)
#define SEARCH_MAX_S	(100 * YEAR_S)

static uint64_t abs_i64(int64_t v)
{
	return v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
}

bool demo_uptime_reaching(const struct sim_config *cfg, int64_t target_ns,
			  uint64_t max_s, uint64_t *uptime_s, int64_t *error_ns)
{
	struct sim_config c = *cfg;
	struct sim_model m;
	uint64_t lo = 0, hi = max_s;

	/* |error| grows linearly (rounding aside), so bisect on it. */
	c.uptime_s = hi;
	if (sim_model(&c, &m) || abs_i64(m.onestep_error_ns) < (uint64_t)target_ns)
		return false;
	while (lo < hi) {
		c.uptime_s = lo + (hi - lo) / 2;
		if (!sim_model(&c, &m) && abs_i64(m.onestep_error_ns) >= (uint64_t)target_ns)
			hi = c.uptime_s;
		else
			lo = c.uptime_s + 1;
	}
	c.uptime_s = lo;
	sim_model(&c, &m);
	*uptime_s = lo;
	*error_ns = m.onestep_error_ns;
	return true;
}

static void progress(struct demo *d, const struct demo_section *s)
{
	d->cells_done++;
	if (d->progress)
		fprintf(stderr, "\rpvtime demo: %3u/%u simulations (%s)%-20s", d->cells_done,
			d->cells_total, s->title, "");
}

/* sim_config.poll: a SIGINT/SIGTERM ends the simulation in progress. */
static bool stop_requested(void *ctx, uint64_t loops_done)
{
	(void)ctx;
	(void)loops_done;
	return runctl_signal() != 0;
}

static int run_row(struct demo *d, struct demo_section *s, struct demo_row *row)
{
	for (int a = 0; a < SIM_ALGOS; a++) {
		struct sim_config cfg;
		struct timerlat_report r;
		struct sim_result res;
		int ret;

		sim_config_default(&cfg);
		cfg.algo = (enum pvt_timer_algo)a;
		cfg.host_khz = s->host_khz;
		cfg.guest_khz = s->guest_khz;
		cfg.uptime_s = row->uptime_s;
		cfg.ntp_ppt = row->ntp_ppt;
		cfg.interval_ns = s->interval_ns;
		cfg.loops = s->interval_ns > 1000000000 ? 3 : d->loops;
		cfg.poll = stop_requested;
		timerlat_report_init(&r, pvt_timer_algo_name(a), cfg.interval_ns, NULL, true);
		ret = sim_run(&cfg, &r, &res);
		if (!ret) {
			row->cell[a].mean_ns = stats_mean(&r.lateness);
			row->cell[a].min_ns = stats_min(&r.lateness);
			row->cell[a].max_ns = stats_max(&r.lateness);
		}
		timerlat_report_free(&r);
		if (ret)
			return ret;
		if (runctl_signal())
			return 0;	/* this row is incomplete: demo_run() drops it */
		progress(d, s);
	}
	return 0;
}

static void add_row(struct demo_section *s, uint64_t uptime_s, int64_t ntp_ppt,
		    const char *label)
{
	if (s->row_count < DEMO_MAX_ROWS)
		s->rows[s->row_count++] = (struct demo_row){
			.uptime_s = uptime_s, .ntp_ppt = ntp_ppt, .label = label,
		};
}

/* A 100 us section over uptimes, with the uptime where legacy reaches the seed's 3.2 %. */
static void uptime_section(struct demo_section *s, const char *title, uint32_t h,
			   uint32_t g, const uint64_t *uptimes, unsigned n)
{
	struct sim_config cfg;
	struct sim_model m;

	*s = (struct demo_section){ .title = title, .host_khz = h, .guest_khz = g,
				    .interval_ns = 100000 };
	for (unsigned i = 0; i < n; i++)
		add_row(s, uptimes[i], 0, NULL);
	sim_config_default(&cfg);
	cfg.host_khz = h;
	cfg.guest_khz = g;
	if (!sim_model(&cfg, &m))
		s->advertised_khz = m.advertised_khz;
	s->seed_reached = demo_uptime_reaching(&cfg, DEMO_SEED_LATENESS_NS, SEARCH_MAX_S,
					       &s->seed_uptime_s, &s->seed_error_ns);
	for (unsigned i = 0; i < n; i++)
		if (s->seed_reached && uptimes[i] == s->seed_uptime_s)
			return;		/* already a row */
	if (s->seed_reached)
		add_row(s, s->seed_uptime_s, 0, "seed's 3.2 %");
}

static void build(struct demo *d)
{
	static const uint64_t rounded_uptimes[] = { 10, 3600, DAY_S };
	static const uint64_t exact_uptimes[] = { DAY_S, 30 * DAY_S, YEAR_S };
	uint32_t h = d->host_khz, h2 = h & ~1u;
	struct demo_section *s = d->sections;

	uptime_section(s++, "kHz-rounded scaled guest: 3 GHz on this host (VMX, frac 48)",
		       h, 3000000, rounded_uptimes, 3);
	uptime_section(s, "exactly divisible guest: guest = host / 2 (VMX, frac 48)", h2, h2 / 2,
		       exact_uptimes, 3);
	/* Found by this demo: the power-of-two case is exact, not merely close. */
	s->note = "host/2 advertises the host's own mul with shift + 1, so legacy's one-step\n"
		  "    conversion equals the guest's two-step one: no drift at all. Other exact\n"
		  "    ratios keep only the 32-bit mul rounding (<= ~0.5 ppb: slowly worse over days)";
	s++;

	*s = (struct demo_section){
		.title = "10 s timers under NTP slew (3 GHz guest, uptime 10 s)",
		.host_khz = h, .guest_khz = 3000000, .interval_ns = 10000000000ull,
		.note = "kvm lands off by interval x (guest rate error - slew); pvtime does not",
	};
	add_row(s, 10, 0, NULL);
	add_row(s, 10, 100 * 1000000ll, NULL);
	add_row(s, 10, -100 * 1000000ll, NULL);
	s->advertised_khz = d->sections[0].advertised_khz;
	s++;
	d->section_count = (unsigned)(s - d->sections);
	for (unsigned i = 0; i < d->section_count; i++)
		d->cells_total += d->sections[i].row_count * SIM_ALGOS;
}

int demo_run(struct demo *d)
{
	int ret = 0;

	build(d);
	d->interrupted = false;
	for (unsigned i = 0; !ret && i < d->section_count; i++)
		for (unsigned r = 0; !ret && r < d->sections[i].row_count; r++) {
			ret = run_row(d, &d->sections[i], &d->sections[i].rows[r]);
			if (!ret && runctl_signal()) {
				/* Interrupted: keep the rows (and sections) that were completed. */
				d->sections[i].row_count = r;
				d->section_count = r ? i + 1 : i;
				d->interrupted = true;
				break;
			}
		}
	if (d->progress)
		fprintf(stderr, "\r%-79s\r", "");
	return ret;
}

void demo_json(struct json *j, const struct demo *d)
{
	json_u64(j, "host_khz", d->host_khz);
	json_string(j, "host_khz_source", d->host_khz_source);
	json_u64(j, "loops", d->loops);
	json_array_begin(j, "sections");
	for (unsigned i = 0; i < d->section_count; i++) {
		const struct demo_section *s = &d->sections[i];

		json_object_begin(j, NULL);
		json_string(j, "title", s->title);
		json_u64(j, "host_khz", s->host_khz);
		json_u64(j, "guest_khz", s->guest_khz);
		json_u64(j, "advertised_khz", s->advertised_khz);
		json_u64(j, "interval_ns", s->interval_ns);
		if (s->seed_reached) {
			json_u64(j, "seed_uptime_s", s->seed_uptime_s);
			json_i64(j, "seed_error_ns", s->seed_error_ns);
		} else {
			json_null(j, "seed_uptime_s");
		}
		json_array_begin(j, "rows");
		for (unsigned r = 0; r < s->row_count; r++) {
			const struct demo_row *row = &s->rows[r];

			json_object_begin(j, NULL);
			json_u64(j, "uptime_s", row->uptime_s);
			json_double(j, "ntp_ppm", (double)row->ntp_ppt / 1e6);
			for (int a = 0; a < SIM_ALGOS; a++) {
				json_object_begin(j, pvt_timer_algo_name(a));
				json_double(j, "mean_lateness_ns", row->cell[a].mean_ns);
				json_double(j, "percent", row->cell[a].mean_ns * 100.0 /
					    (double)s->interval_ns);
				json_i64(j, "min_lateness_ns", row->cell[a].min_ns);
				json_i64(j, "max_lateness_ns", row->cell[a].max_ns);
				json_object_end(j);
			}
			json_object_end(j);
		}
		json_array_end(j);
		json_object_end(j);
	}
	json_array_end(j);
}
