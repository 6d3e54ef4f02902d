// SPDX-License-Identifier: MIT
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "optspec.h"

#define MAX_OPTS	32
#define VAL_BASE	256

static void print_help(const char *usage, const struct optspec *opts, int n)
{
	printf("usage: %s\n\noptions:\n", usage);
	for (int k = 0; k < n; k++)
		printf("  --%-18s %s%s\n", opts[k].name, opts[k].help ? opts[k].help : "",
		       opts[k].required ? " (required)" : "");
	printf("  --%-18s %s\n  --%-18s %s\n", "json", "one JSON object on stdout", "help",
	       "this text");
}

static int take_value(struct optspec *o, const char *text)
{
	char opt[80];

	snprintf(opt, sizeof(opt), "--%s", o->name);
	switch (o->kind) {
	case OPT_U64:
		if (arg_u64(opt, text, 1, o->umax, &o->u))
			return -1;
		if (o->u < o->umin) {
			if (o->umin == 1)
				usage_error("%s: must not be 0", opt);
			else
				usage_error("%s: '%s' is below the minimum %llu", opt, text,
					    (unsigned long long)o->umin);
			return -1;
		}
		break;
	case OPT_I64:
		if (arg_i64(opt, text, o->imin, o->imax, &o->i))
			return -1;
		break;
	case OPT_FRAC_BITS:
		if (arg_u64(opt, text, 0, UINT64_MAX, &o->u))
			return -1;
		if (o->u != 32 && o->u != 48) {
			usage_error("%s: '%s' must be 32 (AMD SVM) or 48 (Intel VMX)", opt, text);
			return -1;
		}
		break;
	case OPT_STRING:
		if (!text || !*text) {
			usage_error("%s: missing value", opt);
			return -1;
		}
		o->s = text;
		break;
	case OPT_FLAG:
		break;
	}
	o->set = true;
	return 0;
}

int optspec_parse(int argc, char **argv, const char *cmd, const char *usage, struct optspec *opts, int n,
		  bool *json)
{
	struct option longopts[MAX_OPTS + 3];
	int k, c;

	if (n > MAX_OPTS)
		return usage_error("internal: too many options");
	for (k = 0; k < n; k++)
		longopts[k] = (struct option){ opts[k].name,
					       opts[k].kind == OPT_FLAG ? no_argument : required_argument,
					       NULL, VAL_BASE + k };
	longopts[k++] = (struct option){ "json", no_argument, NULL, 'j' };
	longopts[k++] = (struct option){ "help", no_argument, NULL, 'h' };
	longopts[k] = (struct option){ NULL, 0, NULL, 0 };

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		if (c == 'j') {
			if (!json)
				return usage_error("%s: --json is not available here", cmd);
			*json = true;
		} else if (c == 'h') {
			print_help(usage, opts, n);
			return 1;
		} else if (c == ':') {
			return usage_error("%s: missing value", argv[optind - 1]);
		} else if (c == '?') {
			return usage_error("%s: unknown option '%s'", cmd, argv[optind - 1]);
		} else if (take_value(&opts[c - VAL_BASE], optarg)) {
			return PVT_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("%s: unexpected argument '%s'", cmd, argv[optind]);
	for (k = 0; k < n; k++)
		if (opts[k].required && !opts[k].set)
			return usage_error("--%s: missing (required by %s)", opts[k].name, cmd);
	return 0;
}

struct optspec *optspec_get(struct optspec *opts, int n, const char *name)
{
	for (int k = 0; k < n; k++)
		if (!strcmp(opts[k].name, name))
			return &opts[k];
	return NULL;
}
