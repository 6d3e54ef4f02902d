/* SPDX-License-Identifier: MIT */
/*
 * The simulator's randomness: splitmix64 (Steele, Lea, Flood 2014), a
 * 64-bit state whose every seed gives a full-period, well-mixed stream.
 * Written from the published algorithm; never rand(), so output depends
 * only on --seed.
 */
#ifndef PVTIME_SIM_RNG_H
#define PVTIME_SIM_RNG_H

#include <stdint.h>

struct sim_rng {
	uint64_t state;
};

static inline void sim_rng_seed(struct sim_rng *rng, uint64_t seed)
{
	rng->state = seed;
}

static inline uint64_t sim_rng_next(struct sim_rng *rng)
{
	uint64_t z = (rng->state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [0, max] (multiply-shift: bias below 2^-64 per value). */
static inline uint64_t sim_rng_upto(struct sim_rng *rng, uint64_t max)
{
	if (max == UINT64_MAX)
		return sim_rng_next(rng);
	return (uint64_t)(((unsigned __int128)sim_rng_next(rng) * (max + 1)) >> 64);
}

#endif
