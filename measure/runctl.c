// SPDX-License-Identifier: MIT
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clockns.h"
#include "runctl.h"

/*
 * The one global of the CLI's run control: a signal handler has nowhere
 * else to write. A lock-free atomic int: async-signal-safe, and read by the
 * VMM's threads too.
 */
static int caught;

static void on_signal(int sig)
{
	int saved = errno;

	__atomic_store_n(&caught, sig, __ATOMIC_SEQ_CST);
	errno = saved;
}

int runctl_signal(void)
{
	return __atomic_load_n(&caught, __ATOMIC_SEQ_CST);
}

void runctl_install(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESETHAND };

	/* No SA_RESTART: a sleep in progress returns EINTR and the loop looks. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

const char *runctl_signal_name(int sig)
{
	switch (sig) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	default:
		return "signal";
	}
}

int runctl_exit_status(int sig)
{
	return 128 + sig;
}

/* Entries in a /proc directory, "." and ".." excepted; -1 if unreadable. */
static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

int runctl_final(int ret)
{
	int sig = runctl_signal();

	/*
	 * For the tests: what the process still holds when the command is
	 * done (the VMM must have joined its vCPU threads and closed its fds).
	 * The count of fds includes the one opendir() uses.
	 */
	if (getenv("PVTIME_REPORT_RESOURCES"))
		fprintf(stderr, "pvtime: resources: threads=%d fds=%d\n",
			count_entries("/proc/self/task"), count_entries("/proc/self/fd"));

	return sig ? runctl_exit_status(sig) : ret;
}

void runctl_text(FILE *out, uint64_t loops)
{
	int sig = runctl_signal();

	if (sig && loops == UINT64_MAX)
		fprintf(out, "# interrupted by %s: the figures cover what was measured\n",
			runctl_signal_name(sig));
	else if (sig)
		fprintf(out, "# interrupted by %s after %" PRIu64 " loops\n",
			runctl_signal_name(sig), loops);
}

void runctl_json(struct json *j)
{
	int sig = runctl_signal();

	if (sig)
		json_string(j, "interrupted", runctl_signal_name(sig));
}

uint64_t runctl_now_ns(void)
{
	return clock_now_ns(CLOCK_MONOTONIC);
}

void runctl_start(struct runctl *rc, const char *what, uint64_t loops,
		  uint64_t duration_ns, bool quiet)
{
	*rc = (struct runctl){
		.what = what,
		.start_ns = runctl_now_ns(),
		.duration_ns = duration_ns,
		.loops = loops,
		.progress = !quiet && isatty(STDERR_FILENO),
	};
	rc->next_draw_ns = rc->start_ns + 200000000ull;
}

static void draw(struct runctl *rc, uint64_t loops_done, uint64_t now_ns)
{
	double elapsed = (double)(now_ns - rc->start_ns) / 1e9;
	char total[64] = "";

	if (rc->duration_ns)
		snprintf(total, sizeof(total), " of %.1f s", (double)rc->duration_ns / 1e9);
	else if (rc->loops)
		snprintf(total, sizeof(total), " of %" PRIu64 " (%.0f%%)", rc->loops,
			 100.0 * (double)loops_done / (double)rc->loops);
	/* \r and erase-to-end: one line that is rewritten, cleared at the end. */
	fprintf(stderr, "\r\033[K%s: %" PRIu64 " loops%s, %.1f s", rc->what, loops_done,
		rc->duration_ns ? "" : total, elapsed);
	if (rc->duration_ns)
		fprintf(stderr, "%s", total);
	fflush(stderr);
	rc->drawn = true;
}

bool runctl_should_stop(struct runctl *rc, uint64_t loops_done, uint64_t now_ns)
{
	if (runctl_signal())
		return true;
	if (rc->duration_ns && now_ns - rc->start_ns >= rc->duration_ns)
		return true;
	if (rc->progress && now_ns >= rc->next_draw_ns) {
		draw(rc, loops_done, now_ns);
		rc->next_draw_ns = now_ns + 200000000ull;
	}
	return false;
}

void runctl_end(struct runctl *rc)
{
	if (rc->drawn) {
		fprintf(stderr, "\r\033[K");
		fflush(stderr);
	}
	rc->drawn = false;
}
