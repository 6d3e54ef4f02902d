// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cyclictest.h"

int cyclictest_run(int fifo_priority, uint64_t interval_ns, uint64_t loops,
		   struct cyclictest_result *r)
{
	char cmd[256], line[512];
	bool found = false;
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd), "cyclictest -m -q -t1 -p%d -i%llu -l%llu 2>/dev/null",
		 fifo_priority, (unsigned long long)(interval_ns / 1000 ? interval_ns / 1000 : 1),
		 (unsigned long long)loops);
	p = popen(cmd, "r");
	if (!p)
		return errno ? -errno : -ENOMEM;
	while (fgets(line, sizeof(line), p)) {
		char *m = strstr(line, "Min:"), *a = strstr(line, "Avg:"), *x = strstr(line, "Max:");

		if (m && a && x) {
			r->min_us = strtod(m + 4, NULL);
			r->avg_us = strtod(a + 4, NULL);
			r->max_us = strtod(x + 4, NULL);
			found = true;
		}
	}
	status = pclose(p);
	/* The shell's 127: no such command. */
	if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 127)
		return -ENOENT;
	return status == 0 && found ? 0 : -EIO;
}
